import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import Audit from "./Audit";
import { rfc3339 } from "./auditQuery";
import { adminAccount } from "../../test/fixtures";
import { type Call, FakePanel, ok, renderWithPanel, where } from "../../test/panel";
import type { AuditEntry } from "./types";

const entry = (n: number, over: Partial<AuditEntry> = {}): AuditEntry => ({
  id: `e${n}`,
  created_at: "2026-03-01T10:00:00Z",
  actor_id: "u-admin",
  actor_type: "user",
  ip: "198.51.100.7",
  action: "server.power",
  target_type: "server",
  target_id: "srv-0000abcd",
  server_id: "srv-0000abcd",
  outcome: "success",
  metadata: { action: "restart" },
  ...over,
});

function log(all: AuditEntry[]) {
  return (call: Call) => {
    const before = call.query.get("before");
    const start = before ? all.findIndex((e) => e.id === before) + 1 : 0;
    const page = all.slice(start, start + 2);
    return { data: { entries: page, next: start + 2 < all.length ? page[page.length - 1].id : "" } };
  };
}

describe("Audit", () => {
  it("asks for what the URL's filters say, names actors and pages on", async () => {
    const c = new FakePanel({
      "GET /api/admin/audit-logs": log([entry(3), entry(2), entry(1, { action: "admin.user.delete", outcome: "denied", metadata: {} })]),
      "GET /api/admin/users/u-admin": ok(adminAccount),
    });
    const user = userEvent.setup();
    renderWithPanel(<Audit />, { panel: c, path: "/admin/audit", at: "/admin/audit?action=server.power&since=2026-03-01T00:00:00Z" });
    expect(screen.getByRole("heading", { level: 1, name: "Audit log" })).toBeInTheDocument();
    expect((await screen.findAllByRole("button", { name: "admin@example.com" })).length).toBe(2);
    const q = c.called("GET /api/admin/audit-logs")[0].query;
    expect(q.get("action")).toBe("server.power");
    expect(q.get("since")).toBe("2026-03-01T00:00:00Z");
    expect(q.get("before")).toBeNull();

    await user.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByText("denied")).toBeInTheDocument();
    expect(c.called("GET /api/admin/audit-logs")[1].query.get("before")).toBe("e2");
  });

  it("puts applied filters in the URL, times in UTC", async () => {
    const c = new FakePanel({ "GET /api/admin/audit-logs": log([]) });
    const user = userEvent.setup();
    renderWithPanel(<Audit />, { panel: c, path: "/admin/audit" });
    expect(await screen.findByText("The audit log is empty")).toBeInTheDocument();
    await user.type(screen.getByLabelText("Server ID"), "srv-1");
    await user.type(screen.getByLabelText("Since"), "2026-03-01T09:30");
    await user.click(screen.getByRole("button", { name: "Apply" }));
    const since = rfc3339(new Date(2026, 2, 1, 9, 30));
    await waitFor(() => expect(where()).toBe(`/admin/audit?server=srv-1&since=${encodeURIComponent(since)}`));
    await waitFor(() => expect(c.called("GET /api/admin/audit-logs").at(-1)!.query.get("since")).toBe(since));
    expect(await screen.findByText("No entries match these filters")).toBeInTheDocument();
    // The form shows the filters back in local time.
    expect(screen.getByLabelText("Since")).toHaveValue("2026-03-01T09:30");
  });

  it("refuses a period that ends before it starts", async () => {
    const c = new FakePanel({ "GET /api/admin/audit-logs": log([]) });
    const user = userEvent.setup();
    renderWithPanel(<Audit />, { panel: c, path: "/admin/audit" });
    await user.type(screen.getByLabelText("Since"), "2026-03-02T00:00");
    await user.type(screen.getByLabelText("Until"), "2026-03-01T00:00");
    await user.click(screen.getByRole("button", { name: "Apply" }));
    expect(await screen.findByText("The start of the period must be before its end.")).toBeInTheDocument();
    expect(where()).toBe("/admin/audit");
  });

  it("filters by a row's action and shows a row's details", async () => {
    const c = new FakePanel({ "GET /api/admin/audit-logs": log([entry(1)]), "GET /api/admin/users/u-admin": ok(adminAccount) });
    const user = userEvent.setup();
    renderWithPanel(<Audit />, { panel: c, path: "/admin/audit" });
    const row = (await screen.findByRole("button", { name: "server.power" })).closest("tr")!;
    await user.click(within(row).getByRole("button", { name: "Show details" }));
    expect(screen.getByText(/"action": "restart"/)).toBeInTheDocument();
    await user.click(within(row).getByRole("button", { name: "server.power" }));
    await waitFor(() => expect(where()).toBe("/admin/audit?action=server.power"));
  });
});
