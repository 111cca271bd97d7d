import { describe, expect, it } from "vitest";
import { healthUsage, nodeStatus, parsePortList } from "./nodes";
import { sampleNode } from "./fixtures";

const base = sampleNode();

describe("parsePortList", () => {
  it("splits ports and ranges on commas and spaces", () => {
    expect(parsePortList("25565-25570,25580  27015")).toEqual({ ports: ["25565-25570", "25580", "27015"] });
  });

  it.each([
    ["", "at least one port"],
    ["abc", '"abc" is not a port'],
    ["0", '"0" is not a port'],
    ["70000", '"70000" is not a port'],
    ["25570-25565", '"25570-25565" is not a port'],
    ["1000-2000", "more than 1000 ports"],
  ])("refuses %j", (input, message) => {
    const r = parsePortList(input);
    expect("error" in r && r.error).toContain(message);
  });
});

describe("nodeStatus", () => {
  const now = Date.parse("2026-06-01T12:00:00Z");
  it("says online with the connection's age", () => {
    const s = nodeStatus({ ...base, online: true, agent: { version: "1", capabilities: [], resources: {} as never, connected_at: "2026-06-01T11:00:00Z" } }, now);
    expect(s).toEqual({ tone: "ok", label: "Online", detail: "connected 1 h ago" });
  });
  it("says when an offline node was last seen", () => {
    expect(nodeStatus({ ...base, last_seen_at: "2026-06-01T11:55:00Z" }, now)).toEqual({ tone: "bad", label: "Offline", detail: "last seen 5 min ago" });
    expect(nodeStatus(base, now).detail).toBe("never seen");
  });
  it("tells a node whose agent never enrolled apart", () => {
    expect(nodeStatus({ ...base, enrolled: false }, now).label).toBe("Not enrolled");
  });
});

describe("healthUsage", () => {
  it("shares CPU over the cores and gives memory and disk as parts of their totals", () => {
    const u = healthUsage({
      at: "",
      cpu_percent: 200,
      cpu_cores: 4,
      memory_used_bytes: 4,
      memory_total_bytes: 16,
      disk_used_bytes: 0,
      disk_total_bytes: 0,
      load1: 0,
      load5: 0,
      load15: 0,
      containers: 0,
    });
    expect(u.cpu).toEqual({ value: 200, max: 400, pct: 50 });
    expect(u.memory.pct).toBe(25);
    expect(u.disk.pct).toBe(0);
  });
});
