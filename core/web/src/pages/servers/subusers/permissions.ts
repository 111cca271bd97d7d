// The server permissions a subuser may be given, grouped by area and
// explained in plain words. The catalogue comes from GET /api/permissions;
// a permission this list does not know still shows, under "Other".

export interface PermissionGroup {
  id: string;
  label: string;
  permissions: string[];
}

/** The areas, in the order the form shows them, and which permissions
 * belong to each. */
const AREAS: { id: string; label: string; has: (p: string) => boolean }[] = [
  { id: "server", label: "Server", has: (p) => ["server.read", "server.update", "server.delete"].includes(p) },
  { id: "power", label: "Console and power", has: (p) => ["server.console", "server.start", "server.stop"].includes(p) },
  { id: "files", label: "Files", has: (p) => p.startsWith("file.") },
  { id: "backups", label: "Backups", has: (p) => p.startsWith("backup.") },
  { id: "schedules", label: "Schedules", has: (p) => p.startsWith("schedule.") },
  { id: "startup", label: "Startup", has: (p) => p.startsWith("startup.") },
  { id: "subusers", label: "Subusers", has: (p) => p.startsWith("subuser.") },
  { id: "alerts", label: "Alerts and webhooks", has: (p) => p.startsWith("alert.") },
];

export const DESCRIPTIONS: Record<string, string> = {
  "server.read": "See the server, its state and its resource use. Without it the server stays hidden from them.",
  "server.update": "Rename the server, change its description and restart policy, and reinstall it.",
  "server.delete": "Delete the server with all its files and backups.",
  "server.console": "Read the live console and send commands to it.",
  "server.start": "Start and restart the server.",
  "server.stop": "Stop the server, and kill it when it does not stop.",
  "file.read": "List files and folders.",
  "file.read-content": "Open and download files.",
  "file.write": "Create, upload, edit, rename, copy and move files.",
  "file.delete": "Delete files and folders.",
  "file.archive": "Make and extract archives.",
  "file.sftp": "Connect over SFTP with their own password or SSH key.",
  "backup.create": "Make backups (at the limit, the oldest unlocked one is deleted).",
  "backup.restore": "Restore a backup over the server's files.",
  "backup.delete": "Delete, lock, unlock and rename backups.",
  "backup.download": "Download backup archives.",
  "schedule.manage": "See, create, change, run and delete schedules.",
  "subuser.manage": "Add and remove subusers, and give them the permissions they hold themselves.",
  "alert.manage": "Manage the server's alert rules and webhooks, and resolve its alerts.",
  "startup.read": "See the startup command, image and variables.",
  "startup.update": "Change the variables marked editable.",
  "startup.image": "Pick another of the template's images.",
};

/** describe explains a permission; one this list lacks is shown as is. */
export function describe(p: string): string {
  return DESCRIPTIONS[p] ?? p;
}

/** groupPermissions sorts a catalogue into the areas, keeping the
 * catalogue's order inside each; empty areas are left out. */
export function groupPermissions(catalog: string[]): PermissionGroup[] {
  const groups: PermissionGroup[] = AREAS.map((a) => ({ id: a.id, label: a.label, permissions: [] }));
  const other: PermissionGroup = { id: "other", label: "Other", permissions: [] };
  for (const p of catalog) {
    const i = AREAS.findIndex((a) => a.has(p));
    (i >= 0 ? groups[i] : other).permissions.push(p);
  }
  return [...groups, other].filter((g) => g.permissions.length > 0);
}

/** groupState is a group's "select all" box: checked when every grantable
 * permission of it is selected, indeterminate when some are. */
export function groupState(g: PermissionGroup, selected: ReadonlySet<string>, grantable: (p: string) => boolean): boolean | "indeterminate" {
  const pool = g.permissions.filter(grantable);
  const n = pool.filter((p) => selected.has(p)).length;
  if (pool.length === 0 || n === 0) return false;
  return n === pool.length ? true : "indeterminate";
}

/** setGroup selects or clears every grantable permission of a group,
 * leaving the others as they were. */
export function setGroup(g: PermissionGroup, selected: ReadonlySet<string>, on: boolean, grantable: (p: string) => boolean): Set<string> {
  const out = new Set(selected);
  for (const p of g.permissions) {
    if (!grantable(p)) continue;
    if (on) out.add(p);
    else out.delete(p);
  }
  return out;
}

/** toggle adds or removes one permission. */
export function toggle(selected: ReadonlySet<string>, p: string, on: boolean): Set<string> {
  const out = new Set(selected);
  if (on) out.add(p);
  else out.delete(p);
  return out;
}

/** summary counts a subuser's permissions by area: "Files 3/6". */
export function summary(groups: PermissionGroup[], held: string[]): { label: string; held: number; of: number }[] {
  const set = new Set(held);
  return groups.map((g) => ({ label: g.label, held: g.permissions.filter((p) => set.has(p)).length, of: g.permissions.length })).filter((s) => s.held > 0);
}
