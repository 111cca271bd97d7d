import { useMemo, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import type uPlot from "uplot";
import { useApi } from "../../api/context";
import type { Server } from "../../api/types";
import { EmptyState, ErrorBox, Loading } from "../../ui/feedback";
import { bytes, percent } from "../../ui/format";
import { useLive, useServer } from "./context";
import { Chart } from "./stats/Chart";
import { fromPoint, fromStats, liveWindow, pushWindow, summary, toSeries, type Sample, type Series, type ServerHistory } from "./stats/series";

type Range = "live" | "1h" | "24h" | "7d";

// Live only seeds its window from the history: the socket brings the
// rest, so it does not poll.
const RANGES: { key: Range; label: string; hours: number; refetch: number | false }[] = [
  { key: "live", label: "Live", hours: 1, refetch: false },
  { key: "1h", label: "1 hour", hours: 1, refetch: 60_000 },
  { key: "24h", label: "24 hours", hours: 24, refetch: 300_000 },
  { key: "7d", label: "7 days", hours: 168, refetch: 900_000 },
];

// The live charts show the last five minutes; a sample more than a
// minute after the one before starts a new stretch of line.
const LIVE_WINDOW = 300;
const LIVE_GAP = 60;

const MIB = 1024 * 1024;

/** StatsTab charts the server's CPU, memory, network and disk use: live
 * from the socket, or from the recorded history. */
export default function StatsTab() {
  const { server } = useServer();
  const api = useApi();
  const [range, setRange] = useState<Range>("live");
  const r = RANGES.find((x) => x.key === range)!;
  const history = useQuery({
    queryKey: ["server", server.id, "metrics", r.hours],
    queryFn: ({ signal }) => api.get<ServerHistory>(`/api/servers/${server.id}/metrics`, { query: { hours: r.hours }, signal }),
    refetchInterval: r.refetch,
  });

  const [live, setLive] = useState<Sample[]>([]);
  useLive(["stats"], (m) => {
    if (m.type === "stats") setLive((w) => pushWindow(w, fromStats(m), LIVE_WINDOW));
  });

  const seed = useMemo(() => (history.data?.points ?? []).map(fromPoint), [history.data]);
  const [now, setNow] = useState(() => Date.now() / 1000);
  const series = useMemo(() => {
    if (range === "live") return toSeries(liveWindow(seed, live, now, LIVE_WINDOW), LIVE_GAP);
    const step = history.data?.step_seconds ?? 60;
    return toSeries(seed, step * 1.5);
  }, [range, seed, live, now, history.data]);

  return (
    <div className="stats-tab">
      <div className="row-between stats-toolbar">
        <div className="segmented" role="group" aria-label="Time range">
          {RANGES.map((x) => (
            <button
              key={x.key}
              type="button"
              className="segment"
              aria-pressed={range === x.key}
              onClick={() => {
                setNow(Date.now() / 1000);
                setRange(x.key);
              }}
            >
              {x.label}
            </button>
          ))}
        </div>
        <span className="muted small">{range === "live" ? "The last 5 minutes, as samples arrive." : `Averages over ${stepText(history.data?.step_seconds)}.`}</span>
      </div>
      <StatsBody server={server} range={range} series={series} history={history} />
    </div>
  );
}

function stepText(s: number | undefined): string {
  if (!s) return "each step";
  if (s < 120) return `${s} s steps`;
  if (s < 7200) return `${Math.round(s / 60)} min steps`;
  return `${Math.round(s / 3600)} h steps`;
}

function StatsBody({
  server,
  range,
  series,
  history,
}: {
  server: Server;
  range: Range;
  series: Series;
  history: { isPending: boolean; isError: boolean; error: unknown; refetch: () => unknown };
}) {
  if (range !== "live") {
    if (history.isPending) return <Loading label="Loading the history…" />;
    if (history.isError) return <ErrorBox error={history.error} retry={() => history.refetch()} title="The history could not be loaded" />;
  }
  if (series.t.length === 0) {
    return range === "live" ? (
      <EmptyState title="Waiting for the first sample">Samples arrive every few seconds while the server's node is connected.</EmptyState>
    ) : (
      <EmptyState title="No history for this range">Resource use is recorded while the server's node is connected; nothing was recorded in this time.</EmptyState>
    );
  }
  return <Charts server={server} series={series} />;
}

const rate = (v: number) => `${bytes(v)}/s`;
const pct = (v: number) => percent(v, v > 0 && v < 10 ? 1 : 0);

function nowMax(col: (number | null)[], f: (v: number) => string): string {
  const s = summary(col);
  if (s.current === null || s.max === null) return "No data";
  return `Now ${f(s.current)}, max ${f(s.max)}`;
}

function Charts({ server, series }: { server: Server; series: Series }) {
  const d = useMemo(() => {
    const t = series.t;
    return {
      cpu: [t, series.cpu] as uPlot.AlignedData,
      mem: [t, series.mem, series.memLimit] as uPlot.AlignedData,
      net: [t, series.rxRate, series.txRate] as uPlot.AlignedData,
      disk: [t, series.disk] as uPlot.AlignedData,
    };
  }, [series]);
  const cpuLimit = server.cpu_percent || 100;
  const memLimit = server.memory_mb * MIB;
  const diskLimit = server.disk_mb * MIB;
  const rx = summary(series.rxRate);
  const tx = summary(series.txRate);
  return (
    <div className="charts">
      <Chart
        title="CPU"
        data={d.cpu}
        lines={[{ label: "CPU", color: "--accent", filled: true }]}
        format={pct}
        minTop={10}
        summary={`${nowMax(series.cpu, pct)} of a ${percent(cpuLimit)} limit`}
      />
      <Chart
        title="Memory"
        data={d.mem}
        lines={[
          { label: "Used", color: "--busy", filled: true },
          { label: "Limit", color: "--text-muted", dashed: true },
        ]}
        format={bytes}
        summary={`${nowMax(series.mem, bytes)} of ${bytes(memLimit)}`}
      />
      <Chart
        title="Network"
        data={d.net}
        lines={[
          { label: "Received", color: "--ok" },
          { label: "Sent", color: "--warn" },
        ]}
        format={rate}
        summary={
          rx.current === null || tx.current === null
            ? "No data"
            : `Received now ${rate(rx.current)} (max ${rate(rx.max!)}), sent now ${rate(tx.current)} (max ${rate(tx.max!)})`
        }
      />
      <Chart
        title="Disk"
        data={d.disk}
        lines={[{ label: "Used", color: "--ok", filled: true }]}
        format={bytes}
        summary={`${nowMax(series.disk, bytes)} of ${bytes(diskLimit)}`}
      />
    </div>
  );
}
