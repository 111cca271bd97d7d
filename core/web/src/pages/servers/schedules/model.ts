// Schedules as the core keeps them (store.Schedule with its upcoming
// slots, store.ScheduleRun) and the form that writes one (schedules.Spec).

export type TaskAction = "command" | "power" | "backup";

/** store.ScheduleTask: one step of a schedule. */
export interface Task {
  action: TaskAction;
  /** The console line, the power action, or the backup's name. */
  payload: string;
  /** Seconds to wait after the previous task (after the run starts, for
   * the first): 0 to 900. */
  offset_seconds: number;
  continue_on_failure: boolean;
}

export interface Schedule extends Spec {
  id: string;
  server_id: string;
  last_run_at: string | null;
  next_run_at: string | null;
  created_at: string;
  updated_at: string;
  /** The next slots (at most 5); empty while disabled. */
  upcoming: string[];
}

/** schedules.Spec: what creating or replacing a schedule takes. */
export interface Spec {
  name: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  only_when_online: boolean;
  tasks: Task[];
}

export interface RunTask {
  action: TaskAction;
  payload: string;
  /** pending, running, completed, failed or skipped. */
  status: string;
  started_at?: string;
  finished_at?: string;
  error?: string;
}

export interface Run {
  id: string;
  schedule_id: string;
  server_id: string;
  /** The slot a cron firing was for; null for a manual run. */
  slot: string | null;
  /** cron, catch_up or manual. */
  trigger: string;
  /** running, completed, failed or skipped. */
  status: string;
  tasks: RunTask[];
  error: string;
  started_at: string;
  finished_at: string | null;
}

export const MAX_TASKS = 20;
export const MAX_OFFSET = 900;
export const POWER_ACTIONS = ["start", "stop", "restart", "kill"] as const;

export const ACTION_LABELS: Record<TaskAction, string> = {
  command: "Send a console command",
  power: "Power action",
  backup: "Make a backup",
};

/** A task in the form, with a key that survives moving it. */
export interface FormTask extends Task {
  key: number;
}

export interface FormState extends Omit<Spec, "tasks"> {
  tasks: FormTask[];
}

let nextKey = 1;

export function newTask(action: TaskAction = "command"): FormTask {
  return { key: nextKey++, action, payload: action === "power" ? "restart" : "", offset_seconds: 0, continue_on_failure: false };
}

/** formOf is the form for an existing schedule, or a new one in zone. */
export function formOf(s: Schedule | undefined, zone: string): FormState {
  if (!s) {
    return { name: "", cron: "0 4 * * *", timezone: zone, enabled: true, only_when_online: false, tasks: [newTask()] };
  }
  return {
    name: s.name,
    cron: s.cron,
    timezone: s.timezone,
    enabled: s.enabled,
    only_when_online: s.only_when_online,
    tasks: s.tasks.map((t) => ({ ...t, key: nextKey++ })),
  };
}

export function specOf(f: FormState | Schedule): Spec {
  return {
    name: f.name.trim(),
    cron: f.cron.trim(),
    timezone: f.timezone,
    enabled: f.enabled,
    only_when_online: f.only_when_online,
    tasks: f.tasks.map((t) => ({ action: t.action, payload: t.payload, offset_seconds: t.offset_seconds, continue_on_failure: t.continue_on_failure })),
  };
}

/** moveTask moves task i by delta places, staying in bounds. */
export function moveTask<T>(tasks: T[], i: number, delta: number): T[] {
  const j = i + delta;
  if (i < 0 || i >= tasks.length || j < 0 || j >= tasks.length) return tasks;
  const out = tasks.slice();
  [out[i], out[j]] = [out[j], out[i]];
  return out;
}

/** Where a field error of the API belongs in the form. */
export type ErrorTarget = { kind: "task"; task: number; field: string } | { kind: "field"; field: string };

/** errorTarget reads an error's field: "tasks[1].payload" is task 1's
 * payload, "cron" the expression. */
export function errorTarget(field: string | undefined): ErrorTarget | null {
  if (!field) return null;
  const m = /^tasks\[(\d+)\]\.(\w+)$/.exec(field);
  if (m) return { kind: "task", task: Number(m[1]), field: m[2] };
  return { kind: "field", field };
}

export function taskSummary(t: Pick<Task, "action" | "payload">): string {
  switch (t.action) {
    case "command":
      return `Command: ${t.payload}`;
    case "power":
      return `Power: ${t.payload}`;
    case "backup":
      return t.payload ? `Backup "${t.payload}"` : "Backup (dated name)";
  }
  return `${t.action}: ${t.payload}`;
}

const TRIGGERS: Record<string, string> = { cron: "On schedule", catch_up: "Catch-up (missed while the panel was down)", manual: "Run by hand" };
export const triggerText = (t: string) => TRIGGERS[t] ?? t;

const STATUSES: Record<string, string> = { running: "Running", completed: "Completed", failed: "Failed", skipped: "Skipped", pending: "Pending" };
export const runStatusText = (s: string) => STATUSES[s] ?? s;
export const runStatusTone = (s: string) => (s === "completed" ? "ok" : s === "failed" ? "bad" : s === "running" ? "busy" : s === "skipped" ? "warn" : "off");

/** timeZones is the zones a schedule may be read in: the browser's list,
 * with UTC and the ones given kept in. */
export function timeZones(keep: string[]): string[] {
  let zones: string[] = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = [];
  }
  const set = new Set(zones);
  for (const z of ["UTC", ...keep]) if (z) set.add(z);
  return [...set].sort((a, b) => (a === "UTC" ? -1 : b === "UTC" ? 1 : a.localeCompare(b)));
}

export function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** slotText is a slot as the schedule's zone reads it. */
export function slotText(t: string, zone: string): string {
  const d = new Date(t);
  if (!Number.isFinite(d.getTime())) return "–";
  try {
    return d.toLocaleString(undefined, { timeZone: zone || "UTC", weekday: "short", year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
  } catch {
    return d.toLocaleString();
  }
}
