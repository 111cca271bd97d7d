import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { CalendarClock, ChevronDown, ChevronRight, Pencil, Play, Plus, Trash2 } from "lucide-react";
import { errorText } from "../../api/client";
import { useApi } from "../../api/context";
import { can } from "../../api/types";
import { Button } from "../../ui/Button";
import { ConfirmDialog } from "../../ui/Dialog";
import { QueryState } from "../../ui/QueryState";
import { EmptyState } from "../../ui/feedback";
import { ago, dateTime } from "../../ui/format";
import { useToast } from "../../ui/toast";
import { useServer } from "./context";
import { describeCron } from "./schedules/cron";
import { slotText, specOf, taskSummary, type Schedule } from "./schedules/model";
import { RunsPanel, runsKey } from "./schedules/RunsPanel";
import { ScheduleDialog } from "./schedules/ScheduleDialog";
import { Switch } from "./schedules/Switch";

export default function SchedulesTab() {
  const { server } = useServer();
  const api = useApi();
  const key = ["server", server.id, "schedules"];
  const list = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => api.get<Schedule[]>(`/api/servers/${server.id}/schedules`, { signal }),
    enabled: can(server, "schedule.manage"),
  });
  // "new", a schedule's ID, or null when the dialog is closed.
  const [editing, setEditing] = useState<string | null>(null);
  const mayManage = can(server, "schedule.manage");

  if (!mayManage) {
    return <EmptyState title="No access to schedules">You need the schedule.manage permission on this server.</EmptyState>;
  }
  const schedules = list.data ?? [];
  return (
    <section className="stack" aria-labelledby="schedules-title">
      <div className="section-head">
        <div>
          <h2 id="schedules-title">Schedules</h2>
          <p className="muted small">Run console commands, power actions and backups at set times.</p>
        </div>
        <Button variant="primary" onClick={() => setEditing("new")}>
          <Plus size={16} aria-hidden /> New schedule
        </Button>
      </div>
      <QueryState
        query={list}
        loading="Loading schedules…"
        failed="The schedules could not be loaded"
        empty={
          <EmptyState title="No schedules yet" icon={<CalendarClock size={28} aria-hidden />}>
            A schedule could restart the server every night, or back it up every week.
          </EmptyState>
        }
      >
        {() => (
          <ul className="schedule-list">
            {schedules.map((s) => (
              <ScheduleCard key={s.id} serverId={server.id} schedule={s} onEdit={() => setEditing(s.id)} />
            ))}
          </ul>
        )}
      </QueryState>
      {editing && <ScheduleDialog serverId={server.id} schedule={schedules.find((s) => s.id === editing)} onClose={() => setEditing(null)} />}
    </section>
  );
}

function ScheduleCard({ serverId, schedule: s, onEdit }: { serverId: string; schedule: Schedule; onEdit: () => void }) {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const key = ["server", serverId, "schedules"];
  const path = `/api/servers/${serverId}/schedules/${s.id}`;
  const replace = (next: Schedule) => qc.setQueryData<Schedule[]>(key, (l) => l?.map((x) => (x.id === next.id ? next : x)));

  const toggle = useMutation({
    mutationFn: (enabled: boolean) => api.put<Schedule>(path, { ...specOf(s), enabled }),
    onSuccess: (next) => {
      replace(next);
      toast(`${next.enabled ? "Enabled" : "Disabled"} "${next.name}"`, "success");
    },
    onError: (e) => toast(`Changing "${s.name}" failed: ${errorText(e)}`, "error"),
  });
  const run = useMutation({
    mutationFn: () => api.post(path + "/run"),
    onSuccess: () => {
      toast(`Running "${s.name}" now`, "info");
      setOpen(true);
      qc.invalidateQueries({ queryKey: runsKey(serverId, s.id) });
      qc.invalidateQueries({ queryKey: key, exact: true });
    },
    onError: (e) => toast(`"${s.name}" could not run: ${errorText(e)}`, "error"),
  });
  const remove = async () => {
    await api.del(path);
    qc.setQueryData<Schedule[]>(key, (l) => l?.filter((x) => x.id !== s.id));
    qc.removeQueries({ queryKey: runsKey(serverId, s.id) });
    toast(`Deleted schedule "${s.name}"`, "success");
  };

  const words = describeCron(s.cron);
  const panelId = `runs-${s.id}`;
  return (
    <li className="card schedule-card">
      <div className="schedule-head">
        <div className="schedule-title">
          <h3>{s.name}</h3>
          <span className="muted small">
            <code>{s.cron}</code>
            {words && ` — ${words}`} · {s.timezone}
          </span>
        </div>
        <label className="switch-label">
          <Switch checked={s.enabled} onCheckedChange={(c) => toggle.mutate(c)} label={`Enabled: ${s.name}`} busy={toggle.isPending} />
          <span aria-hidden>{s.enabled ? "Enabled" : "Disabled"}</span>
        </label>
      </div>
      <dl className="kv schedule-kv">
        <dt>Last run</dt>
        <dd>{s.last_run_at ? <span title={dateTime(s.last_run_at)}>{ago(s.last_run_at)}</span> : "Never"}</dd>
        <dt>Next run</dt>
        <dd>{!s.enabled ? "Disabled" : s.upcoming[0] ? `${slotText(s.upcoming[0], s.timezone)} (${ago(s.upcoming[0])})` : s.next_run_at ? slotText(s.next_run_at, s.timezone) : "–"}</dd>
        <dt>Server offline</dt>
        <dd>{s.only_when_online ? "Skips the run" : "Runs anyway"}</dd>
        <dt>Tasks</dt>
        <dd>
          <ol className="task-summary">
            {s.tasks.map((t, i) => (
              <li key={i}>
                {taskSummary(t)}
                {t.offset_seconds > 0 && <span className="muted"> after {t.offset_seconds}s</span>}
                {t.continue_on_failure && <span className="muted"> (continues on failure)</span>}
              </li>
            ))}
          </ol>
        </dd>
      </dl>
      <div className="row schedule-actions">
        <Button size="sm" onClick={() => setOpen(!open)} aria-expanded={open} aria-controls={panelId}>
          {open ? <ChevronDown size={14} aria-hidden /> : <ChevronRight size={14} aria-hidden />} Run history
        </Button>
        <Button size="sm" onClick={() => run.mutate()} busy={run.isPending}>
          <Play size={14} aria-hidden /> Run now
        </Button>
        <Button size="sm" onClick={onEdit}>
          <Pencil size={14} aria-hidden /> Edit
        </Button>
        <Button size="sm" variant="danger" onClick={() => setDeleting(true)}>
          <Trash2 size={14} aria-hidden /> Delete
        </Button>
      </div>
      {open && <RunsPanel serverId={serverId} scheduleId={s.id} id={panelId} />}
      <ConfirmDialog
        open={deleting}
        onOpenChange={setDeleting}
        title={`Delete "${s.name}"?`}
        description="The schedule and its run history are deleted. A run in progress stops before its next task."
        confirmLabel="Delete"
        danger
        onConfirm={remove}
      />
    </li>
  );
}
