// The audit log's filters and the URL: a filtered view is a link. Times
// live in the URL as RFC 3339 in UTC (the API's form, the same for
// everyone the link is sent to) and in the inputs as local time.

export interface AuditFilters {
  /** A user ID. */
  actor: string;
  /** An exact action, such as server.power. */
  action: string;
  /** A server ID. */
  server: string;
  /** RFC 3339 UTC, or "". */
  since: string;
  until: string;
}

export const NO_FILTERS: AuditFilters = { actor: "", action: "", server: "", since: "", until: "" };

const KEYS = ["actor", "action", "server", "since", "until"] as const;

/** rfc3339 is t in UTC to the second ("2026-11-21T08:00:00Z"), or "" when
 * t is not a time. */
export function rfc3339(t: string | number | Date): string {
  if (t === "") return "";
  const d = new Date(t);
  return Number.isFinite(d.getTime()) ? d.toISOString().replace(/\.\d{3}Z$/, "Z") : "";
}

/** A time from a URL written by hand: an unescaped "+02:00" offset
 * arrives as " 02:00". */
function urlTime(v: string | null): string {
  return rfc3339((v ?? "").trim().replace(/ (\d{2}:\d{2})$/, "+$1"));
}

/** filtersFromSearch reads the filters from a URL's search parameters,
 * dropping times that are not times. */
export function filtersFromSearch(p: URLSearchParams): AuditFilters {
  return {
    actor: (p.get("actor") ?? "").trim(),
    action: (p.get("action") ?? "").trim(),
    server: (p.get("server") ?? "").trim(),
    since: urlTime(p.get("since")),
    until: urlTime(p.get("until")),
  };
}

/** filtersToSearch writes the filters set into search parameters, in a
 * fixed order. */
export function filtersToSearch(f: AuditFilters): URLSearchParams {
  const p = new URLSearchParams();
  for (const k of KEYS) {
    const v = f[k].trim();
    if (v) p.set(k, v);
  }
  return p;
}

/** apiQuery is the filters as GET /api/admin/audit-logs takes them. */
export function apiQuery(f: AuditFilters, before?: string, limit?: number): Record<string, string | number | undefined> {
  return { actor: f.actor, action: f.action, server: f.server, since: f.since, until: f.until, before: before || undefined, limit };
}

const pad = (n: number) => String(n).padStart(2, "0");

/** toLocalInput is an RFC 3339 time as a datetime-local input's value in
 * the browser's time zone ("2026-11-21T09:00"). */
export function toLocalInput(iso: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (!Number.isFinite(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** fromLocalInput is a datetime-local value, read in the browser's time
 * zone, as RFC 3339 UTC. */
export function fromLocalInput(v: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(v);
  if (!m) return "";
  const [, y, mo, d, h, mi, s] = m;
  return rfc3339(new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0)));
}
