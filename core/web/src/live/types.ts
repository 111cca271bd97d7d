// The server WebSocket's messages (core/internal/live/messages.go): each
// frame is one JSON object whose "type" says which.

/** wire.ServerStats: one resource sample. */
export interface ServerStats {
  server_id: string;
  at: string;
  cpu_percent: number;
  memory_bytes: number;
  memory_limit_bytes: number;
  pids: number;
  net_rx_bytes: number;
  net_tx_bytes: number;
  disk_bytes: number;
  disk_limit_bytes: number;
  disk_at: string;
}

/** wire.BackupProgress: how far a backup, restore or transfer got. */
export interface BackupProgress {
  server_id: string;
  backup_id?: string;
  op: string;
  bytes: number;
  total: number;
  files: number;
  written: number;
}

export type LiveMessage =
  | { type: "console_output" | "install_output"; lines: string[] }
  | { type: "status"; state: string; reason?: string; exit_code?: number; oom_killed?: boolean; crash_loop?: boolean }
  | ({ type: "stats" } & ServerStats)
  | { type: "daemon_message"; level: string; message: string }
  | { type: "token_expiring"; expires_at: string; seconds: number }
  | { type: "throttled"; source: "node" | "socket"; dropped: number }
  | ({ type: "backup_progress" } & BackupProgress)
  | { type: "backup_completed" | "backup_failed" | "restore_completed" | "restore_failed"; backup: Record<string, unknown>; error?: string }
  | { type: "alert"; alert: Record<string, unknown>; status: string }
  | { type: "logs"; lines: string[] }
  | { type: "auth_success"; expires_at: string | null }
  | { type: "error"; request: string; code: string; message: string };

export type ClientMessage =
  | { type: "send_command"; command: string }
  | { type: "set_state"; state: "start" | "stop" | "restart" | "kill" }
  | { type: "request_logs"; lines?: number }
  | { type: "request_stats" }
  | { type: "auth"; token: string };

/** connecting: first attempt; open; reconnecting: lost, retrying with
 * backoff; closed: given up (signed out, access revoked, server gone). */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** LiveConnection is one server's socket as pages use it. */
export interface LiveConnection {
  readonly state: ConnectionState;
  /** Why the socket is closed or reconnecting, for the UI. */
  readonly reason?: string;
  /** subscribe calls fn with every message until the returned function
   * is called. */
  subscribe(fn: (m: LiveMessage) => void): () => void;
  /** send returns false when the socket is not open. */
  send(m: ClientMessage): boolean;
}
