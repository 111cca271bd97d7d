import { afterEach, describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import BackupsTab from "../BackupsTab";
import type { Backup } from "./model";
import { ALL_SERVER_PERMISSIONS, makeServer } from "../../../test/fixtures";
import { FakePanel, renderTab } from "../../../test/panel";

function backup(id: string, over: Partial<Backup> = {}): Backup {
  return {
    id, name: `backup ${id}`, status: "completed", error: "", store: "local", size: 4096, sha256: "ab12cd34ef56ab12cd34ef56", files: 3,
    bytes: 9000, compression: "zstd", locked: false, created_at: new Date().toISOString(), completed_at: new Date().toISOString(), ...over,
  };
}

const LIST = "GET /api/servers/srv1/backups";

describe("BackupsTab", () => {
  afterEach(() => vi.restoreAllMocks());

  it("lists backups with their status words, the limit and the row actions", async () => {
    const panel = new FakePanel().on(LIST, { data: [backup("b2", { locked: true }), backup("b1", { status: "failed", error: "disk full" })] });
    renderTab(<BackupsTab />, { panel, server: makeServer({ backup_limit: 3 }) });
    const row = (await screen.findByText("backup b2")).closest("tr")!;
    expect(within(row).getByText("Completed")).toBeInTheDocument();
    expect(within(row).getByRole("button", { name: "Unlock" })).toBeEnabled();
    expect(within(row).getByRole("button", { name: "Delete" })).toBeDisabled();
    expect(within(row).getByRole("button", { name: "Restore" })).toBeEnabled();
    expect(within(row).getByRole("button", { name: "Download" })).toBeEnabled();
    const failed = screen.getByText("backup b1").closest("tr")!;
    expect(within(failed).getByText("Failed")).toBeInTheDocument();
    expect(within(failed).getByText("disk full")).toBeInTheDocument();
    expect(within(failed).getByRole("button", { name: "Restore" })).toBeDisabled();
    // The failed one does not count against the limit.
    expect(screen.getByText(/1 of 3 backups used/)).toBeInTheDocument();
  });

  it("creates a backup and follows its progress to Completed over the socket", async () => {
    const user = userEvent.setup();
    const made = backup("b9", { name: "before update", status: "creating", size: 0, sha256: "" });
    const panel = new FakePanel().on(LIST, { data: [] }).on("POST /api/servers/srv1/backups", { status: 202, data: made });
    const { live } = renderTab(<BackupsTab />, { panel });
    await screen.findByText("No backups yet");
    await user.click(screen.getByRole("button", { name: "Create backup" }));
    const dialog = await screen.findByRole("dialog");
    await user.type(within(dialog).getByLabelText("Name"), "before update");
    await user.click(within(dialog).getByRole("button", { name: "Create" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(panel.called("POST /api/servers/srv1/backups")[0].body).toEqual({ name: "before update", locked: false });

    const row = screen.getByText("before update").closest("tr")!;
    expect(within(row).getByText("In progress")).toBeInTheDocument();
    live.emit({ type: "backup_progress", server_id: "srv1", backup_id: "b9", op: "backup", bytes: 512, total: 2048, files: 7, written: 100 });
    const bar = within(row).getByRole("progressbar", { name: "Backup progress of before update" });
    expect(bar).toHaveAttribute("aria-valuenow", "25");
    expect(within(row).getByText("512 B of 2.0 KiB · 7 files")).toBeInTheDocument();

    live.emit({ type: "backup_completed", backup: { ...made, status: "completed", size: 1000 } as unknown as Record<string, unknown> });
    expect(within(row).getByText("Completed")).toBeInTheDocument();
    expect(within(row).queryByRole("progressbar")).not.toBeInTheDocument();
  });

  it("shows a refused name beside the Name field", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel()
      .on(LIST, { data: [] })
      .on("POST /api/servers/srv1/backups", { status: 422, error: { code: "invalid_field", field: "name", message: "name: must be 1 to 100 characters" } });
    renderTab(<BackupsTab />, { panel });
    await user.click(await screen.findByRole("button", { name: "Create backup" }));
    const dialog = await screen.findByRole("dialog");
    await user.type(within(dialog).getByLabelText("Name"), "x");
    await user.click(within(dialog).getByRole("button", { name: "Create" }));
    expect(await within(dialog).findByText("must be 1 to 100 characters")).toBeInTheDocument();
    expect(within(dialog).getByLabelText("Name")).toHaveAttribute("aria-invalid", "true");
  });

  it("a failed backup's message names the reason", async () => {
    const made = backup("b9", { status: "creating" });
    const panel = new FakePanel().on(LIST, { data: [made] });
    const { live } = renderTab(<BackupsTab />, { panel });
    await screen.findByText("backup b9");
    live.emit({ type: "backup_failed", backup: { ...made, status: "failed", error: "store unreachable" } as unknown as Record<string, unknown>, error: "store unreachable" });
    const row = screen.getByText("backup b9").closest("tr")!;
    expect(within(row).getByText("Failed")).toBeInTheDocument();
    expect(within(row).getByText("store unreachable")).toBeInTheDocument();
    expect(screen.getByText('Backup "backup b9" failed: store unreachable')).toBeInTheDocument();
  });

  it("locks, unlocks, and restores with wipe", async () => {
    const user = userEvent.setup();
    const b = backup("b1");
    const panel = new FakePanel()
      .on(LIST, { data: [b] })
      .on("PATCH /api/servers/srv1/backups/b1", (c) => ({ data: { ...b, locked: (c.body as { locked: boolean }).locked } }))
      .on("POST /api/servers/srv1/backups/b1/restore", { status: 202, data: b })
      .on("DELETE /api/servers/srv1/backups/b1", { status: 204 });
    renderTab(<BackupsTab />, { panel });
    const row = (await screen.findByText("backup b1")).closest("tr")!;

    await user.click(within(row).getByRole("button", { name: "Lock" }));
    expect(await within(row).findByRole("button", { name: "Unlock" })).toBeInTheDocument();
    expect(panel.called("PATCH /api/servers/srv1/backups/b1")[0].body).toEqual({ locked: true });
    expect(within(row).getByRole("button", { name: "Delete" })).toBeDisabled();
    await user.click(within(row).getByRole("button", { name: "Unlock" }));
    await waitFor(() => expect(within(row).getByRole("button", { name: "Delete" })).toBeEnabled());

    await user.click(within(row).getByRole("button", { name: "Restore" }));
    const confirm = await screen.findByRole("alertdialog");
    expect(within(confirm).getByText(/cannot be started until the restore has finished/)).toBeInTheDocument();
    await user.click(within(confirm).getByRole("checkbox", { name: /Also delete files/ }));
    await user.click(within(confirm).getByRole("button", { name: "Restore" }));
    await waitFor(() => expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument());
    expect(panel.called("POST /api/servers/srv1/backups/b1/restore")[0].body).toEqual({ wipe: true });
    expect(within(row).getByText("Restoring")).toBeInTheDocument();
  });

  it("deletes after confirmation and removes the row", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel().on(LIST, { data: [backup("b1")] }).on("DELETE /api/servers/srv1/backups/b1", { status: 204 });
    renderTab(<BackupsTab />, { panel });
    const row = (await screen.findByText("backup b1")).closest("tr")!;
    await user.click(within(row).getByRole("button", { name: "Delete" }));
    await user.click(within(await screen.findByRole("alertdialog")).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(screen.queryByText("backup b1")).not.toBeInTheDocument());
    expect(panel.called("DELETE /api/servers/srv1/backups/b1")).toHaveLength(1);
  });

  it("hands the download to the browser through a ticketed link", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel().on(LIST, { data: [backup("b1")] }).on("POST /api/servers/srv1/ws/ticket", { data: { ticket: "tk1", expires_at: "" } });
    const clicked: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.getAttribute("href") ?? "");
    });
    renderTab(<BackupsTab />, { panel });
    const row = (await screen.findByText("backup b1")).closest("tr")!;
    await user.click(within(row).getByRole("button", { name: "Download" }));
    await waitFor(() => expect(clicked).toEqual(["/api/servers/srv1/backups/b1/download?ticket=tk1"]));
  });

  it("shows only the actions the caller holds", async () => {
    const perms = ALL_SERVER_PERMISSIONS.filter((p) => !["backup.delete", "backup.create", "backup.restore"].includes(p));
    const panel = new FakePanel().on(LIST, { data: [backup("b1")] });
    renderTab(<BackupsTab />, { panel, server: makeServer({ permissions: perms }) });
    const row = (await screen.findByText("backup b1")).closest("tr")!;
    expect(within(row).getByRole("button", { name: "Download" })).toBeInTheDocument();
    expect(within(row).queryByRole("button", { name: "Delete" })).not.toBeInTheDocument();
    expect(within(row).queryByRole("button", { name: "Lock" })).not.toBeInTheDocument();
    expect(within(row).queryByRole("button", { name: "Restore" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Create backup" })).not.toBeInTheDocument();
  });

  it("says when the list cannot be loaded and retries", async () => {
    const user = userEvent.setup();
    let fail = true;
    const panel = new FakePanel().on(LIST, () => (fail ? { status: 503, error: { code: "node_offline", message: "node n1 is offline" } } : { data: [] }));
    renderTab(<BackupsTab />, { panel });
    expect(await screen.findByText("node n1 is offline")).toBeInTheDocument();
    fail = false;
    await user.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByText("No backups yet")).toBeInTheDocument();
  });

  it("loads the list again when a backup it does not know makes progress", async () => {
    let list: Backup[] = [];
    const panel = new FakePanel().on(LIST, () => ({ data: list }));
    const { live } = renderTab(<BackupsTab />, { panel });
    await screen.findByText("No backups yet");
    list = [backup("b5", { name: "scheduled", status: "creating" })];
    live.emit({ type: "backup_progress", server_id: "srv1", backup_id: "b5", op: "backup", bytes: 10, total: 100, files: 1, written: 5 });
    const row = (await screen.findByText("scheduled")).closest("tr")!;
    expect(within(row).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "10");
    live.emit({ type: "backup_progress", server_id: "srv1", backup_id: "b5", op: "backup", bytes: 20, total: 100, files: 1, written: 5 });
    expect(panel.called(LIST)).toHaveLength(2);
  });
});
