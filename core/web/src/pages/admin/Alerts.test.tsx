import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import Alerts from "./Alerts";
import { FakePanel, ok, renderWithPanel, where } from "../../test/panel";
import type { Alert, AlertRule } from "./types";

const alert: Alert = {
  id: "al1",
  rule_id: "r1",
  rule_name: "CPU usage high",
  target: "mc-1",
  server_id: "srv-1",
  node_id: null,
  type: "cpu",
  severity: "critical",
  status: "open",
  title: "CPU above 90% on mc-1",
  body: "",
  value: "97%",
  occurrences: 3,
  opened_at: "2026-01-01T00:00:00Z",
  last_seen_at: "2026-01-01T00:05:00Z",
  resolved_at: null,
  resolved_by: "",
};

const rule: AlertRule = {
  id: "r1",
  server_id: null,
  name: "CPU usage high",
  type: "cpu",
  threshold: 90,
  for_seconds: 300,
  severity: "warning",
  enabled: true,
  created_at: "",
  updated_at: "",
};

describe("Alerts", () => {
  it("sends the filters in the URL and resolves an open alert", async () => {
    const c = new FakePanel({
      "GET /api/admin/alerts": ok([alert]),
      "POST /api/admin/alerts/al1/resolve": ok({ ...alert, status: "resolved" }),
    });
    const user = userEvent.setup();
    renderWithPanel(<Alerts />, { panel: c, path: "/admin/alerts", at: "/admin/alerts?severity=critical" });
    expect(screen.getByRole("heading", { level: 1, name: "Alerts" })).toBeInTheDocument();
    expect(await screen.findByText("CPU above 90% on mc-1")).toBeInTheDocument();
    expect(c.called("GET /api/admin/alerts")[0].query.get("severity")).toBe("critical");

    await user.selectOptions(screen.getByLabelText("Status"), "open");
    await waitFor(() => expect(c.called("GET /api/admin/alerts").at(-1)!.query.get("status")).toBe("open"));
    expect(where()).toBe("/admin/alerts?severity=critical&status=open");

    await user.click(await screen.findByRole("button", { name: "Resolve CPU above 90% on mc-1" }));
    await waitFor(() => expect(c.called("POST /api/admin/alerts/al1/resolve")).toHaveLength(1));
  });

  it("asks for a threshold and a wait only for the rule types that take them", async () => {
    const c = new FakePanel({ "GET /api/admin/alert-rules": ok([rule]), "POST /api/admin/alert-rules": ok({ ...rule, id: "r2" }, 201) });
    const user = userEvent.setup();
    renderWithPanel(<Alerts />, { panel: c, path: "/admin/alerts", at: "/admin/alerts?tab=rules" });
    expect(await screen.findByText("above 90% for 5m 0s")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "New rule" }));
    const dialog = await screen.findByRole("dialog", { name: "New alert rule" });
    expect(within(dialog).getByLabelText("Threshold (%)")).toBeInTheDocument();
    expect(within(dialog).getByLabelText("For (seconds)")).toBeInTheDocument();

    await user.selectOptions(within(dialog).getByLabelText("Type"), "node_offline");
    expect(within(dialog).queryByLabelText("Threshold (%)")).not.toBeInTheDocument();
    expect(within(dialog).getByLabelText("Offline for (seconds)")).toBeInTheDocument();

    await user.selectOptions(within(dialog).getByLabelText("Type"), "server_crashed");
    expect(within(dialog).queryByLabelText(/seconds/)).not.toBeInTheDocument();
    await user.selectOptions(within(dialog).getByLabelText("Severity"), "critical");
    await user.click(within(dialog).getByRole("button", { name: "Create rule" }));
    await waitFor(() => expect(c.called("POST /api/admin/alert-rules")).toHaveLength(1));
    expect(c.called("POST /api/admin/alert-rules")[0].body).toEqual({
      name: "",
      type: "server_crashed",
      threshold: 0,
      for_seconds: 0,
      severity: "critical",
      enabled: true,
    });
  });

  it("turns a rule off in place and keeps its type on edit", async () => {
    const c = new FakePanel({ "GET /api/admin/alert-rules": ok([rule]), "PATCH /api/admin/alert-rules/r1": ok({ ...rule, enabled: false }) });
    const user = userEvent.setup();
    renderWithPanel(<Alerts />, { panel: c, path: "/admin/alerts", at: "/admin/alerts?tab=rules" });
    await user.click(await screen.findByRole("checkbox", { name: "Enable CPU usage high" }));
    await waitFor(() => expect(c.called("PATCH /api/admin/alert-rules/r1")[0]?.body).toEqual({ enabled: false }));

    await user.click(screen.getByRole("button", { name: "Edit CPU usage high" }));
    const dialog = await screen.findByRole("dialog", { name: "Edit rule CPU usage high" });
    expect(within(dialog).getByLabelText("Type")).toBeDisabled();
    const threshold = within(dialog).getByLabelText("Threshold (%)");
    await user.clear(threshold);
    await user.type(threshold, "80");
    await user.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(c.called("PATCH /api/admin/alert-rules/r1")).toHaveLength(2));
    expect(c.called("PATCH /api/admin/alert-rules/r1")[1].body).toEqual({ name: "CPU usage high", threshold: 80, for_seconds: 300, severity: "warning", enabled: true });
  });

  it("shows each sink's outbox and sends a test", async () => {
    const c = new FakePanel({
      "GET /api/admin/alert-sinks": ok([
        { sink: "discord", pending: 1, delivered: 12, failed: 2, last_error: "429 Too Many Requests", last_error_at: "2026-01-01T00:00:00Z", last_delivered_at: null, configured: true },
        { sink: "old-hook", pending: 0, delivered: 3, failed: 0, last_error: "", last_error_at: null, last_delivered_at: null, configured: false },
      ]),
      "POST /api/admin/alert-sinks/discord/test": ok({ id: "d1" }, 202),
    });
    const user = userEvent.setup();
    renderWithPanel(<Alerts />, { panel: c, path: "/admin/alerts", at: "/admin/alerts?tab=sinks" });
    expect(await screen.findByText("429 Too Many Requests")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Send test to old-hook" })).toBeDisabled();
    await user.click(screen.getByRole("button", { name: "Send test to discord" }));
    expect(await screen.findByText(/A test alert is on its way to discord/)).toBeInTheDocument();
  });

  it("filters the delivery log by status", async () => {
    const c = new FakePanel({
      "GET /api/admin/alert-sinks": ok([]),
      "GET /api/admin/deliveries": ok([
        { id: "d1", sink: "discord", event: "alert.firing", status: "failed", attempts: 5, next_attempt_at: "", last_error: "404 Not Found", last_error_at: null, last_attempt_at: null, delivered_at: null, created_at: "2026-01-01T00:00:00Z" },
      ]),
    });
    const user = userEvent.setup();
    renderWithPanel(<Alerts />, { panel: c, path: "/admin/alerts", at: "/admin/alerts?tab=deliveries" });
    expect(await screen.findByText("404 Not Found")).toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText("Status"), "failed");
    await waitFor(() => expect(c.called("GET /api/admin/deliveries").at(-1)!.query.get("status")).toBe("failed"));
  });
});
