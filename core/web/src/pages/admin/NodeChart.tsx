// The node history chart. uPlot is heavy: only NodeDetail imports this
// file, so it loads with that page alone.

import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { cssVar, useTheme } from "../../ui/theme";
import type { NodeMetricPoint } from "./types";

/** historySeries turns history points into the chart's columns: time in
 * seconds, then CPU (shared over cores), memory and disk, each a
 * percentage; a step without samples is a gap. */
function historySeries(points: NodeMetricPoint[], cores: number): [number[], (number | null)[], (number | null)[], (number | null)[]] {
  const c = Math.max(1, cores);
  const pct = (v: number, max: number) => (max > 0 ? Math.round((v / max) * 1000) / 10 : null);
  const xs: number[] = [];
  const cpu: (number | null)[] = [];
  const mem: (number | null)[] = [];
  const disk: (number | null)[] = [];
  for (const p of points) {
    xs.push(Date.parse(p.at) / 1000);
    const none = p.samples === 0;
    cpu.push(none ? null : Math.round((p.cpu_percent / c) * 10) / 10);
    mem.push(none ? null : pct(p.memory_used_bytes, p.memory_total_bytes));
    disk.push(none ? null : pct(p.disk_used_bytes, p.disk_total_bytes));
  }
  return [xs, cpu, mem, disk];
}

/** NodeChart draws CPU, memory and disk use over time, in percent. */
export default function NodeChart({ points, cores, label }: { points: NodeMetricPoint[]; cores: number; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const { theme } = useTheme();
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const text = cssVar("--text-muted");
    const grid = cssVar("--border");
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const line = (name: string, color: string): uPlot.Series => ({
      label: name,
      stroke: color,
      width: 2,
      value: (_u, v) => (v == null ? "–" : `${v.toFixed(1)}%`),
    });
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: 240,
      scales: { y: { range: [0, 100] } },
      axes: [axis, { ...axis, values: (_u, ticks) => ticks.map((t) => `${t}%`), size: 50 }],
      series: [{}, line("CPU", cssVar("--accent")), line("Memory", cssVar("--ok")), line("Disk", cssVar("--warn"))],
    };
    const chart = new uPlot(opts, historySeries(points, cores), el);
    const ro = new ResizeObserver(() => chart.setSize({ width: el.clientWidth, height: 240 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      chart.destroy();
    };
  }, [points, cores, theme]);
  return <div ref={box} className="node-chart" role="img" aria-label={label} />;
}
