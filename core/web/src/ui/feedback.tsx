import type { ReactNode } from "react";
import { AlertTriangle, Inbox, Loader2 } from "lucide-react";
import { ApiError, errorText } from "../api/client";
import { Button } from "./Button";

export function Spinner({ size = 16, label }: { size?: number; label?: string }) {
  return <Loader2 className="spin" size={size} aria-label={label} aria-hidden={label ? undefined : true} />;
}

/** Loading fills a region while its data arrives. */
export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <Spinner size={20} />
      <span>{label}</span>
    </div>
  );
}

export function EmptyState({ title, children, icon }: { title: string; children?: ReactNode; icon?: ReactNode }) {
  return (
    <div className="empty">
      {icon ?? <Inbox size={28} aria-hidden />}
      <h3>{title}</h3>
      {children && <div className="empty-body">{children}</div>}
    </div>
  );
}

/** ErrorBox shows an API error as a readable message, with its request
 * ID for the operator's logs and a retry button when given one. */
export function ErrorBox({ error, retry, title = "Something went wrong" }: { error: unknown; retry?: () => void; title?: string }) {
  const requestId = error instanceof ApiError ? error.requestId : undefined;
  return (
    <div className="error-box" role="alert">
      <AlertTriangle size={18} aria-hidden />
      <div>
        <strong>{title}</strong>
        <p>{errorText(error)}</p>
        {requestId && <p className="muted small">Request ID {requestId}</p>}
      </div>
      {retry && (
        <Button size="sm" onClick={retry}>
          Retry
        </Button>
      )}
    </div>
  );
}

/** ProgressBar is a labelled progress bar; value null is indeterminate. */
export function ProgressBar({ value, label }: { value: number | null; label: string }) {
  const pct = value === null ? undefined : Math.max(0, Math.min(100, value));
  return (
    <div
      className={`progress ${pct === undefined ? "progress-indeterminate" : ""}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct === undefined ? undefined : Math.round(pct)}
    >
      <div className="progress-fill" style={{ width: pct === undefined ? undefined : `${pct}%` }} />
    </div>
  );
}

/** Meter is a small usage bar (CPU, memory) that turns amber then red. */
export function Meter({ value, max, label, text }: { value: number; max: number; label: string; text?: string }) {
  const pct = max > 0 ? Math.min(100, (value / max) * 100) : 0;
  const level = pct >= 90 ? "high" : pct >= 70 ? "mid" : "low";
  return (
    <div className="meter" title={text}>
      <div className={`meter-bar meter-${level}`} role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={max} aria-valuenow={value} aria-valuetext={text}>
        <div className="meter-fill" style={{ width: `${pct}%` }} />
      </div>
      {text && <span className="meter-text">{text}</span>}
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
