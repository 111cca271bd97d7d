import { describe, expect, it } from "vitest";
import { fromPoint, fromStats, liveWindow, pushWindow, summary, toSeries, type Sample } from "./series";

const s = (t: number, over: Partial<Sample> = {}): Sample => ({ t, cpu: 10, mem: 100, memLimit: 1000, rx: 0, tx: 0, disk: 5, ...over });

describe("pushWindow", () => {
  it("keeps the last window of samples, in order", () => {
    let w: Sample[] = [];
    for (const t of [0, 100, 200, 301, 350]) w = pushWindow(w, s(t), 300);
    expect(w.map((x) => x.t)).toEqual([100, 200, 301, 350]);
  });

  it("ignores a sample that is not newer than the last", () => {
    const w = [s(10), s(20)];
    expect(pushWindow(w, s(20), 300)).toBe(w);
    expect(pushWindow(w, s(15), 300)).toBe(w);
    expect(pushWindow(w, s(NaN), 300)).toBe(w);
  });
});

describe("liveWindow", () => {
  it("fills the window before the first live sample from the history", () => {
    const seed = [s(0), s(30), s(60), s(90)];
    const live = [s(75), s(80)];
    expect(liveWindow(seed, live, 100, 60).map((x) => x.t)).toEqual([60, 75, 80]);
    expect(liveWindow(seed, [], 100, 60).map((x) => x.t)).toEqual([60, 90]);
  });
});

describe("toSeries", () => {
  it("turns cumulative network counters into rates", () => {
    const col = toSeries([s(0, { rx: 1000, tx: 0 }), s(10, { rx: 3000, tx: 500 }), s(20, { rx: 3000, tx: 600 })], 60);
    expect(col.t).toEqual([0, 10, 20]);
    expect(col.rxRate).toEqual([null, 200, 0]);
    expect(col.txRate).toEqual([null, 50, 10]);
  });

  it("leaves a rate unknown where the counter went back (a restart)", () => {
    const col = toSeries([s(0, { rx: 5000 }), s(10, { rx: 100 }), s(20, { rx: 300 })], 60);
    expect(col.rxRate).toEqual([null, null, 20]);
  });

  it("breaks the lines across a gap and does not bridge a rate over it", () => {
    const col = toSeries([s(0, { rx: 0 }), s(30, { rx: 300 }), s(300, { rx: 900 }), s(330, { rx: 1200 })], 45);
    expect(col.t).toEqual([0, 30, 165, 300, 330]);
    expect(col.cpu).toEqual([10, 10, null, 10, 10]);
    expect(col.rxRate).toEqual([null, 10, null, null, 10]);
  });

  it("shows an unlimited memory limit as no line", () => {
    expect(toSeries([s(0, { memLimit: 0 })], 60).memLimit).toEqual([null]);
  });
});

describe("conversions and summary", () => {
  it("reads live stats and history points alike", () => {
    const stats = fromStats({
      server_id: "x", at: "2025-01-01T00:00:10Z", cpu_percent: 5, memory_bytes: 1, memory_limit_bytes: 2, pids: 1,
      net_rx_bytes: 3, net_tx_bytes: 4, disk_bytes: 6, disk_limit_bytes: 7, disk_at: "",
    });
    expect(stats).toEqual({ t: 1735689610, cpu: 5, mem: 1, memLimit: 2, rx: 3, tx: 4, disk: 6 });
    const point = fromPoint({
      at: "2025-01-01T00:00:10Z", samples: 3, cpu_percent: 5, memory_bytes: 1, memory_max_bytes: 9, memory_limit_bytes: 2, pids: 1,
      net_rx_bytes: 3, net_tx_bytes: 4, disk_bytes: 6,
    });
    expect(point).toEqual(stats);
  });

  it("summarises the latest and largest value, skipping gaps", () => {
    expect(summary([1, 7, null, 3, null])).toEqual({ current: 3, max: 7 });
    expect(summary([null])).toEqual({ current: null, max: null });
  });
});
