import type { ReactNode } from "react";
import { ErrorBox, Loading } from "./feedback";

/** What QueryState reads of a TanStack query (plain or infinite). */
interface QueryLike<T> {
  isPending: boolean;
  isError: boolean;
  error: unknown;
  data: T | undefined;
  refetch: () => unknown;
}

interface QueryStateProps<T> {
  query: QueryLike<T>;
  /** The words beside the spinner while the query loads. */
  loading?: string;
  /** The title of the error box when it failed (a retry button comes with it). */
  failed: string;
  /** What shows instead of children when the data holds nothing. */
  empty?: ReactNode;
  /** When the data holds nothing: an empty list unless told otherwise. */
  isEmpty?: (data: T) => boolean;
  children: (data: T) => ReactNode;
}

/** QueryState shows a query's data region: a spinner while it loads, the
 * error with a retry when it failed, empty when there is nothing to show,
 * and otherwise children with the data. */
export function QueryState<T>({ query, loading, failed, empty, isEmpty = isEmptyList, children }: QueryStateProps<T>) {
  if (query.isPending) return <Loading label={loading} />;
  if (query.isError) return <ErrorBox error={query.error} retry={() => query.refetch()} title={failed} />;
  const data = query.data as T;
  if (empty !== undefined && isEmpty(data)) return <>{empty}</>;
  return <>{children(data)}</>;
}

function isEmptyList(data: unknown): boolean {
  return Array.isArray(data) && data.length === 0;
}
