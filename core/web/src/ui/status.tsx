import type { ReactNode } from "react";
import type { ServerState } from "../api/types";

const LABELS: Record<string, string> = {
  installing: "Installing",
  install_failed: "Install failed",
  stopped: "Offline",
  starting: "Starting",
  running: "Running",
  stopping: "Stopping",
  crashed: "Crashed",
  transferring: "Transferring",
  suspended: "Suspended",
};

const TONES: Record<string, string> = {
  running: "ok",
  starting: "busy",
  stopping: "busy",
  installing: "busy",
  transferring: "busy",
  install_failed: "bad",
  crashed: "bad",
  suspended: "warn",
};

export function stateLabel(s: ServerState): string {
  return LABELS[s] ?? s;
}

/** StateBadge shows a server state with a coloured dot and a word (never
 * colour alone). */
export function StateBadge({ state, reason }: { state: ServerState; reason?: string }) {
  const tone = TONES[state] ?? "off";
  return (
    <span className={`badge badge-${tone}`} title={reason || undefined} data-state={state}>
      <span className="dot" aria-hidden />
      {stateLabel(state)}
    </span>
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
