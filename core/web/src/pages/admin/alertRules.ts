// The alert rule form: which fields each rule type takes (as
// core/internal/alerts validates them) and the body it sends.

import type { AlertRule, RuleSpec } from "./types";

/** The rule types, thresholds first, and the severities, least first
 * (config.AlertTypes and config.AlertSeverities). */
export const RULE_TYPES = ["cpu", "memory", "disk", "node_offline", "server_crashed", "crash_loop", "install_failed", "backup_failed", "transfer_failed"] as const;
export const SEVERITIES = ["info", "warning", "critical"] as const;

const TYPE_LABELS: Record<string, string> = {
  cpu: "CPU use",
  memory: "Memory use",
  disk: "Disk use",
  node_offline: "Node offline",
  server_crashed: "Server crashed",
  crash_loop: "Crash loop",
  install_failed: "Install failed",
  backup_failed: "Backup failed",
  transfer_failed: "Transfer failed",
};

export function typeLabel(t: string): string {
  return TYPE_LABELS[t] ?? t;
}

/** takesThreshold: only resource rules compare against a percentage. */
export function takesThreshold(type: string): boolean {
  return type === "cpu" || type === "memory" || type === "disk";
}

/** takesFor: resource rules and node_offline wait before opening; the
 * others open when the event happens. */
export function takesFor(type: string): boolean {
  return takesThreshold(type) || type === "node_offline";
}

export interface RuleForm {
  name: string;
  type: string;
  threshold: string;
  for_seconds: string;
  severity: string;
  enabled: boolean;
}

export function ruleForm(r?: AlertRule): RuleForm {
  if (!r) return { name: "", type: "cpu", threshold: "90", for_seconds: "300", severity: "warning", enabled: true };
  return {
    name: r.name,
    type: r.type,
    threshold: takesThreshold(r.type) ? String(r.threshold) : "",
    for_seconds: takesFor(r.type) ? String(r.for_seconds) : "",
    severity: r.severity,
    enabled: r.enabled,
  };
}

/** ruleSpec is the body of a create (with the type) or an update (the
 * type cannot change): fields a type does not take are sent as zero, as
 * the core requires. */
export function ruleSpec(f: RuleForm, creating: boolean): RuleSpec {
  const spec: RuleSpec = {
    name: f.name.trim(),
    severity: f.severity,
    enabled: f.enabled,
    threshold: takesThreshold(f.type) ? Number(f.threshold) : 0,
    for_seconds: takesFor(f.type) ? Math.round(Number(f.for_seconds) || 0) : 0,
  };
  if (creating) spec.type = f.type;
  return spec;
}
