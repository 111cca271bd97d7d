import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import SubusersTab from "../SubusersTab";
import { ALL_SERVER_PERMISSIONS, makeServer } from "../../../test/fixtures";
import { FakePanel, renderTab } from "../../../test/panel";
import type { Subuser } from "./SubuserDialog";

const LIST = "GET /api/servers/srv1/subusers";
const catalog = { data: { server: ALL_SERVER_PERMISSIONS, global: ["server.create"] } };

const alice: Subuser = { user_id: "u2", email: "alice@example.com", username: "alice", permissions: ["file.read", "file.write", "server.read"], created_at: new Date().toISOString() };

function box(container: HTMLElement, name: string | RegExp) {
  return within(container).getByRole("checkbox", { name });
}

describe("SubusersTab", { timeout: 30_000 }, () => {
  it("lists subusers with their permissions counted by area", async () => {
    const panel = new FakePanel().on(LIST, { data: [alice] }).on("GET /api/permissions", catalog);
    renderTab(<SubusersTab />, { panel });
    const chips = await screen.findByRole("list", { name: "Permissions of alice@example.com" });
    await waitFor(() => expect(within(chips).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["Server 1/3", "Files 2/6"]));
    expect(screen.getByRole("button", { name: "Edit alice@example.com" })).toBeInTheDocument();
  });

  it("adds a subuser with a whole group and one permission more", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel()
      .on(LIST, { data: [] })
      .on("GET /api/permissions", catalog)
      .on("POST /api/servers/srv1/subusers", (c) => {
        const b = c.body as { email: string; permissions: string[] };
        return b.email === "nobody@example.com"
          ? { status: 422, error: { code: "invalid_field", field: "email", message: "email: no account has this email; the user must register first" } }
          : { status: 201, data: { ...alice, user_id: "u3", email: b.email, username: "bob", permissions: b.permissions } };
      });
    renderTab(<SubusersTab />, { panel });
    await screen.findByText("No subusers");
    await user.click(screen.getByRole("button", { name: "Add subuser" }));
    const dialog = await screen.findByRole("dialog");
    // server.read comes ticked: without it the server stays hidden.
    expect(box(dialog, /^server\.read/)).toBeChecked();
    const files = within(dialog).getByRole("group", { name: "Files" });
    await user.click(box(files, "All of files"));
    expect(within(files).getAllByRole("checkbox").every((c) => c.getAttribute("aria-checked") === "true")).toBe(true);
    await user.click(box(files, /^file\.sftp/));
    expect(box(files, "All of files")).toHaveAttribute("aria-checked", "mixed");
    await user.click(box(dialog, /^server\.console/));

    await user.type(within(dialog).getByLabelText("Email"), "nobody@example.com");
    await user.click(within(dialog).getByRole("button", { name: "Add subuser" }));
    expect(await within(dialog).findByText("no account has this email; the user must register first")).toBeInTheDocument();
    expect(within(dialog).getByLabelText("Email")).toHaveAttribute("aria-invalid", "true");

    await user.clear(within(dialog).getByLabelText("Email"));
    await user.type(within(dialog).getByLabelText("Email"), "bob@example.com");
    await user.click(within(dialog).getByRole("button", { name: "Add subuser" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(panel.called("POST /api/servers/srv1/subusers").at(-1)!.body).toEqual({
      email: "bob@example.com",
      permissions: ["server.read", "server.console", "file.read", "file.read-content", "file.write", "file.delete", "file.archive"],
    });
    expect(await screen.findByText("bob")).toBeInTheDocument();
  });

  it("offers only the permissions the caller holds", async () => {
    const user = userEvent.setup();
    const mine = ALL_SERVER_PERMISSIONS.filter((p) => p !== "backup.delete" && p !== "backup.restore");
    const panel = new FakePanel()
      .on(LIST, { data: [alice] })
      .on("GET /api/permissions", catalog)
      .on("PATCH /api/servers/srv1/subusers/u2", (c) => ({ data: { ...alice, ...(c.body as object) } }));
    renderTab(<SubusersTab />, { panel, server: makeServer({ permissions: mine }) });
    await user.click(await screen.findByRole("button", { name: "Edit alice@example.com" }));
    const dialog = await screen.findByRole("dialog");
    const backups = within(dialog).getByRole("group", { name: "Backups" });
    expect(box(backups, /^backup\.delete/)).toBeDisabled();
    expect(within(backups).getAllByText(/You cannot grant it/, { selector: "span" })).toHaveLength(2);
    await user.click(box(backups, "All of backups"));
    expect(box(backups, "All of backups")).toBeChecked();
    expect(box(backups, /^backup\.delete/)).not.toBeChecked();
    await user.click(box(dialog, /^file\.write/));
    await user.click(within(dialog).getByRole("button", { name: "Save permissions" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(panel.called("PATCH /api/servers/srv1/subusers/u2")[0].body).toEqual({ permissions: ["server.read", "file.read", "backup.create", "backup.download"] });
  });

  it("removes a subuser after confirmation", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel().on(LIST, { data: [alice] }).on("GET /api/permissions", catalog).on("DELETE /api/servers/srv1/subusers/u2", { status: 204 });
    renderTab(<SubusersTab />, { panel });
    await user.click(await screen.findByRole("button", { name: "Remove alice@example.com" }));
    const confirm = await screen.findByRole("alertdialog");
    expect(within(confirm).getByText(/lose access to this server at once/)).toBeInTheDocument();
    await user.click(within(confirm).getByRole("button", { name: "Remove" }));
    expect(await screen.findByText("No subusers")).toBeInTheDocument();
    expect(panel.called("DELETE /api/servers/srv1/subusers/u2")).toHaveLength(1);
  });
});
