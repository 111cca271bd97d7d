import { describe, expect, it, vi } from "vitest";
import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route } from "react-router";
import type { Server } from "../../api/types";
import StatsTab from "./StatsTab";
import { withAlpha } from "./stats/Chart";
import { nextServer as server } from "../../test/fixtures";
import { type Call, FakePanel, ok, refuse } from "../../test/panel";
import { renderServerView } from "./testing";

// jsdom has no canvas; the charts' numbers are in their summaries.
const plots: { data: unknown }[] = [];
vi.mock("uplot", () => ({
  default: class {
    rec: { data: unknown };
    constructor(_opts: unknown, data: unknown) {
      this.rec = { data };
      plots.push(this.rec);
    }
    setData(d: unknown) {
      this.rec.data = d;
    }
    setSize() {}
    destroy() {}
  },
}));

const MIB = 1024 * 1024;

function setup(srv: Server, history: (r: Call) => unknown) {
  const panel = new FakePanel().on(`GET /api/servers/${srv.id}/metrics`, (r) => ok(history(r)));
  const { sockets } = renderServerView(srv, { panel, tab: "stats", tabs: <Route path="stats" element={<StatsTab />} /> });
  return { sockets, calls: panel.calls };
}

function point(at: number, over: Record<string, number> = {}) {
  return {
    at: new Date(at * 1000).toISOString(),
    samples: 10,
    cpu_percent: 20,
    memory_bytes: 256 * MIB,
    memory_max_bytes: 300 * MIB,
    memory_limit_bytes: 1024 * MIB,
    pids: 5,
    net_rx_bytes: 0,
    net_tx_bytes: 0,
    disk_bytes: 2048 * MIB,
    ...over,
  };
}

describe("StatsTab", () => {
  it("charts live samples and sums them up in words", async () => {
    const srv = server({ cpu_percent: 200 });
    const { sockets } = setup(srv, () => ({ server_id: srv.id, step_seconds: 30, points: [] }));
    expect(await screen.findByText("Waiting for the first sample")).toBeInTheDocument();
    await waitFor(() => expect(sockets.last()).toBeDefined());
    const ws = sockets.last()!;
    act(() => ws.open());
    const t0 = Date.now() / 1000;
    const sample = (dt: number, cpu: number, rx: number) => ({
      type: "stats",
      server_id: srv.id,
      at: new Date((t0 + dt) * 1000).toISOString(),
      cpu_percent: cpu,
      memory_bytes: 512 * MIB,
      memory_limit_bytes: 1024 * MIB,
      pids: 3,
      net_rx_bytes: rx,
      net_tx_bytes: 0,
      disk_bytes: 1024 * MIB,
      disk_limit_bytes: 5120 * MIB,
      disk_at: "",
    });
    act(() => ws.receive(sample(0, 40, 0)));
    act(() => ws.receive(sample(10, 25, 10240)));
    expect(await screen.findByRole("figure", { name: "CPU" })).toHaveAccessibleDescription("Now 25%, max 40% of a 200% limit");
    expect(screen.getByRole("figure", { name: "Memory" })).toHaveAccessibleDescription("Now 512 MiB, max 512 MiB of 1.0 GiB");
    expect(screen.getByRole("figure", { name: "Network" })).toHaveAccessibleDescription("Received now 1.0 KiB/s (max 1.0 KiB/s), sent now 0 B/s (max 0 B/s)");
    expect(plots.length).toBe(4);
  });

  it("loads the history of the range chosen", async () => {
    const srv = server();
    const now = Math.floor(Date.now() / 1000);
    const { calls } = setup(srv, (r) => ({
      server_id: srv.id,
      step_seconds: 300,
      points: r.query.get("hours") === "24" ? [point(now - 600, { cpu_percent: 80 }), point(now - 300, { cpu_percent: 30 })] : [],
    }));
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "24 hours" }));
    expect(screen.getByRole("button", { name: "24 hours" })).toHaveAttribute("aria-pressed", "true");
    expect(await screen.findByRole("figure", { name: "CPU" })).toHaveAccessibleDescription("Now 30%, max 80% of a 100% limit");
    expect(calls.some((c) => c.path.endsWith("/metrics") && c.query.get("hours") === "24")).toBe(true);

    await user.click(screen.getByRole("button", { name: "7 days" }));
    expect(await screen.findByText("No history for this range")).toBeInTheDocument();
  });

  it("shows a history that failed to load", async () => {
    const srv = server();
    const panel = new FakePanel().on(`GET /api/servers/${srv.id}/metrics`, refuse(422, "invalid", "hours must be between 1 and 720", "hours"));
    renderServerView(srv, { panel, tab: "stats", tabs: <Route path="stats" element={<StatsTab />} /> });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "1 hour" }));
    expect(await screen.findByText("hours must be between 1 and 720")).toBeInTheDocument();
  });
});

describe("withAlpha", () => {
  it("adds an alpha to a hex colour and leaves other colours alone", () => {
    expect(withAlpha("#7c6dff", 0.15)).toBe("rgba(124, 109, 255, 0.15)");
    expect(withAlpha("rgb(1, 2, 3)", 0.5)).toBe("rgb(1, 2, 3)");
  });
});
