import { useEffect, useRef } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useApi } from "../../../api/context";
import { QueryState } from "../../../ui/QueryState";
import { EmptyState } from "../../../ui/feedback";
import { ago, dateTime, duration } from "../../../ui/format";
import { ToneBadge } from "../../../ui/status";
import { runStatusText, runStatusTone, taskSummary, triggerText, type Run } from "./model";

// While a run is under way its tasks move on; ask again this often.
const RUNNING_POLL_MS = 2000;

export function runsKey(serverId: string, scheduleId: string) {
  return ["server", serverId, "schedules", scheduleId, "runs"];
}

/** RunsPanel is a schedule's run log, newest first. */
export function RunsPanel({ serverId, scheduleId, id }: { serverId: string; scheduleId: string; id: string }) {
  const api = useApi();
  const runs = useQuery({
    queryKey: runsKey(serverId, scheduleId),
    queryFn: ({ signal }) => api.get<Run[]>(`/api/servers/${serverId}/schedules/${scheduleId}/runs`, { signal, query: { limit: 20 } }),
    refetchInterval: (q) => (q.state.data?.some((r) => r.status === "running") ? RUNNING_POLL_MS : false),
  });
  // When a run ends the schedule's last run has changed too.
  const qc = useQueryClient();
  const running = !!runs.data?.some((r) => r.status === "running");
  const wasRunning = useRef(running);
  useEffect(() => {
    if (wasRunning.current && !running) qc.invalidateQueries({ queryKey: ["server", serverId, "schedules"], exact: true });
    wasRunning.current = running;
  }, [running, qc, serverId]);
  return (
    <div className="runs-panel" id={id}>
      <QueryState
        query={runs}
        loading="Loading runs…"
        failed="The runs could not be loaded"
        empty={<EmptyState title="No runs yet">It runs at its next time, or when you press Run now.</EmptyState>}
      >
        {(list) => (
          <ol className="runs-list" aria-label="Runs">
            {list.map((r) => (
              <RunItem key={r.id} run={r} />
            ))}
          </ol>
        )}
      </QueryState>
    </div>
  );
}

function RunItem({ run: r }: { run: Run }) {
  const took = r.finished_at ? (new Date(r.finished_at).getTime() - new Date(r.started_at).getTime()) / 1000 : null;
  return (
    <li className="run-item">
      <div className="run-head">
        <ToneBadge tone={runStatusTone(r.status)}>{runStatusText(r.status)}</ToneBadge>
        <span>{triggerText(r.trigger)}</span>
        <span className="muted small" title={dateTime(r.started_at)}>
          started {ago(r.started_at)}
          {took !== null && `, took ${duration(took)}`}
        </span>
      </div>
      {r.error && <p className="field-error small">{r.error}</p>}
      <ol className="run-tasks">
        {r.tasks.map((t, i) => (
          <li key={i} className="run-task">
            <span className={`badge badge-${runStatusTone(t.status)}`}>{runStatusText(t.status)}</span>
            <span className="mono small">{taskSummary(t)}</span>
            {t.started_at && (
              <span className="muted small" title={dateTime(t.started_at)}>
                {new Date(t.started_at).toLocaleTimeString()}
                {t.finished_at && ` → ${new Date(t.finished_at).toLocaleTimeString()}`}
              </span>
            )}
            {t.error && <span className="field-error small block">{t.error}</span>}
          </li>
        ))}
      </ol>
    </li>
  );
}
