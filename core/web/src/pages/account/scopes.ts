// API key scopes: the permission catalogue grouped for checkboxes, and the
// body that creates a key (apiKeyCreate in account_handlers.go).

import { fromLocalInput } from "../admin/auditQuery";

export interface PermissionGroup {
  /** The family, the part before the first dot: "file", "admin". */
  family: string;
  perms: string[];
}

/** groupPermissions groups permissions by family, keeping their order. */
export function groupPermissions(perms: string[]): PermissionGroup[] {
  const groups: PermissionGroup[] = [];
  for (const p of perms) {
    const family = p.split(".")[0];
    let g = groups.find((x) => x.family === family);
    if (!g) {
      g = { family, perms: [] };
      groups.push(g);
    }
    if (!g.perms.includes(p)) g.perms.push(p);
  }
  return groups;
}

export interface KeyForm {
  name: string;
  /** "all": every permission of the user, now and later; "some": scopes. */
  access: "all" | "some";
  scopes: string[];
  /** Addresses and CIDR prefixes, separated by commas or spaces. */
  allowedIps: string;
  /** A datetime-local value, or "". */
  expires: string;
}

export interface KeyCreate {
  name: string;
  scopes?: string[];
  allowed_ips?: string[];
  expires_at?: string;
}

/** keyBody is the create body, or a problem to show beside a field. A key
 * limited to no permission at all is refused here: the API would read an
 * empty list as no limit. */
export function keyBody(f: KeyForm): { body: KeyCreate } | { field: string; message: string } {
  const name = f.name.trim();
  if (!name) return { field: "name", message: "Give the key a name, such as the tool that uses it." };
  const body: KeyCreate = { name };
  if (f.access === "some") {
    if (f.scopes.length === 0) return { field: "scopes", message: "Choose at least one permission, or give the key all of yours." };
    body.scopes = [...f.scopes];
  }
  const ips = f.allowedIps.split(/[\s,]+/).filter(Boolean);
  if (ips.length) body.allowed_ips = ips;
  if (f.expires) {
    const at = fromLocalInput(f.expires);
    if (!at) return { field: "expires_at", message: "is not a date and time." };
    body.expires_at = at;
  }
  return { body };
}

/** groupState is a group checkbox's state for the chosen scopes. */
export function groupState(g: PermissionGroup, chosen: string[]): boolean | "indeterminate" {
  const n = g.perms.filter((p) => chosen.includes(p)).length;
  return n === 0 ? false : n === g.perms.length ? true : "indeterminate";
}
