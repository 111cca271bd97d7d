import { describe, expect, it } from "vitest";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Account } from "../../api/types";
import ServerList from "./ServerList";
import type { ListedServer } from "./list/filter";
import { makeAccount, nextServer as server } from "../../test/fixtures";
import { FakePanel, ok, renderWithPanel } from "../../test/panel";

const MIB = 1024 * 1024;

function stats(cpu: number, memMiB: number) {
  return {
    server_id: "x", at: "", cpu_percent: cpu, memory_bytes: memMiB * MIB, memory_limit_bytes: 1024 * MIB, pids: 1,
    net_rx_bytes: 0, net_tx_bytes: 0, disk_bytes: 0, disk_limit_bytes: 0, disk_at: "",
  };
}

function setup(list: ListedServer[], account?: Account) {
  const panel = new FakePanel({
    "GET /api/servers": ok(list),
    "GET /api/admin/nodes": ok([
      { id: "node-1", name: "Frankfurt-1", fqdn: "fra1.example", online: true, maintenance: false, agent: { resources: { cpu_cores: 8 } } },
      { id: "node-2", name: "Helsinki-2", fqdn: "hel2.example", online: false, maintenance: false, agent: null },
    ]),
  });
  return renderWithPanel(<ServerList />, { panel, account, path: "/" });
}

const rows = () => within(screen.getByRole("table", { name: "Servers" })).getAllByRole("row").slice(1);

describe("ServerList", () => {
  it("lists servers with their state, address and resource use", async () => {
    setup([
      { ...server({ name: "Survival", state: "running", cpu_percent: 200 }), stats: stats(50, 512) },
      { ...server({ name: "Creative", state: "stopped", node_id: "node-2" }), stats: null },
    ]);
    const link = await screen.findByRole("link", { name: "Survival" });
    expect(link.getAttribute("href")).toMatch(/^\/servers\/srv-/);
    const [first, second] = rows();
    expect(within(first).getByText("Running")).toHaveAttribute("data-state", "running");
    expect(within(first).getByText("10.0.0.5:25565")).toBeInTheDocument();
    expect(within(first).getByRole("meter", { name: "CPU of Survival" })).toHaveAttribute("aria-valuemax", "200");
    expect(within(first).getByRole("meter", { name: "Memory of Survival" })).toHaveAttribute("aria-valuetext", "512 MiB / 1.0 GiB");
    expect(await within(first).findByText("Frankfurt-1")).toBeInTheDocument();
    expect(within(second).getByText("Offline")).toBeInTheDocument();
    expect(within(second).getByText("(offline)")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "New server" })).toHaveAttribute("href", "/servers/new");
  });

  it("searches and filters by state and node", async () => {
    setup([
      server({ name: "Survival", state: "running" }),
      server({ name: "Creative", state: "stopped", node_id: "node-2" }),
      server({ name: "Valheim", state: "crashed", node_id: "node-2" }),
    ]);
    const user = userEvent.setup();
    const search = await screen.findByRole("searchbox", { name: "Search servers" });
    await user.type(search, "creat");
    expect(rows().map((r) => within(r).getByRole("link").textContent)).toEqual(["Creative"]);
    expect(screen.getByText("1 of 3 servers")).toBeInTheDocument();
    await user.clear(search);

    await user.click(screen.getByRole("button", { name: /Problems/ }));
    expect(rows().map((r) => within(r).getByRole("link").textContent)).toEqual(["Valheim"]);
    await user.click(screen.getByRole("button", { name: /All/ }));
    await user.selectOptions(screen.getByRole("combobox", { name: "Filter by node" }), "node-2");
    expect(rows().map((r) => within(r).getByRole("link").textContent)).toEqual(["Creative", "Valheim"]);
    await user.type(search, "zzz");
    expect(screen.getByText("No servers match")).toBeInTheDocument();
  });

  it("renders a long list whole and filters it", async () => {
    const many = Array.from({ length: 600 }, (_, i) => server({ name: `Game-${i}`, state: i % 3 === 0 ? "running" : "stopped" }));
    const { container } = setup(many);
    await screen.findByText("600 servers", undefined, { timeout: 15_000 });
    // Role queries are slow over 600 rows in jsdom; the links say enough.
    const names = () => [...container.querySelectorAll(".server-link")].map((a) => a.textContent);
    await waitFor(() => expect(names()).toHaveLength(600), { timeout: 15_000 });
    fireEvent.change(container.querySelector('input[aria-label="Search servers"]')!, { target: { value: "game-59" } });
    await screen.findByText("11 of 600 servers", undefined, { timeout: 15_000 });
    expect(names()).toEqual(["Game-59", ...Array.from({ length: 10 }, (_, i) => `Game-${590 + i}`)]);
  }, 20_000); // jsdom is slow to build 600 rows on a busy machine

  it("tells an administrator how to create the first server", async () => {
    setup([]);
    expect(await screen.findByText("No servers yet")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Nodes" })).toHaveAttribute("href", "/admin/nodes");
    expect(screen.getByRole("link", { name: "Create the first server" })).toHaveAttribute("href", "/servers/new");
  });

  it("offers a user neither the new server link nor the node column", async () => {
    setup([server({ name: "Mine" })], makeAccount());
    await screen.findByRole("link", { name: "Mine" });
    expect(screen.queryByRole("link", { name: "New server" })).toBeNull();
    expect(screen.queryByRole("columnheader", { name: "Node" })).toBeNull();
  });

  it("tells a user with no servers where they come from", async () => {
    setup([], makeAccount());
    expect(await screen.findByText(/When an administrator creates one for you/)).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: /server/i })).toBeNull();
  });
});
