import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Account as AccountT } from "../../api/types";
import Account from "../Account";
import { adminAccount } from "../../test/fixtures";
import { FakePanel, noContent, ok, refuse, renderWithPanel, type Routes } from "../../test/panel";
import { groupSecret } from "./TwoFactor";

const me: AccountT = { ...adminAccount, admin: false, email: "me@example.com", username: "me" };

function core(extra: Routes = {}) {
  return new FakePanel({
    "GET /api/account": ok(me),
    "GET /api/account/api-keys": ok([]),
    "GET /api/account/ssh-keys": ok([]),
    ...extra,
  });
}

describe("Account", () => {
  it("changes the password and carries on with the session the core answers", async () => {
    const c = core({ "PUT /api/account/password": ok({ token: "t-new", refresh_token: "r-new", expires_at: "2999-01-01T00:00:00Z" }) });
    const user = userEvent.setup();
    renderWithPanel(<Account />, { panel: c });
    expect(screen.getByRole("heading", { level: 1, name: "Account" })).toBeInTheDocument();
    const form = (await screen.findByRole("heading", { name: "Password" })).closest("form")!;
    await user.type(within(form).getByLabelText("Current password"), "old secret");
    await user.type(within(form).getByLabelText("New password"), "new long secret");
    await user.type(within(form).getByLabelText("Confirm new password"), "new long secret");
    await user.click(within(form).getByRole("button", { name: "Change password" }));
    await waitFor(() => expect(JSON.parse(localStorage.getItem("catalyst.session")!).token).toBe("t-new"));
    expect(c.called("PUT /api/account/password")[0].body).toEqual({ current_password: "old secret", new_password: "new long secret" });
    expect(within(form).getByLabelText("Current password")).toHaveValue("");
  });

  it("does not send two new passwords that differ, and shows a wrong current one beside it", async () => {
    const c = core({ "PUT /api/account/password": refuse(422, "invalid_field", "is not the account's password", "current_password") });
    const user = userEvent.setup();
    renderWithPanel(<Account />, { panel: c });
    const form = (await screen.findByRole("heading", { name: "Password" })).closest("form")!;
    await user.type(within(form).getByLabelText("Current password"), "wrong");
    await user.type(within(form).getByLabelText("New password"), "new long secret");
    await user.type(within(form).getByLabelText("Confirm new password"), "new long secreT");
    await user.click(within(form).getByRole("button", { name: "Change password" }));
    expect(await within(form).findByText("The two new passwords differ.")).toBeInTheDocument();
    expect(c.called("PUT /api/account/password")).toHaveLength(0);

    await user.clear(within(form).getByLabelText("Confirm new password"));
    await user.type(within(form).getByLabelText("Confirm new password"), "new long secret");
    await user.click(within(form).getByRole("button", { name: "Change password" }));
    expect(await within(form).findByText("is not the account's password")).toBeInTheDocument();
    expect(within(form).getByLabelText("Current password")).toHaveAttribute("aria-invalid", "true");
  });

  it("saves a changed user name", async () => {
    const c = core({ "PATCH /api/account": ok({ ...me, username: "newname" }) });
    const user = userEvent.setup();
    renderWithPanel(<Account />, { panel: c });
    const name = await screen.findByLabelText("User name");
    await user.clear(name);
    await user.type(name, "newname");
    await user.click(screen.getByRole("button", { name: "Save profile" }));
    await waitFor(() => expect(c.called("PATCH /api/account")[0]?.body).toEqual({ username: "newname" }));
  });

  it("sets up two-factor: the secret in groups, a code, then the recovery codes once", async () => {
    let enabled = false;
    const c = core({
      "GET /api/account": () => ({ data: { ...me, totp_enabled: enabled } }),
      "POST /api/account/totp": ok({ secret: "JBSWY3DPEHPK3PXPABCD", otpauth_url: "otpauth://totp/Catalyst:me@example.com?secret=JBSWY3DPEHPK3PXPABCD" }),
      "POST /api/account/totp/enable": () => {
        enabled = true;
        return { data: { recovery_codes: ["aaaa-bbbb", "cccc-dddd"] } };
      },
    });
    const user = userEvent.setup();
    renderWithPanel(<Account />, { panel: c });
    await user.click(await screen.findByRole("button", { name: "Set up two-factor" }));
    expect(await screen.findByLabelText("Secret key")).toHaveTextContent("JBSW Y3DP EHPK 3PXP ABCD");
    expect(screen.getByLabelText("Setup address")).toHaveTextContent("otpauth://totp/Catalyst:me@example.com");
    await user.type(screen.getByLabelText("Code from the app"), "123 456");
    await user.click(screen.getByRole("button", { name: "Turn on" }));
    expect(await screen.findByLabelText("Recovery codes")).toHaveTextContent("aaaa-bbbb cccc-dddd");
    expect(c.called("POST /api/account/totp/enable")[0].body).toEqual({ code: "123456" });
    expect(screen.getByText(/they are shown once/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "I saved them" }));
    expect(screen.queryByLabelText("Recovery codes")).not.toBeInTheDocument();
    expect(await screen.findByRole("button", { name: "Turn off two-factor" })).toBeInTheDocument();
  });

  it("turns two-factor off with the password and a code, and shows a wrong code's error", async () => {
    const c = core({
      "GET /api/account": ok({ ...me, totp_enabled: true }),
      "POST /api/account/totp/disable": refuse(401, "invalid_two_factor_code", "invalid two-factor code"),
    });
    const user = userEvent.setup();
    renderWithPanel(<Account />, { panel: c });
    await user.click(await screen.findByRole("button", { name: "Turn off two-factor" }));
    // The browser asks for both first.
    expect(c.called("POST /api/account/totp/disable")).toHaveLength(0);
    const section = screen.getByRole("heading", { name: "Two-factor authentication" }).closest("section")!;
    await user.type(within(section).getByLabelText("Password"), "pw");
    await user.type(within(section).getByLabelText("Code"), "000000");
    await user.click(within(section).getByRole("button", { name: "Turn off two-factor" }));
    expect(await within(section).findByText("invalid two-factor code")).toBeInTheDocument();
    expect(c.called("POST /api/account/totp/disable")[0].body).toEqual({ password: "pw", code: "000000" });
  });

  it("creates an API key limited to chosen permissions and shows its secret once", async () => {
    const c = core({
      "GET /api/permissions": ok({ server: ["server.read", "server.start", "file.read", "file.write"], global: ["server.create", "admin.nodes.read"] }),
      "POST /api/account/api-keys": ok({ id: "k1", name: "ci", prefix: "cat_abcd", scopes: ["file.read", "file.write", "server.read"], allowed_ips: null, last_used_at: null, expires_at: null, created_at: "", key: "cat_abcd_secret" }, 201),
    });
    const user = userEvent.setup();
    renderWithPanel(<Account />, { panel: c });
    await user.click(await screen.findByRole("button", { name: "New API key" }));
    const dialog = await screen.findByRole("dialog", { name: "New API key" });
    await user.type(within(dialog).getByLabelText("Name"), "ci");
    await user.click(within(dialog).getByLabelText("Only the ones I choose"));
    await user.click(await within(dialog).findByRole("checkbox", { name: "file" }));
    await user.click(within(dialog).getByRole("checkbox", { name: "server.read" }));
    expect(within(dialog).getByRole("checkbox", { name: "server" })).toHaveAttribute("data-state", "indeterminate");
    // Not an administrator: no global permissions to pick.
    expect(within(dialog).queryByRole("checkbox", { name: "admin.nodes.read" })).not.toBeInTheDocument();
    await user.click(within(dialog).getByRole("button", { name: "Create key" }));

    const done = await screen.findByRole("dialog", { name: "API key ci created" });
    expect(within(done).getByLabelText("API key")).toHaveTextContent("cat_abcd_secret");
    expect(within(done).getByText(/Shown once\./)).toBeInTheDocument();
    expect(c.called("POST /api/account/api-keys")[0].body).toEqual({ name: "ci", scopes: ["file.read", "file.write", "server.read"] });
  });

  it("adds an SSH key named after its comment and deletes one", async () => {
    const key = { id: "s1", name: "me@laptop", public_key: "ssh-ed25519 AAAAC3 me@laptop", fingerprint: "SHA256:xyz", created_at: "2026-01-01T00:00:00Z" };
    const c = core({
      "GET /api/account/ssh-keys": ok([key]),
      "POST /api/account/ssh-keys": ok(key, 201),
      "DELETE /api/account/ssh-keys/s1": noContent(),
    });
    const user = userEvent.setup();
    renderWithPanel(<Account />, { panel: c });
    const form = await screen.findByRole("form", { name: "Add an SSH key" });
    await user.type(within(form).getByLabelText("Public key"), "ssh-ed25519 AAAAC3 me@laptop");
    expect(within(form).getByLabelText("Name")).toHaveValue("me@laptop");
    await user.click(within(form).getByRole("button", { name: "Add SSH key" }));
    await waitFor(() => expect(c.called("POST /api/account/ssh-keys")[0]?.body).toEqual({ name: "me@laptop", public_key: "ssh-ed25519 AAAAC3 me@laptop" }));

    await user.click(screen.getByRole("button", { name: "Delete SSH key me@laptop" }));
    await user.click(within(await screen.findByRole("alertdialog")).getByRole("button", { name: "Delete key" }));
    await waitFor(() => expect(c.called("DELETE /api/account/ssh-keys/s1")).toHaveLength(1));
  });
});

describe("groupSecret", () => {
  it("groups a base32 secret in fours", () => {
    expect(groupSecret("JBSWY3DPEHPK3PXP")).toBe("JBSW Y3DP EHPK 3PXP");
    expect(groupSecret("ABCDEF")).toBe("ABCD EF");
  });
});
