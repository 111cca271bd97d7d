import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ArrowDown, ArrowUp, Plus, Trash2 } from "lucide-react";
import { ApiError, errorText } from "../../../api/client";
import { useApi } from "../../../api/context";
import { Button } from "../../../ui/Button";
import { Checkbox } from "../../../ui/Checkbox";
import { Dialog, FormFoot } from "../../../ui/Dialog";
import { Spinner } from "../../../ui/feedback";
import { Field, Input, Select } from "../../../ui/Field";
import { useToast } from "../../../ui/toast";
import { PRESETS, WEEKDAYS, describeCron, guessPreset, type PresetOptions } from "./cron";
import {
  ACTION_LABELS,
  MAX_OFFSET,
  MAX_TASKS,
  POWER_ACTIONS,
  browserZone,
  errorTarget,
  formOf,
  moveTask,
  newTask,
  slotText,
  specOf,
  timeZones,
  type FormState,
  type FormTask,
  type Schedule,
  type TaskAction,
} from "./model";
import { useDebounced } from "../../../ui/useDebounced";

interface Props {
  serverId: string;
  /** The schedule to edit; none for a new one. */
  schedule?: Schedule;
  onClose: () => void;
}

/** ScheduleDialog creates or edits a schedule. Mount it only while open:
 * its form starts from the schedule each time. */
export function ScheduleDialog({ serverId, schedule, onClose }: Props) {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const [form, setForm] = useState<FormState>(() => formOf(schedule, browserZone()));
  const zones = useMemo(() => timeZones([form.timezone]), [form.timezone]);

  const save = useMutation({
    mutationFn: () => {
      const spec = specOf(form);
      return schedule
        ? api.put<Schedule>(`/api/servers/${serverId}/schedules/${schedule.id}`, spec)
        : api.post<Schedule>(`/api/servers/${serverId}/schedules`, spec);
    },
    onSuccess: (s) => {
      qc.setQueryData<Schedule[]>(["server", serverId, "schedules"], (l) => (l ? (schedule ? l.map((x) => (x.id === s.id ? s : x)) : [...l, s]) : [s]));
      toast(schedule ? `Saved schedule "${s.name}"` : `Created schedule "${s.name}"`, "success");
      onClose();
    },
  });

  // A refusal is about the form as it was sent: editing clears it.
  const edit = (fn: (f: FormState) => FormState) => {
    if (save.error) save.reset();
    setForm(fn);
  };
  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => edit((f) => ({ ...f, [k]: v }));
  const setTask = (i: number, patch: Partial<FormTask>) => edit((f) => ({ ...f, tasks: f.tasks.map((t, j) => (j === i ? { ...t, ...patch } : t)) }));

  // The API names the field it refuses; tasks[i].x belongs to task i.
  const err = save.error;
  const target = err instanceof ApiError ? errorTarget(err.field) : null;
  const fieldError = (name: string) => (err instanceof ApiError && target?.kind === "field" && target.field === name ? err.fieldMessage : undefined);
  const taskError = (i: number, name: string) =>
    err instanceof ApiError && target?.kind === "task" && target.task === i && target.field === name ? err.fieldMessage : undefined;
  const placed = target?.kind === "task" ? target.task < form.tasks.length : !!target && ["name", "cron", "timezone", "tasks"].includes(target.field);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };

  return (
    <Dialog open onOpenChange={(o) => !o && onClose()} title={schedule ? `Edit "${schedule.name}"` : "New schedule"} wide>
      <form onSubmit={submit} noValidate>
        <Field label="Name" error={fieldError("name")}>
          <Input value={form.name} onChange={(e) => set("name", e.target.value)} maxLength={64} autoFocus placeholder="Nightly restart" required />
        </Field>

        <CronFields serverId={serverId} form={form} zones={zones} set={set} cronError={fieldError("cron")} zoneError={fieldError("timezone")} />

        <div className="schedule-flags">
          <Checkbox checked={form.enabled} onCheckedChange={(c) => set("enabled", c)} label="Enabled" description="A disabled schedule runs only when you press Run now." />
          <Checkbox
            checked={form.only_when_online}
            onCheckedChange={(c) => set("only_when_online", c)}
            label="Only when the server is running"
            description="Skip a run when the server is not running at its time."
          />
        </div>

        <fieldset className="schedule-tasks">
          <legend>Tasks</legend>
          <p className="muted small">Run in order; each waits its delay after the one before. A failing task ends the run unless it may continue.</p>
          {fieldError("tasks") && (
            <p className="field-error" role="alert">
              {fieldError("tasks")}
            </p>
          )}
          <ol className="task-list">
            {form.tasks.map((t, i) => (
              <TaskEditor
                key={t.key}
                task={t}
                index={i}
                count={form.tasks.length}
                error={(name) => taskError(i, name)}
                onChange={(patch) => setTask(i, patch)}
                onMove={(d) => set("tasks", moveTask(form.tasks, i, d))}
                onRemove={() => set("tasks", form.tasks.filter((_, j) => j !== i))}
              />
            ))}
          </ol>
          <Button onClick={() => set("tasks", [...form.tasks, newTask()])} disabled={form.tasks.length >= MAX_TASKS} title={form.tasks.length >= MAX_TASKS ? `A schedule has at most ${MAX_TASKS} tasks` : undefined}>
            <Plus size={16} aria-hidden /> Add task
          </Button>
        </fieldset>

        <FormFoot error={err && !placed ? errorText(err) : undefined} onCancel={onClose} busy={save.isPending} submit={schedule ? "Save changes" : "Create schedule"} />
      </form>
    </Dialog>
  );
}

interface CronProps {
  serverId: string;
  form: FormState;
  zones: string[];
  set: <K extends keyof FormState>(k: K, v: FormState[K]) => void;
  cronError?: string;
  zoneError?: string;
}

/** CronFields: the expression, its helper, the zone, and the next runs as
 * the core works them out. */
function CronFields({ serverId, form, zones, set, cronError, zoneError }: CronProps) {
  const api = useApi();
  const [guessed] = useState(() => guessPreset(form.cron));
  const [preset, setPreset] = useState(guessed?.id ?? "");
  const [opts, setOpts] = useState<PresetOptions>(guessed?.options ?? { time: "04:00", weekday: 1, day: 1 });
  const chosen = PRESETS.find((p) => p.id === preset);
  const apply = (id: string, o: PresetOptions) => {
    setPreset(id);
    setOpts(o);
    const p = PRESETS.find((x) => x.id === id);
    if (p) set("cron", p.build(o));
  };

  const cron = useDebounced(form.cron.trim(), 400);
  const zone = useDebounced(form.timezone, 400);
  const preview = useQuery({
    queryKey: ["server", serverId, "schedule-preview", cron, zone],
    queryFn: ({ signal }) => api.post<{ upcoming: string[] }>(`/api/servers/${serverId}/schedules/preview`, { cron, timezone: zone }, { signal }),
    enabled: cron !== "",
    staleTime: 30_000,
    retry: false,
  });
  const settling = cron !== form.cron.trim() || zone !== form.timezone;
  const pe = preview.error;
  const previewField = pe instanceof ApiError ? pe.field : undefined;
  const previewCronError = !settling && pe && previewField === "cron" ? (pe as ApiError).fieldMessage : undefined;
  const previewZoneError = !settling && pe && previewField === "timezone" ? (pe as ApiError).fieldMessage : undefined;
  const words = describeCron(form.cron);
  // Some 400 zones: built once, so typing elsewhere does not rebuild them.
  const zoneOptions = useMemo(
    () =>
      zones.map((z) => (
        <option key={z} value={z}>
          {z}
        </option>
      )),
    [zones],
  );

  return (
    <div className="cron-fields">
      <div className="cron-helper">
        <Field label="Quick pick" className="cron-preset">
          <Select value={preset} onChange={(e) => (e.target.value ? apply(e.target.value, opts) : setPreset(""))}>
            <option value="">Write my own</option>
            {PRESETS.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
          </Select>
        </Field>
        {chosen?.uses.includes("weekday") && (
          <Field label="Day of the week">
            <Select value={opts.weekday} onChange={(e) => apply(preset, { ...opts, weekday: Number(e.target.value) })}>
              {WEEKDAYS.map((d, i) => (
                <option key={d} value={i}>
                  {d}
                </option>
              ))}
            </Select>
          </Field>
        )}
        {chosen?.uses.includes("day") && (
          <Field label="Day of the month">
            <Input type="number" min={1} max={28} value={opts.day} onChange={(e) => apply(preset, { ...opts, day: Number(e.target.value) || 1 })} />
          </Field>
        )}
        {chosen?.uses.includes("time") && (
          <Field label="Time">
            <Input type="time" value={opts.time} onChange={(e) => e.target.value && apply(preset, { ...opts, time: e.target.value })} />
          </Field>
        )}
      </div>

      <div className="grid-2">
        <Field
          label="Cron expression"
          error={previewCronError ?? cronError}
          hint={words ?? "Minute, hour, day of month, month, day of week — or @hourly, @daily, @weekly, @monthly, @yearly, @every 10m."}
        >
          <Input
            className="mono"
            value={form.cron}
            onChange={(e) => {
              set("cron", e.target.value);
              setPreset("");
            }}
            spellCheck={false}
            autoComplete="off"
          />
        </Field>
        <Field label="Time zone" error={previewZoneError ?? zoneError} hint="The expression is read on this zone's clock.">
          <Select value={form.timezone} onChange={(e) => set("timezone", e.target.value)}>
            {zoneOptions}
          </Select>
        </Field>
      </div>

      <div className="next-runs">
        <h3 id="next-runs-title">Next runs</h3>
        {form.cron.trim() === "" ? (
          <p className="muted small">Write an expression to see when it runs.</p>
        ) : settling || preview.isFetching ? (
          <p className="muted small" role="status">
            <Spinner size={12} /> Working out the next runs…
          </p>
        ) : preview.isError ? (
          <p className="muted small">{previewField ? "Fix the expression to see when it runs." : `The next runs could not be worked out: ${errorText(pe)}`}</p>
        ) : null}
        <ul aria-label="Next runs" className="next-runs-list">
          {!settling &&
            preview.data?.upcoming.map((t) => (
              <li key={t}>
                <time dateTime={t}>{slotText(t, form.timezone)}</time>
              </li>
            ))}
        </ul>
      </div>
    </div>
  );
}

interface TaskProps {
  task: FormTask;
  index: number;
  count: number;
  error: (field: string) => string | undefined;
  onChange: (patch: Partial<FormTask>) => void;
  onMove: (delta: number) => void;
  onRemove: () => void;
}

function TaskEditor({ task: t, index: i, count, error, onChange, onMove, onRemove }: TaskProps) {
  const n = i + 1;
  const changeAction = (a: TaskAction) => onChange({ action: a, payload: a === "power" ? "restart" : "" });
  return (
    <li className="task-item">
      <div className="task-head">
        <strong>Task {n}</strong>
        <div className="row">
          <button type="button" className="icon-button" aria-label={`Move task ${n} up`} disabled={i === 0} onClick={() => onMove(-1)}>
            <ArrowUp size={16} />
          </button>
          <button type="button" className="icon-button" aria-label={`Move task ${n} down`} disabled={i === count - 1} onClick={() => onMove(1)}>
            <ArrowDown size={16} />
          </button>
          <button type="button" className="icon-button" aria-label={`Remove task ${n}`} disabled={count === 1} onClick={onRemove}>
            <Trash2 size={16} />
          </button>
        </div>
      </div>
      <div className="task-grid">
        <Field label="Action" error={error("action")}>
          <Select value={t.action} onChange={(e) => changeAction(e.target.value as TaskAction)}>
            {(Object.keys(ACTION_LABELS) as TaskAction[]).map((a) => (
              <option key={a} value={a}>
                {ACTION_LABELS[a]}
              </option>
            ))}
          </Select>
        </Field>
        {t.action === "command" && (
          <Field label="Command" error={error("payload")}>
            <Input className="mono" value={t.payload} onChange={(e) => onChange({ payload: e.target.value })} placeholder="say Restarting in 5 minutes" />
          </Field>
        )}
        {t.action === "power" && (
          <Field label="Power action" error={error("payload")}>
            <Select value={t.payload} onChange={(e) => onChange({ payload: e.target.value })}>
              {POWER_ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {a[0].toUpperCase() + a.slice(1)}
                </option>
              ))}
            </Select>
          </Field>
        )}
        {t.action === "backup" && (
          <Field label="Backup name" error={error("payload")} hint="Empty: named by the date.">
            <Input value={t.payload} onChange={(e) => onChange({ payload: e.target.value })} maxLength={64} />
          </Field>
        )}
        <Field label={i === 0 ? "Delay after the run starts (s)" : "Delay after the previous task (s)"} error={error("offset_seconds")}>
          <Input
            type="number"
            inputMode="numeric"
            min={0}
            max={MAX_OFFSET}
            value={Number.isFinite(t.offset_seconds) ? t.offset_seconds : ""}
            onChange={(e) => onChange({ offset_seconds: e.target.value === "" ? 0 : Math.trunc(Number(e.target.value)) })}
          />
        </Field>
      </div>
      <Checkbox checked={t.continue_on_failure} onCheckedChange={(c) => onChange({ continue_on_failure: c })} label="Continue with the next task if this one fails" />
    </li>
  );
}
