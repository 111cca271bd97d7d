// Small pieces the admin and account pages share.

import { useEffect, useState, type ReactNode } from "react";
import { AlertTriangle, Check, Copy } from "lucide-react";
import { ApiError, errorText } from "../../api/client";
import { Button } from "../../ui/Button";

/** CopyBlock shows text to copy (a token, a command) in a code block with
 * a Copy button; the text is selectable as a fallback where the clipboard
 * is not available (plain HTTP). */
export function CopyBlock({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(t);
  }, [copied]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setFailed(false);
      setCopied(true);
    } catch {
      setFailed(true);
    }
  };
  return (
    <div className="copy-block" role="group" aria-label={label}>
      <pre tabIndex={0}>
        <code>{text}</code>
      </pre>
      <div className="row">
        <Button size="sm" onClick={copy} aria-label={`Copy ${label.toLowerCase()}`}>
          {copied ? <Check size={14} aria-hidden /> : <Copy size={14} aria-hidden />}
          {copied ? "Copied" : "Copy"}
        </Button>
        {failed && (
          <span className="muted small" role="status">
            The browser refused the clipboard; select the text and copy it by hand.
          </span>
        )}
      </div>
    </div>
  );
}

/** Notice is a highlighted paragraph: a warning that a secret is shown
 * once, a hint before a risky step. */
export function Notice({ children, tone = "warn" }: { children: ReactNode; tone?: "warn" | "info" }) {
  return (
    <div className={`notice notice-${tone}`} role="note">
      {tone === "warn" && <AlertTriangle size={16} aria-hidden />}
      <div>{children}</div>
    </div>
  );
}

/** Tone badges say a state in a word and a colour (never colour alone). */
export function ToneBadge({ tone, children, title }: { tone: "ok" | "warn" | "bad" | "busy" | "off"; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      <span className="dot" aria-hidden />
      {children}
    </span>
  );
}

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

/** fieldError is the message of an ApiError about field, for showing
 * beside that field. */
export function fieldError(e: unknown, ...fields: string[]): string | undefined {
  return e instanceof ApiError && e.field && fields.includes(e.field) ? e.message : undefined;
}

/** formError is what a form shows above its buttons: any error that no
 * field of the form shows beside itself. */
export function formError(e: unknown, fields: string[]): string | undefined {
  if (!e) return undefined;
  if (e instanceof ApiError && e.field && fields.includes(e.field)) return undefined;
  return errorText(e);
}

/** useDebounced follows value after it stayed unchanged for ms. */
export function useDebounced<T>(value: T, ms = 300): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** shortId is the random tail of an ID, for narrow columns. */
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(-8) : id;
}
