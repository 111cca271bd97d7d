// What the node pages compute from the API's answers.

import { ago } from "../../ui/format";
import type { NodeHealth, NodeView } from "./types";

export interface NodeStatus {
  tone: "ok" | "bad" | "off";
  label: string;
  detail: string;
}

/** nodeStatus says whether a node's agent is connected and, if not, when
 * it was last heard from. */
export function nodeStatus(n: NodeView, now = Date.now()): NodeStatus {
  if (n.online) {
    return { tone: "ok", label: "Online", detail: n.agent ? `connected ${ago(n.agent.connected_at, now)}` : "connected" };
  }
  if (!n.enrolled) {
    return { tone: "off", label: "Not enrolled", detail: "waiting for its agent to use the deployment token" };
  }
  return { tone: "bad", label: "Offline", detail: n.last_seen_at ? `last seen ${ago(n.last_seen_at, now)}` : "never seen" };
}

/** A usage figure for a meter: value of max, and the percentage. */
export interface Usage {
  value: number;
  max: number;
  pct: number;
}

function usage(value: number, max: number): Usage {
  return { value, max, pct: max > 0 ? (value / max) * 100 : 0 };
}

/** healthUsage turns a health report into CPU, memory and disk usage; the
 * agent's CPU figure counts every core (100 per core), so it is shared
 * out over the cores to read as a share of the machine. */
export function healthUsage(h: NodeHealth): { cpu: Usage; memory: Usage; disk: Usage } {
  const cores = Math.max(1, h.cpu_cores);
  return {
    cpu: usage(h.cpu_percent, 100 * cores),
    memory: usage(h.memory_used_bytes, h.memory_total_bytes),
    disk: usage(h.disk_used_bytes, h.disk_total_bytes),
  };
}

/** parsePortList splits what an administrator types for allocations,
 * "25565-25570, 25580", into the API's port specs, or says which part is
 * not a port or range. The core checks them again. */
export function parsePortList(text: string): { ports: string[] } | { error: string } {
  const parts = text
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) return { error: "Enter at least one port or range, such as 25565 or 25565-25570." };
  for (const p of parts) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(p);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m?.[2] ? Number(m[2]) : lo;
    if (!m || lo < 1 || hi > 65535 || lo > hi) {
      return { error: `"${p}" is not a port or range such as 25565-25570 within 1-65535.` };
    }
    if (hi - lo >= 1000) return { error: `"${p}" spans more than 1000 ports.` };
  }
  return { ports: parts };
}
