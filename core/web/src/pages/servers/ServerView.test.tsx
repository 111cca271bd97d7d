import { describe, expect, it } from "vitest";
import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route } from "react-router";
import type { Account, Server } from "../../api/types";
import { makeAccount, nextServer as server } from "../../test/fixtures";
import { FakePanel, type Handler } from "../../test/panel";
import { primaryAddress } from "./address";
import { powerCheck } from "./power";
import { renderServerView } from "./testing";

function setup(srv: Server | null, opts: { power?: Handler; account?: Account } = {}) {
  const panel = new FakePanel();
  if (srv && opts.power) panel.on(`POST /api/servers/${srv.id}/power`, opts.power);
  const view = renderServerView(srv, {
    panel,
    account: opts.account,
    tab: "console",
    tabs: (
      <>
        <Route path="console" element={<p>console tab</p>} />
        <Route path="stats" element={<p>stats tab</p>} />
      </>
    ),
  });
  return { ...view, calls: panel.calls };
}

describe("ServerView", () => {
  it("shows the server's name, state, address and every tab to its owner", async () => {
    const s = server({ name: "Survival", state: "running" });
    setup(s);
    expect(await screen.findByRole("heading", { level: 1, name: "Survival" })).toBeInTheDocument();
    expect(screen.getByText("Running")).toHaveAttribute("data-state", "running");
    expect(screen.getByText("10.0.0.5:25565")).toBeInTheDocument();
    const tabs = within(screen.getByRole("navigation", { name: "Server sections" })).getAllByRole("link");
    expect(tabs.map((t) => t.textContent)).toEqual(["Console", "Stats", "Files", "Backups", "Schedules", "Users", "Startup", "Settings"]);
    expect(screen.getByRole("link", { name: "Console" })).toHaveAttribute("aria-current", "page");
    expect(screen.getByText("console tab")).toBeInTheDocument();
  });

  it("shows a subuser only the tabs their permissions open, and moves them off the console", async () => {
    const s = server({ permissions: ["server.read", "backup.create", "file.read"] });
    setup(s);
    expect(await screen.findByText("stats tab")).toBeInTheDocument();
    expect(screen.getByTestId("location")).toHaveTextContent(`/servers/${s.id}/stats`);
    const tabs = within(screen.getByRole("navigation", { name: "Server sections" })).getAllByRole("link");
    expect(tabs.map((t) => t.textContent)).toEqual(["Stats", "Files", "Backups", "Settings"]);
    // No server.start or server.stop: every power button is disabled.
    for (const name of ["Start", "Stop", "Restart", "Kill"]) {
      expect(screen.getByRole("button", { name })).toBeDisabled();
    }
  });

  it("enables the power buttons the state allows and kills only after confirming", async () => {
    const s = server({ state: "running" });
    const actions: unknown[] = [];
    setup(s, {
      power: (r) => {
        actions.push(r.body);
        return { status: 202, data: { ...s, state: "stopped" } };
      },
    });
    const user = userEvent.setup();
    await screen.findByRole("heading", { level: 1 });
    expect(screen.getByRole("button", { name: "Start" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Stop" })).toBeEnabled();
    expect(screen.getByRole("button", { name: "Restart" })).toBeEnabled();

    await user.click(screen.getByRole("button", { name: "Kill" }));
    const dialog = await screen.findByRole("alertdialog");
    expect(actions).toEqual([]);
    await user.click(within(dialog).getByRole("button", { name: "Kill" }));
    await waitFor(() => expect(actions).toEqual([{ action: "kill" }]));
    await waitFor(() => expect(screen.getByText("Offline")).toHaveAttribute("data-state", "stopped"));
    expect(screen.getByRole("button", { name: "Start" })).toBeEnabled();
  });

  it("shows a refused power action readably", async () => {
    const s = server({ state: "stopped" });
    setup(s, { power: () => ({ status: 409, error: { code: "conflict", message: "cannot start the server while it is installing" } }) });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Start" }));
    expect(await screen.findByText(/Could not start .*: cannot start the server while it is installing/)).toBeInTheDocument();
  });

  it("follows the socket's status messages", async () => {
    const s = server({ state: "stopped" });
    const { sockets } = setup(s);
    await screen.findByRole("heading", { level: 1 });
    await waitFor(() => expect(sockets.last()).toBeDefined());
    act(() => sockets.last()!.open());
    // The core records a state before it tells the sockets, so the
    // server's answer agrees with the message.
    s.state = "starting";
    act(() => sockets.last()!.receive({ type: "status", state: "starting" }));
    expect(await screen.findByText("Starting")).toHaveAttribute("data-state", "starting");
    Object.assign(s, { state: "crashed", state_reason: "exited with code 1", crash_count: 1 });
    act(() => sockets.last()!.receive({ type: "status", state: "crashed", reason: "exited with code 1" }));
    expect(await screen.findByText("Crashed")).toHaveAttribute("data-state", "crashed");
    expect(screen.getByText("exited with code 1")).toBeInTheDocument();
  });

  it("says when the live connection is lost", async () => {
    const s = server();
    const { sockets } = setup(s);
    await screen.findByRole("heading", { level: 1 });
    await waitFor(() => expect(sockets.last()).toBeDefined());
    act(() => sockets.last()!.open());
    act(() => sockets.last()!.drop(1006));
    expect(screen.getByText(/live connection was lost; reconnecting/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Retry now" })).toBeInTheDocument();
    act(() => sockets.last()!.drop(4003, "access to this server was revoked"));
    expect(screen.getByText("Live updates stopped: Access to this server was revoked.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Reconnect" })).toBeInTheDocument();
  });

  it("opens no socket for a suspended server unless the caller is an administrator", async () => {
    const { sockets, calls } = setup(server({ state: "suspended", permissions: ["server.read", "server.console"] }), { account: makeAccount() });
    expect(await screen.findByText("Suspended")).toHaveAttribute("data-state", "suspended");
    expect(sockets.list).toEqual([]);
    expect(calls.some((c) => c.path.endsWith("/ws/ticket"))).toBe(false);
  });

  it("explains a server that is not there", async () => {
    setup(null);
    expect(await screen.findByRole("heading", { name: "Server not found" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Back to servers" })).toHaveAttribute("href", "/");
  });
});

describe("power and address rules", () => {
  it("allows each action from the states the core allows it", () => {
    const at = (state: Server["state"]) => server({ state });
    expect(powerCheck(at("stopped"), "start").allowed).toBe(true);
    expect(powerCheck(at("crashed"), "start").allowed).toBe(true);
    expect(powerCheck(at("installing"), "start")).toEqual({ allowed: false, why: "Not possible while the server is installing." });
    expect(powerCheck(at("stopping"), "kill").allowed).toBe(true);
    expect(powerCheck(at("stopping"), "stop").allowed).toBe(false);
    expect(powerCheck(server({ permissions: ["server.start"] }), "kill")).toEqual({ allowed: false, why: "You need the server.stop permission." });
  });

  it("formats the primary allocation, brackets for IPv6", () => {
    expect(primaryAddress({ allocations: [{ ip: "1.2.3.4", port: 1, primary: false }, { ip: "5.6.7.8", port: 2, primary: true }] })).toBe("5.6.7.8:2");
    expect(primaryAddress({ allocations: [{ ip: "2001:db8::1", port: 27015, primary: true }] })).toBe("[2001:db8::1]:27015");
    expect(primaryAddress({ allocations: [] })).toBe("");
  });
});
