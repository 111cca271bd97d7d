import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import SettingsTab from "../SettingsTab";
import { ALL_SERVER_PERMISSIONS, makeAccount, makeServer } from "../../../test/fixtures";
import { FakePanel, renderTab } from "../../../test/panel";

const PATCH = "PATCH /api/servers/srv1";

function routed() {
  return (
    <Routes>
      <Route path="/servers/:id" element={<SettingsTab />} />
      <Route path="/" element={<p>The server list</p>} />
    </Routes>
  );
}

describe("SettingsTab", { timeout: 30_000 }, () => {
  it("renames the server and shows a refused name beside its field", async () => {
    const user = userEvent.setup();
    let refuse = true;
    const panel = new FakePanel().on(PATCH, (c) =>
      refuse
        ? { status: 422, error: { code: "invalid_field", field: "name", message: "name: must be 1-64 characters, without control characters" } }
        : { data: makeServer(c.body as object) },
    );
    renderTab(<SettingsTab />, { panel });
    const name = screen.getByLabelText("Server name");
    await user.clear(name);
    await user.type(name, "Creative");
    await user.click(screen.getByRole("button", { name: "Save details" }));
    expect(await screen.findByText("must be 1-64 characters, without control characters")).toBeInTheDocument();
    expect(name).toHaveAttribute("aria-invalid", "true");
    refuse = false;
    await user.click(screen.getByRole("button", { name: "Save details" }));
    expect(await screen.findByText("Saved the details of Creative")).toBeInTheDocument();
    expect(panel.called(PATCH).at(-1)!.body).toEqual({ name: "Creative", description: "The main world" });
  });

  it("gives the SFTP details with a ready command line to copy", async () => {
    const user = userEvent.setup();
    renderTab(<SettingsTab />, { server: makeServer({ sftp: { host: "node1.example.com", port: 2022, username: "owner.abcd1234" } }) });
    expect(screen.getByText("sftp -P 2022 owner.abcd1234@node1.example.com")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Copy command" }));
    expect(await navigator.clipboard.readText()).toBe("sftp -P 2022 owner.abcd1234@node1.example.com");
    expect(screen.getByText(/your panel account's password, or with an SSH key/)).toBeInTheDocument();
  });

  it("says why there are no SFTP details", () => {
    const { unmount } = renderTab(<SettingsTab />, { server: makeServer({ permissions: ALL_SERVER_PERMISSIONS.filter((p) => p !== "file.sftp") }) });
    expect(screen.getByText(/SFTP needs the file.sftp permission/)).toBeInTheDocument();
    unmount();
    renderTab(<SettingsTab />);
    expect(screen.getByText(/node does not serve SFTP, or it is offline/)).toBeInTheDocument();
  });

  it("shows resources to users and lets administrators change them", async () => {
    const user = userEvent.setup();
    const { unmount } = renderTab(<SettingsTab />);
    expect(screen.getByText("2.0 GiB")).toBeInTheDocument();
    expect(screen.queryByLabelText("Memory (MiB)")).not.toBeInTheDocument();
    unmount();

    const panel = new FakePanel().on(PATCH, { data: makeServer() }).on("GET /api/admin/nodes", { data: [] });
    renderTab(<SettingsTab />, { panel, account: makeAccount({ admin: true }) });
    const memory = await screen.findByLabelText("Memory (MiB)");
    await user.clear(memory);
    await user.type(memory, "3.5");
    await user.click(screen.getByRole("button", { name: "Save resources" }));
    expect(screen.getByText("must be a whole number")).toBeInTheDocument();
    expect(panel.called(PATCH)).toHaveLength(0);
    await user.clear(memory);
    await user.type(memory, "4096");
    await user.type(screen.getByLabelText("Backups kept"), "2");
    await user.click(screen.getByRole("button", { name: "Save resources" }));
    await waitFor(() => expect(panel.called(PATCH)).toHaveLength(1));
    expect(panel.called(PATCH)[0].body).toEqual({ memory_mb: 4096, backup_limit: 2 });
  });

  it("changes the restart policy", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel().on(PATCH, { data: makeServer() });
    renderTab(<SettingsTab />, { panel });
    await user.selectOptions(screen.getByLabelText("Restart the server"), "Whenever it exits");
    const max = screen.getByLabelText("At most this many restarts");
    await user.clear(max);
    await user.type(max, "3");
    await user.click(screen.getByRole("button", { name: "Save restart policy" }));
    await waitFor(() => expect(panel.called(PATCH)).toHaveLength(1));
    expect(panel.called(PATCH)[0].body).toEqual({ restart: { mode: "always", max_restarts: 3, window_seconds: 600, backoff_ms: 1000, clean_exit_is_crash: false } });
  });

  it("moves the server to another node after confirmation", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel()
      .on("GET /api/admin/nodes", {
        data: [
          { id: "n1", name: "alpha", fqdn: "a", online: true, maintenance: false },
          { id: "n2", name: "beta", fqdn: "b", online: true, maintenance: false },
          { id: "n3", name: "gamma", fqdn: "c", online: false, maintenance: false },
        ],
      })
      .on("GET /api/admin/nodes/n2/allocations", {
        data: [
          { id: "a1", ip: "10.0.0.9", port: 25565, server_id: "other" },
          { id: "a2", ip: "10.0.0.9", port: 25566, server_id: null },
        ],
      })
      .on("POST /api/servers/srv1/transfer", { status: 202, data: makeServer({ state: "transferring" }) });
    renderTab(<SettingsTab />, { panel, account: makeAccount({ admin: true }), server: makeServer({ state: "running" }) });
    const nodeSelect = await screen.findByLabelText("Target node");
    expect(within(nodeSelect).queryByRole("option", { name: /alpha/ })).not.toBeInTheDocument();
    expect(within(nodeSelect).getByRole("option", { name: "gamma — offline" })).toBeDisabled();
    await user.selectOptions(nodeSelect, "n2");
    const address = screen.getByLabelText("Address on the target");
    await waitFor(() => expect(within(address).getAllByRole("option").map((o) => o.textContent)).toEqual(["First free address", "10.0.0.9:25566"]));
    await user.selectOptions(address, "a2");
    await user.click(screen.getByRole("button", { name: "Transfer…" }));
    await user.click(within(await screen.findByRole("alertdialog")).getByRole("button", { name: "Transfer" }));
    await waitFor(() => expect(panel.called("POST /api/servers/srv1/transfer")).toHaveLength(1));
    expect(panel.called("POST /api/servers/srv1/transfer")[0].body).toEqual({ node_id: "n2", allocation_id: "a2" });
  });

  it("deletes the server only once its name is typed, then leaves for the list", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel().on("DELETE /api/servers/srv1", { status: 204 });
    renderTab(routed(), { panel });
    await user.click(screen.getByRole("button", { name: "Delete server…" }));
    const dialog = await screen.findByRole("alertdialog");
    const confirm = within(dialog).getByRole("button", { name: "Delete server" });
    expect(confirm).toBeDisabled();
    await user.type(within(dialog).getByLabelText(/to confirm/), "Survival");
    await user.click(confirm);
    expect(await screen.findByText("The server list")).toBeInTheDocument();
    expect(panel.called("DELETE /api/servers/srv1")).toHaveLength(1);
  });

  it("reinstalls only a stopped server", async () => {
    const user = userEvent.setup();
    const { unmount } = renderTab(<SettingsTab />, { server: makeServer({ state: "running" }) });
    expect(screen.getByRole("button", { name: "Reinstall…" })).toBeDisabled();
    expect(screen.getByText(/Stop the server first/)).toBeInTheDocument();
    unmount();
    const panel = new FakePanel().on("POST /api/servers/srv1/reinstall", { status: 202, data: makeServer({ state: "installing" }) });
    renderTab(<SettingsTab />, { panel });
    await user.click(screen.getByRole("button", { name: "Reinstall…" }));
    await user.click(within(await screen.findByRole("alertdialog")).getByRole("button", { name: "Reinstall" }));
    await waitFor(() => expect(panel.called("POST /api/servers/srv1/reinstall")).toHaveLength(1));
  });

  it("hides what the caller may not do", () => {
    const perms = ALL_SERVER_PERMISSIONS.filter((p) => !["server.update", "server.delete"].includes(p));
    renderTab(<SettingsTab />, { server: makeServer({ permissions: perms }) });
    expect(screen.getByLabelText("Server name")).toBeDisabled();
    expect(screen.queryByRole("button", { name: "Save details" })).not.toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Danger zone" })).not.toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Transfer to another node" })).not.toBeInTheDocument();
  });
});
