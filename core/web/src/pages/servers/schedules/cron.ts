// The cron helper: presets that write an expression for the user, and a
// plain-words reading of the common forms. The core is the judge of what
// an expression means (POST …/schedules/preview); this only helps write one.

export const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** What a preset needs besides its kind: a time of day and a weekday. */
export interface PresetOptions {
  /** "HH:MM", 24-hour. */
  time: string;
  /** 0 (Sunday) to 6. */
  weekday: number;
  /** Day of the month, 1 to 28. */
  day: number;
}

export interface Preset {
  id: string;
  label: string;
  /** Which options the preset reads. */
  uses: ("time" | "weekday" | "day")[];
  build: (o: PresetOptions) => string;
}

function hm(time: string): [number, number] {
  const m = /^(\d{1,2}):(\d{2})$/.exec(time.trim());
  if (!m) return [0, 0];
  return [Math.min(23, Number(m[1])), Math.min(59, Number(m[2]))];
}

export const PRESETS: Preset[] = [
  { id: "every-5m", label: "Every 5 minutes", uses: [], build: () => "*/5 * * * *" },
  { id: "every-15m", label: "Every 15 minutes", uses: [], build: () => "*/15 * * * *" },
  { id: "every-30m", label: "Every 30 minutes", uses: [], build: () => "*/30 * * * *" },
  { id: "hourly", label: "Every hour", uses: [], build: () => "@hourly" },
  { id: "every-6h", label: "Every 6 hours", uses: [], build: () => "0 */6 * * *" },
  {
    id: "daily",
    label: "Every day at…",
    uses: ["time"],
    build: (o) => {
      const [h, m] = hm(o.time);
      return `${m} ${h} * * *`;
    },
  },
  {
    id: "weekdays",
    label: "Monday to Friday at…",
    uses: ["time"],
    build: (o) => {
      const [h, m] = hm(o.time);
      return `${m} ${h} * * 1-5`;
    },
  },
  {
    id: "weekly",
    label: "Every week on…",
    uses: ["weekday", "time"],
    build: (o) => {
      const [h, m] = hm(o.time);
      return `${m} ${h} * * ${o.weekday}`;
    },
  },
  {
    id: "monthly",
    label: "Every month on day…",
    uses: ["day", "time"],
    build: (o) => {
      const [h, m] = hm(o.time);
      return `${m} ${h} ${Math.max(1, Math.min(28, Math.trunc(o.day)))} * *`;
    },
  },
  { id: "every-interval", label: "At a fixed interval (@every 5m)", uses: [], build: () => "@every 5m" },
];

const SHORTCUTS: Record<string, string> = {
  "@yearly": "Every year on 1 January at 00:00",
  "@annually": "Every year on 1 January at 00:00",
  "@monthly": "Every month on day 1 at 00:00",
  "@weekly": "Every Sunday at 00:00",
  "@daily": "Every day at 00:00",
  "@midnight": "Every day at 00:00",
  "@hourly": "Every hour, on the hour",
};

const num = (s: string) => (/^\d+$/.test(s) ? Number(s) : NaN);
const pad = (n: number) => String(n).padStart(2, "0");

const DAY_NAMES: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

function weekday(s: string): number {
  const n = DAY_NAMES[s.toLowerCase()] ?? num(s);
  return n === 7 ? 0 : n;
}

/** days reads a day-of-week field made of values, names and ranges. */
function days(field: string): string | null {
  if (field === "1-5") return "Monday to Friday";
  if (field === "0,6" || field === "6,0") return "Saturday and Sunday";
  const parts = field.split(",");
  const names: string[] = [];
  for (const p of parts) {
    const r = p.split("-");
    if (r.length === 2) {
      const a = weekday(r[0]);
      const b = weekday(r[1]);
      if (!(a >= 0 && a <= 6 && b >= 0 && b <= 6)) return null;
      names.push(`${WEEKDAYS[a]} to ${WEEKDAYS[b]}`);
      continue;
    }
    const d = weekday(p);
    if (!(d >= 0 && d <= 6)) return null;
    names.push(WEEKDAYS[d]);
  }
  return names.length === 1 ? names[0] : names.slice(0, -1).join(", ") + " and " + names[names.length - 1];
}

/** describeCron reads the common forms of an expression in words, or
 * gives null for those it does not (the next runs still show them). */
export function describeCron(expr: string): string | null {
  const e = expr.trim().replace(/\s+/g, " ");
  if (!e) return null;
  const lower = e.toLowerCase();
  if (SHORTCUTS[lower]) return SHORTCUTS[lower];
  if (lower.startsWith("@every ")) return `Every ${e.slice(7)}, counted from a fixed origin (the time zone does not matter)`;
  const f = e.split(" ");
  if (f.length !== 5) return null;
  const [mi, ho, dom, mon, dow] = f;
  if (mon !== "*") return null;
  const step = (s: string) => (s.startsWith("*/") ? num(s.slice(2)) : NaN);
  if (dom === "*" && dow === "*") {
    if (mi === "*" && ho === "*") return "Every minute";
    if (ho === "*" && step(mi) > 0) return `Every ${step(mi)} minutes`;
    if (ho === "*" && num(mi) <= 59) return `Every hour at minute ${num(mi)}`;
    if (step(ho) > 0 && num(mi) <= 59) return `Every ${step(ho)} hours at minute ${num(mi)}`;
  }
  const m = num(mi);
  const h = num(ho);
  if (!(m <= 59 && h <= 23)) return null;
  const at = `at ${pad(h)}:${pad(m)}`;
  if (dom === "*" && dow === "*") return `Every day ${at}`;
  if (dom === "*") {
    const d = days(dow);
    return d ? `Every ${d} ${at}` : null;
  }
  if (dow === "*" && num(dom) >= 1 && num(dom) <= 31) return `Every month on day ${num(dom)} ${at}`;
  return null;
}

/** guessPreset finds the preset and options that write expr, so editing
 * a schedule opens the helper where it was left; null when none does. */
export function guessPreset(expr: string): { id: string; options: PresetOptions } | null {
  const e = expr.trim().replace(/\s+/g, " ");
  const base: PresetOptions = { time: "04:00", weekday: 1, day: 1 };
  const f = e.split(" ");
  let options = base;
  if (f.length === 5 && num(f[0]) <= 59 && num(f[1]) <= 23) {
    options = { ...base, time: `${pad(num(f[1]))}:${pad(num(f[0]))}` };
    if (num(f[4]) >= 0 && num(f[4]) <= 6) options.weekday = num(f[4]);
    if (num(f[2]) >= 1 && num(f[2]) <= 28) options.day = num(f[2]);
  }
  for (const p of PRESETS) {
    if (p.build(options) === e) return { id: p.id, options };
  }
  return null;
}
