// Small helpers the admin pages share.

import { ApiError } from "../../api/client";

/** The core's generic answer for a record others depend on (store.ErrInUse). */
const GENERIC_IN_USE = "other records still depend on this resource";

/** explainInUse turns the core's generic in_use refusal into one that
 * says what depends on the record; any other error passes unchanged. */
export function explainInUse(e: unknown, what: string): unknown {
  if (e instanceof ApiError && e.code === "in_use" && e.message === GENERIC_IN_USE) {
    return new ApiError(e.status, e.code, `${what} (${e.message}).`, e.field, e.requestId);
  }
  return e;
}

/** shortId is the random tail of an ID, for narrow columns. */
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(-8) : id;
}
