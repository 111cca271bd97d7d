import { errorText } from "../api/client";
import { Button } from "./Button";

interface Pager {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  isFetchNextPageError: boolean;
  error: unknown;
  fetchNextPage: () => unknown;
}

/** LoadMore fetches the next page of a cursor-paged list. */
export function LoadMore({ pager, shown }: { pager: Pager; shown: number }) {
  return (
    <div className="load-more">
      {pager.isFetchNextPageError && (
        <p className="field-error" role="alert">
          The next page did not load: {errorText(pager.error)}
        </p>
      )}
      {pager.hasNextPage ? (
        <Button busy={pager.isFetchingNextPage} onClick={() => pager.fetchNextPage()}>
          Load more
        </Button>
      ) : (
        <span className="muted small">{shown === 1 ? "1 entry" : `${shown} entries`}, no more.</span>
      )}
    </div>
  );
}
