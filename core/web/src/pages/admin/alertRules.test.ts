import { describe, expect, it } from "vitest";
import { ruleForm, ruleSpec, takesFor, takesThreshold } from "./alertRules";
import type { AlertRule } from "./types";

describe("alert rule form", () => {
  it("knows which types take a threshold and a wait", () => {
    expect(["cpu", "memory", "disk"].every(takesThreshold)).toBe(true);
    expect(takesThreshold("node_offline")).toBe(false);
    expect(takesFor("node_offline")).toBe(true);
    expect(takesFor("server_crashed")).toBe(false);
  });

  it("creates with the type and the fields the type takes", () => {
    const spec = ruleSpec({ name: " Hot ", type: "cpu", threshold: "85.5", for_seconds: "120", severity: "critical", enabled: true }, true);
    expect(spec).toEqual({ name: "Hot", type: "cpu", threshold: 85.5, for_seconds: 120, severity: "critical", enabled: true });
  });

  it("sends zero for what an event rule does not take, and no type on update", () => {
    const spec = ruleSpec({ name: "", type: "server_crashed", threshold: "90", for_seconds: "300", severity: "info", enabled: false }, false);
    expect(spec).toEqual({ name: "", threshold: 0, for_seconds: 0, severity: "info", enabled: false });
  });

  it("fills the form from a rule, leaving out fields its type has no use for", () => {
    const r: AlertRule = { id: "r1", server_id: null, name: "Offline", type: "node_offline", threshold: 0, for_seconds: 60, severity: "warning", enabled: true, created_at: "", updated_at: "" };
    expect(ruleForm(r)).toEqual({ name: "Offline", type: "node_offline", threshold: "", for_seconds: "60", severity: "warning", enabled: true });
  });
});
