// Shapes of the API's answers that several pages share. Each page keeps
// the types only it uses beside itself.

export interface Account {
  id: string;
  email: string;
  username: string;
  admin: boolean;
  totp_enabled: boolean;
  created_at: string;
}

export interface Allocation {
  ip: string;
  port: number;
  primary: boolean;
}

export interface RestartPolicy {
  mode: "never" | "on_crash" | "always";
  max_restarts: number;
  window_seconds: number;
  backoff_ms: number;
  clean_exit_is_crash: boolean;
}

/** The server states of core/internal/servers. */
export type ServerState =
  | "installing"
  | "install_failed"
  | "stopped"
  | "starting"
  | "running"
  | "stopping"
  | "crashed"
  | "transferring"
  | "suspended";

export interface Server {
  id: string;
  short_id: string;
  name: string;
  description: string;
  owner_id: string;
  node_id: string;
  template_id: string;
  state: ServerState;
  state_reason: string;
  memory_mb: number;
  cpu_percent: number;
  disk_mb: number;
  pids_limit: number;
  image: string;
  environment: Record<string, string>;
  restart: RestartPolicy;
  crash_count: number;
  last_exit_code: number | null;
  last_oom_killed: boolean;
  crashed_at: string | null;
  backup_limit: number | null;
  allocations: Allocation[];
  /** The caller's permissions on this server. */
  permissions: string[];
  created_at: string;
  sftp?: { host: string; port: number; username: string };
}

export interface PermissionCatalog {
  server: string[];
  global: string[];
}

/** can says whether the caller holds perm on s. */
export function can(s: Pick<Server, "permissions"> | undefined, perm: string): boolean {
  return !!s && (s.permissions.includes(perm) || s.permissions.includes("*"));
}
