// The server list's search and filters. The list may hold hundreds of
// servers and is filtered on every keystroke, so each server's searchable
// text is put together once (indexServers, memoised by the page) and a
// search is a few substring tests per server.

import type { Server, ServerState } from "../../../api/types";
import type { ServerStats } from "../../../live/types";
import { primaryAddress } from "../address";

/** A server as GET /api/servers lists it: with its latest sample. */
export type ListedServer = Server & { stats?: ServerStats | null };

export type StateFilter = "all" | "running" | "offline" | "problems";

export const STATE_FILTERS: { key: StateFilter; label: string }[] = [
  { key: "all", label: "All" },
  { key: "running", label: "Running" },
  { key: "offline", label: "Offline" },
  { key: "problems", label: "Problems" },
];

// running: up or on its way; offline: not running and nothing wrong;
// problems: what needs someone's attention.
const GROUP: Record<ServerState, Exclude<StateFilter, "all">> = {
  starting: "running",
  running: "running",
  stopping: "running",
  stopped: "offline",
  installing: "offline",
  transferring: "offline",
  crashed: "problems",
  install_failed: "problems",
  suspended: "problems",
};

/** stateGroup is the filter a state falls under. */
export function stateGroup(state: ServerState): Exclude<StateFilter, "all"> {
  return GROUP[state] ?? "problems";
}

export interface IndexedServer {
  server: ListedServer;
  group: Exclude<StateFilter, "all">;
  /** Name, short ID, ID, address, description and node name, lower case. */
  text: string;
}

/** indexServers prepares servers for filtering; nodeName names a node ID
 * (for admins, who can search by node). */
export function indexServers(servers: ListedServer[], nodeName: (id: string) => string | undefined = () => undefined): IndexedServer[] {
  return servers.map((s) => ({
    server: s,
    group: stateGroup(s.state),
    text: [s.name, s.short_id, s.id, primaryAddress(s), ...s.allocations.map((a) => `${a.ip}:${a.port}`), s.description, nodeName(s.node_id) ?? ""]
      .join("\n")
      .toLowerCase(),
  }));
}

export interface ServerFilter {
  /** Words that must all appear (any order, any case). */
  query: string;
  state: StateFilter;
  /** A node ID, or "" for every node. */
  node: string;
}

/** filterServers returns the servers that match f, in list order. */
export function filterServers(index: IndexedServer[], f: ServerFilter): ListedServer[] {
  const terms = f.query.toLowerCase().split(/\s+/).filter(Boolean);
  const out: ListedServer[] = [];
  for (const e of index) {
    if (f.state !== "all" && e.group !== f.state) continue;
    if (f.node && e.server.node_id !== f.node) continue;
    if (!terms.every((t) => e.text.includes(t))) continue;
    out.push(e.server);
  }
  return out;
}

/** countGroups counts the servers under each state filter. */
export function countGroups(index: IndexedServer[]): Record<StateFilter, number> {
  const n: Record<StateFilter, number> = { all: index.length, running: 0, offline: 0, problems: 0 };
  for (const e of index) n[e.group]++;
  return n;
}
