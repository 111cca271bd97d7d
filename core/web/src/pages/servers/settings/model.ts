import type { RestartPolicy, Server } from "../../../api/types";

/** sftpCommand is the OpenSSH command line that connects to a server's
 * files; an IPv6 host goes in brackets. */
export function sftpCommand(s: { host: string; port: number; username: string }): string {
  const host = s.host.includes(":") ? `[${s.host}]` : s.host;
  return `sftp -P ${s.port} ${s.username}@${host}`;
}

/** The resource fields of the form, as typed. */
export interface ResourceForm {
  memory_mb: string;
  cpu_percent: string;
  disk_mb: string;
  /** Empty takes the panel's default. */
  backup_limit: string;
}

export function resourceFormOf(s: Server): ResourceForm {
  return {
    memory_mb: String(s.memory_mb),
    cpu_percent: String(s.cpu_percent),
    disk_mb: String(s.disk_mb),
    backup_limit: s.backup_limit === null ? "" : String(s.backup_limit),
  };
}

export interface ResourceChange {
  memory_mb?: number;
  cpu_percent?: number;
  disk_mb?: number;
  /** -1 returns to the panel's default. */
  backup_limit?: number;
}

/** resourceChange is the PATCH body for what changed, or the field of a
 * value that is not a whole number. */
export function resourceChange(s: Server, f: ResourceForm): { change: ResourceChange } | { field: keyof ResourceForm; message: string } {
  const change: ResourceChange = {};
  for (const k of ["memory_mb", "cpu_percent", "disk_mb"] as const) {
    const t = f[k].trim();
    if (!/^\d+$/.test(t)) return { field: k, message: "must be a whole number" };
    if (Number(t) !== s[k]) change[k] = Number(t);
  }
  const b = f.backup_limit.trim();
  if (b !== "" && !/^\d+$/.test(b)) return { field: "backup_limit", message: "must be a whole number, or empty for the panel's default" };
  const limit = b === "" ? null : Number(b);
  if (limit !== s.backup_limit) change.backup_limit = limit === null ? -1 : limit;
  return { change };
}

export const RESTART_MODES: { mode: RestartPolicy["mode"]; label: string; description: string }[] = [
  { mode: "on_crash", label: "When it crashes", description: "Start it again when it exits with an error or is killed for memory." },
  { mode: "always", label: "Whenever it exits", description: "Start it again whenever it exits by itself, even cleanly." },
  { mode: "never", label: "Never", description: "Leave it stopped when it exits." },
];
