// Number and time formatting the pages share.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** bytes formats a byte count: 1536 → "1.5 KiB". */
export function bytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "–";
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${UNITS[i]}`;
}

/** mib formats a size given in MiB (the API's limits): 0 is unlimited. */
export function mib(n: number): string {
  if (n === 0) return "unlimited";
  return bytes(n * 1024 * 1024);
}

export function percent(n: number, digits = 0): string {
  return `${n.toFixed(digits)}%`;
}

/** ago says how long before now t was: "3 min ago", "in 5 h". */
export function ago(t: string | number | Date, now = Date.now()): string {
  const ms = new Date(t).getTime();
  if (!Number.isFinite(ms)) return "–";
  const d = Math.round((now - ms) / 1000);
  const abs = Math.abs(d);
  const [v, u] = abs < 45 ? [abs, "s"] : abs < 2700 ? [Math.round(abs / 60), "min"] : abs < 86400 * 1.5 ? [Math.round(abs / 3600), "h"] : [Math.round(abs / 86400), "d"];
  if (abs < 5) return "just now";
  return d >= 0 ? `${v} ${u} ago` : `in ${v} ${u}`;
}

/** dateTime is t in the user's locale, to the second. */
export function dateTime(t: string | number | Date): string {
  const d = new Date(t);
  return Number.isFinite(d.getTime()) ? d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" }) : "–";
}

/** duration formats seconds: 3725 → "1h 2m 5s". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "–";
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return [h && `${h}h`, (h || m) && `${m}m`, `${r}s`].filter(Boolean).join(" ");
}
