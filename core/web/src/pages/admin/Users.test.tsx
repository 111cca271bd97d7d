import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Account } from "../../api/types";
import Users from "./Users";
import { adminAccount } from "../../test/fixtures";
import { type Call, FakePanel, ok, refuse, renderWithPanel } from "../../test/panel";

const user = (n: number, over: Partial<Account> = {}): Account => ({
  id: `u${n}`,
  email: `user${n}@example.com`,
  username: `user${n}`,
  admin: false,
  totp_enabled: false,
  created_at: "2026-01-01T00:00:00Z",
  ...over,
});

// The users a query finds: q filters by email, pages of two.
function listing(all: Account[]) {
  return (call: Call) => {
    const q = call.query.get("q") ?? "";
    const found = all.filter((u) => u.email.includes(q));
    const after = call.query.get("after");
    const start = after ? found.findIndex((u) => u.id === after) + 1 : 0;
    const page = found.slice(start, start + 2);
    return { data: { users: page, next: start + 2 < found.length ? page[page.length - 1].id : "" } };
  };
}

describe("Users", () => {
  it("pages through users with the cursor the API gives", async () => {
    const c = new FakePanel({ "GET /api/admin/users": listing([adminAccount, user(1), user(2)]) });
    const ue = userEvent.setup();
    renderWithPanel(<Users />, { panel: c });
    expect(screen.getByRole("heading", { level: 1, name: "Users" })).toBeInTheDocument();
    expect(await screen.findByText("user1@example.com")).toBeInTheDocument();
    expect(screen.queryByText("user2@example.com")).not.toBeInTheDocument();
    await ue.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByText("user2@example.com")).toBeInTheDocument();
    expect(c.called("GET /api/admin/users")[1].query.get("after")).toBe("u1");
    expect(screen.getByText("3 entries, no more.")).toBeInTheDocument();
  });

  it("searches by what is typed", async () => {
    const c = new FakePanel({ "GET /api/admin/users": listing([adminAccount, user(1), user(2)]) });
    const ue = userEvent.setup();
    renderWithPanel(<Users />, { panel: c });
    await screen.findByText("user1@example.com");
    await ue.type(screen.getByRole("searchbox", { name: "Search users by email or name" }), "user2");
    expect(await screen.findByText("user2@example.com")).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByText("user1@example.com")).not.toBeInTheDocument());
    expect(c.called("GET /api/admin/users").at(-1)!.query.get("q")).toBe("user2");
  });

  it("creates a user", async () => {
    const c = new FakePanel({ "GET /api/admin/users": listing([adminAccount]), "POST /api/admin/users": ok(user(5), 201) });
    const ue = userEvent.setup();
    renderWithPanel(<Users />, { panel: c });
    await ue.click(screen.getByRole("button", { name: "New user" }));
    const dialog = await screen.findByRole("dialog", { name: "New user" });
    await ue.type(within(dialog).getByLabelText("Email"), "user5@example.com");
    await ue.type(within(dialog).getByLabelText("Password"), "correct horse battery");
    await ue.click(within(dialog).getByRole("checkbox", { name: /Administrator/ }));
    await ue.click(within(dialog).getByRole("button", { name: "Create user" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(c.called("POST /api/admin/users")[0].body).toEqual({ email: "user5@example.com", password: "correct horse battery", admin: true });
  });

  it("sends only the fields an edit changed", async () => {
    const c = new FakePanel({
      "GET /api/admin/users": listing([adminAccount, user(1)]),
      "PATCH /api/admin/users/u1": ok(user(1, { username: "renamed" })),
    });
    const ue = userEvent.setup();
    renderWithPanel(<Users />, { panel: c });
    await ue.click(await screen.findByRole("button", { name: "Edit user1@example.com" }));
    const dialog = await screen.findByRole("dialog", { name: "Edit user1@example.com" });
    const name = within(dialog).getByLabelText("User name");
    await ue.clear(name);
    await ue.type(name, "renamed");
    await ue.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(c.called("PATCH /api/admin/users/u1")).toHaveLength(1));
    expect(c.called("PATCH /api/admin/users/u1")[0].body).toEqual({ username: "renamed" });
  });

  it("says why a user who owns servers cannot be deleted, and never offers to delete oneself", async () => {
    const c = new FakePanel({
      "GET /api/admin/users": listing([adminAccount, user(1)]),
      "DELETE /api/admin/users/u1": refuse(409, "in_use", "other records still depend on this resource"),
    });
    const ue = userEvent.setup();
    renderWithPanel(<Users />, { panel: c });
    await screen.findByText("user1@example.com");
    await waitFor(() => expect(screen.getByRole("button", { name: "Delete admin@example.com" })).toBeDisabled());
    await ue.click(screen.getByRole("button", { name: "Delete user1@example.com" }));
    const dialog = await screen.findByRole("alertdialog");
    await ue.click(within(dialog).getByRole("button", { name: "Delete user" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("user1@example.com still owns servers");
  });

  it("shows a user's SSH keys", async () => {
    const c = new FakePanel({
      "GET /api/admin/users": listing([adminAccount, user(1)]),
      "GET /api/admin/users/u1/ssh-keys": ok([{ id: "k1", name: "laptop", public_key: "ssh-ed25519 AAAA", fingerprint: "SHA256:abc", created_at: "2026-01-01T00:00:00Z" }]),
    });
    const ue = userEvent.setup();
    renderWithPanel(<Users />, { panel: c });
    await ue.click(await screen.findByRole("button", { name: "SSH keys of user1@example.com" }));
    const dialog = await screen.findByRole("dialog", { name: "SSH keys of user1@example.com" });
    expect(await within(dialog).findByText("SHA256:abc")).toBeInTheDocument();
  });
});
