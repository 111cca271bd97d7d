// Turning resource samples (live stats messages, or the points of GET
// /api/servers/:id/metrics) into the columns the charts draw. Network
// counters are cumulative, so the charts show their rate: the change
// between two samples over the time between them.

import type { ServerStats } from "../../../live/types";

/** A sample: t in seconds since the epoch; rx and tx cumulative bytes. */
export interface Sample {
  t: number;
  cpu: number;
  mem: number;
  memLimit: number;
  rx: number;
  tx: number;
  disk: number;
}

/** store.ServerMetricPoint: one step of a downsampled history. */
export interface MetricPoint {
  at: string;
  samples: number;
  cpu_percent: number;
  memory_bytes: number;
  memory_max_bytes: number;
  memory_limit_bytes: number;
  pids: number;
  net_rx_bytes: number;
  net_tx_bytes: number;
  disk_bytes: number;
}

/** The answer of GET /api/servers/:id/metrics (api.serverHistory). */
export interface ServerHistory {
  server_id: string;
  from: string;
  to: string;
  step_seconds: number;
  points: MetricPoint[];
}

type Col = (number | null)[];

/** Columns for the charts, aligned on t. null is a gap. */
export interface Series {
  t: number[];
  cpu: Col;
  mem: Col;
  memLimit: Col;
  rxRate: Col;
  txRate: Col;
  disk: Col;
}

/** The fields a live stats message and a history point share, by the
 * same names. */
type Reading = Pick<MetricPoint, "at" | "cpu_percent" | "memory_bytes" | "memory_limit_bytes" | "net_rx_bytes" | "net_tx_bytes" | "disk_bytes">;

function sampleOf(r: Reading): Sample {
  return {
    t: Date.parse(r.at) / 1000,
    cpu: r.cpu_percent,
    mem: r.memory_bytes,
    memLimit: r.memory_limit_bytes,
    rx: r.net_rx_bytes,
    tx: r.net_tx_bytes,
    disk: r.disk_bytes,
  };
}

export const fromStats: (s: ServerStats) => Sample = sampleOf;
export const fromPoint: (p: MetricPoint) => Sample = sampleOf;

/** pushWindow appends s to a window of samples sorted by time and drops
 * those older than windowSeconds before it; a sample not newer than the
 * last is ignored. The array returned is new when anything changed. */
export function pushWindow(samples: Sample[], s: Sample, windowSeconds: number): Sample[] {
  if (!Number.isFinite(s.t)) return samples;
  const last = samples[samples.length - 1];
  if (last && s.t <= last.t) return samples;
  const from = s.t - windowSeconds;
  let i = 0;
  while (i < samples.length && samples[i].t < from) i++;
  return [...samples.slice(i), s];
}

/** liveWindow joins the history's samples (seed) with the live ones: the
 * seed's samples from the window before the first live one. */
export function liveWindow(seed: Sample[], live: Sample[], now: number, windowSeconds: number): Sample[] {
  const end = live.length > 0 ? Math.max(now, live[live.length - 1].t) : now;
  const from = end - windowSeconds;
  const firstLive = live.length > 0 ? live[0].t : Infinity;
  return [...seed.filter((s) => s.t >= from && s.t < firstLive), ...live.filter((s) => s.t >= from)];
}

/** toSeries lays samples (sorted by time) out as columns. Where two
 * samples are more than gap seconds apart the lines break (a row of
 * nulls between them), and a rate is null where it cannot be known: the
 * first sample, after a gap, and where a counter went back (the
 * container restarted). */
export function toSeries(samples: Sample[], gap: number): Series {
  const out: Series = { t: [], cpu: [], mem: [], memLimit: [], rxRate: [], txRate: [], disk: [] };
  const rate = (now: number, before: number, dt: number) => (now >= before ? (now - before) / dt : null);
  let prev: Sample | undefined;
  for (const s of samples) {
    const dt = prev ? s.t - prev.t : 0;
    if (prev && dt > gap) {
      out.t.push(prev.t + dt / 2);
      for (const c of [out.cpu, out.mem, out.memLimit, out.rxRate, out.txRate, out.disk]) c.push(null);
    }
    const joined = prev !== undefined && dt > 0 && dt <= gap;
    out.t.push(s.t);
    out.cpu.push(s.cpu);
    out.mem.push(s.mem);
    out.memLimit.push(s.memLimit > 0 ? s.memLimit : null);
    out.rxRate.push(joined ? rate(s.rx, prev!.rx, dt) : null);
    out.txRate.push(joined ? rate(s.tx, prev!.tx, dt) : null);
    out.disk.push(s.disk);
    prev = s;
  }
  return out;
}

/** summary is the latest and the largest value of a column. */
export function summary(col: Col): { current: number | null; max: number | null } {
  let current: number | null = null;
  let max: number | null = null;
  for (const v of col) {
    if (v === null) continue;
    current = v;
    if (max === null || v > max) max = v;
  }
  return { current, max };
}
