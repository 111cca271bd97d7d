import "uplot/dist/uPlot.min.css";
import { useEffect, useId, useRef, type ReactNode } from "react";
import uPlot from "uplot";
import { useTheme } from "../../../ui/theme";
import { cssVar } from "../../../ui/theme";

export interface ChartLine {
  label: string;
  /** A colour custom property of the theme, e.g. "--accent". */
  color: string;
  dashed?: boolean;
  filled?: boolean;
}

interface ChartProps {
  title: string;
  /** [t (seconds), …one column per line]. */
  data: uPlot.AlignedData;
  lines: ChartLine[];
  format: (v: number) => string;
  /** The numbers a reader needs without the picture: now, max. */
  summary: ReactNode;
  /** The y axis reaches at least this high. */
  minTop?: number;
}

const HEIGHT = 190;

/** withAlpha turns a #rrggbb colour into rgba with alpha a; anything else
 * is returned as is. */
export function withAlpha(color: string, a: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) return color;
  return `rgba(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)}, ${a})`;
}

/** Chart is one uPlot time chart, themed from the page's colours, as wide
 * as its box. The picture is hidden from screen readers; its title names
 * it and the summary gives its numbers. */
export function Chart({ title, data, lines, format, summary, minTop = 0 }: ChartProps) {
  const titleId = useId();
  const sumId = useId();
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;
  const fmt = useRef(format);
  fmt.current = format;
  const { theme } = useTheme();
  const linesKey = JSON.stringify(lines);

  useEffect(() => {
    const el = box.current!;
    const muted = cssVar("--text-muted");
    const grid = cssVar("--border");
    const defs: ChartLine[] = JSON.parse(linesKey);
    const axis: uPlot.Axis = {
      stroke: muted,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      font: `11px ${cssVar("--font") || "sans-serif"}`,
    };
    const opts: uPlot.Options = {
      width: el.clientWidth || 320,
      height: HEIGHT,
      cursor: { drag: { x: true, y: false } },
      legend: { show: true, live: true },
      scales: { y: { range: (_u, _min, max) => [0, Math.max(max * 1.1, minTop, 1e-9)] } },
      axes: [axis, { ...axis, size: 72, values: (_u, ticks) => ticks.map((v) => fmt.current(v)) }],
      series: [
        {},
        ...defs.map((l) => {
          const stroke = cssVar(l.color);
          return {
            label: l.label,
            stroke,
            width: 1.5,
            dash: l.dashed ? [5, 4] : undefined,
            fill: l.filled ? withAlpha(stroke, 0.15) : undefined,
            points: { show: false },
            value: (_u: uPlot, v: number | null) => (v === null ? "–" : fmt.current(v)),
          };
        }),
      ],
    };
    const u = new uPlot(opts, latest.current, el);
    plot.current = u;
    const ro =
      typeof ResizeObserver === "undefined"
        ? null
        : new ResizeObserver(() => {
            if (el.clientWidth > 0) u.setSize({ width: el.clientWidth, height: HEIGHT });
          });
    ro?.observe(el);
    return () => {
      ro?.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [theme, linesKey, minTop]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return (
    <figure className="chart card" aria-labelledby={titleId} aria-describedby={sumId}>
      <figcaption className="chart-head">
        <h3 id={titleId}>{title}</h3>
        <p id={sumId} className="chart-summary small">
          {summary}
        </p>
      </figcaption>
      <div className="chart-plot" ref={box} aria-hidden="true" />
    </figure>
  );
}
