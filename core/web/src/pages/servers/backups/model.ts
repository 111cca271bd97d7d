// What the backups tab knows about backups, apart from how it draws them.
import type { BackupProgress } from "../../../live/types";
import { bytes } from "../../../ui/format";

/** Backup is backups.View of the core: one archive of the server's files. */
export interface Backup {
  id: string;
  name: string;
  /** creating, completed or failed. */
  status: string;
  /** Why a failed backup failed. */
  error: string;
  store: string;
  /** The archive's size and checksum (compressed). */
  size: number;
  sha256: string;
  /** Regular files in the archive and their bytes. */
  files: number;
  bytes: number;
  compression: string;
  locked: boolean;
  created_at: string;
  completed_at: string | null;
}

/** statusWord is the word a backup's status shows as. */
export function statusWord(status: string): string {
  switch (status) {
    case "creating":
      return "In progress";
    case "completed":
      return "Completed";
    case "failed":
      return "Failed";
  }
  return status;
}

export function statusTone(status: string): "ok" | "bad" | "busy" | "off" {
  return status === "completed" ? "ok" : status === "failed" ? "bad" : status === "creating" ? "busy" : "off";
}

/** withBackup puts b into a list, newest first: it replaces the entry with
 * its ID or, when new, goes first. */
export function withBackup(list: Backup[] | undefined, b: Backup): Backup[] {
  if (!list) return [b];
  const i = list.findIndex((x) => x.id === b.id);
  if (i < 0) return [b, ...list];
  const out = list.slice();
  out[i] = b;
  return out;
}

/** progressPercent is how far an operation got, or null when its total is
 * unknown. */
export function progressPercent(p: Pick<BackupProgress, "bytes" | "total">): number | null {
  return p.total > 0 ? Math.min(100, (p.bytes / p.total) * 100) : null;
}

/** progressText says how far an operation got in words. */
export function progressText(p: Pick<BackupProgress, "bytes" | "total" | "files">): string {
  const amount = p.total > 0 ? `${bytes(p.bytes)} of ${bytes(p.total)}` : bytes(p.bytes);
  return `${amount} · ${p.files.toLocaleString()} ${p.files === 1 ? "file" : "files"}`;
}

/** The limit a server keeps its backups to: null when it takes the panel's
 * default, which the API does not tell. */
export interface LimitInfo {
  /** How many backups count against the limit (failed ones do not). */
  used: number;
  limit: number | null;
  /** Backups are turned off for the server. */
  disabled: boolean;
  /** At the limit: a new backup rotates out the oldest unlocked one. */
  full: boolean;
  /** Every counted backup is locked, so none can make room. */
  blocked: boolean;
  text: string;
}

export function limitInfo(list: Backup[], limit: number | null): LimitInfo {
  const counted = list.filter((b) => b.status !== "failed");
  const used = counted.length;
  if (limit === 0) {
    return { used, limit, disabled: true, full: true, blocked: true, text: "Backups are turned off for this server." };
  }
  if (limit === null) {
    return { used, limit, disabled: false, full: false, blocked: false, text: `${used} ${used === 1 ? "backup" : "backups"} · limit: the panel's default` };
  }
  const full = used >= limit;
  const blocked = full && counted.every((b) => b.locked);
  return { used, limit, disabled: false, full, blocked, text: `${used} of ${limit} backups used` };
}
