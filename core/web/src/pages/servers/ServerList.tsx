import { memo, useDeferredValue, useMemo, useRef, useState } from "react";
import { Link } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { Plus, Search, ServerOff } from "lucide-react";
import { useApi } from "../../api/context";
import { useAuth } from "../../auth/auth";
import { QueryState } from "../../ui/QueryState";
import { EmptyState, Meter } from "../../ui/feedback";
import { Select } from "../../ui/Field";
import { bytes, percent } from "../../ui/format";
import { StateBadge } from "../../ui/status";
import { primaryAddress } from "./address";
import type { NodeSummary } from "../admin/types";
import { useRowWindow } from "./list/window";
import { STATE_FILTERS, countGroups, filterServers, indexServers, type ListedServer, type StateFilter } from "./list/filter";

const MIB = 1024 * 1024;

/** ServerList is the first page: the servers the caller may see, with
 * their state and resource use, searchable and filterable. */
export default function ServerList() {
  const api = useApi();
  const { account } = useAuth();
  const admin = !!account?.admin;
  const servers = useQuery({
    queryKey: ["servers"],
    queryFn: ({ signal }) => api.get<ListedServer[]>("/api/servers", { signal }),
    refetchInterval: 10_000,
  });
  const nodes = useQuery({
    queryKey: ["nodes"],
    queryFn: ({ signal }) => api.get<NodeSummary[]>("/api/admin/nodes", { signal }),
    enabled: admin,
    staleTime: 60_000,
  });

  const [query, setQuery] = useState("");
  const [state, setState] = useState<StateFilter>("all");
  const [node, setNode] = useState("");
  // Typing stays quick with many servers: the rows follow a beat behind.
  const deferredQuery = useDeferredValue(query);

  const nodeById = useMemo(() => new Map((nodes.data ?? []).map((n) => [n.id, n])), [nodes.data]);
  const index = useMemo(() => indexServers(servers.data ?? [], (id) => nodeById.get(id)?.name), [servers.data, nodeById]);
  const counts = useMemo(() => countGroups(index), [index]);
  const shown = useMemo(() => filterServers(index, { query: deferredQuery, state, node }), [index, deferredQuery, state, node]);
  const filtering = deferredQuery !== "" || state !== "all" || node !== "";

  // Only the rows near the viewport are in the page: a search over
  // hundreds of servers re-renders a screenful per keystroke.
  const rowsRef = useRef<HTMLDivElement>(null);
  const win = useRowWindow(rowsRef, shown.length, ".server-row");

  return (
    <div className="page server-list-page">
      <div className="page-head">
        <h1>Servers</h1>
        {admin && (
          <Link to="/servers/new" className="btn btn-primary btn-md">
            <Plus size={16} aria-hidden /> New server
          </Link>
        )}
      </div>
      <QueryState
        query={servers}
        loading="Loading servers…"
        failed="The servers could not be loaded"
        empty={<NoServers admin={admin} />}
        isEmpty={() => index.length === 0}
      >
        {() => (
          <>
            <div className="list-toolbar">
              <label className="search-box">
                <Search size={16} aria-hidden />
                <input
                  className="input"
                  type="search"
                  aria-label="Search servers"
                  placeholder="Search by name, ID, address…"
                  value={query}
                  onChange={(e) => setQuery(e.target.value)}
                />
              </label>
              <div className="segmented" role="group" aria-label="Filter by state">
                {STATE_FILTERS.map((f) => (
                  <button key={f.key} type="button" className="segment" aria-pressed={state === f.key} onClick={() => setState(f.key)}>
                    {f.label} <span className="segment-count">{counts[f.key]}</span>
                  </button>
                ))}
              </div>
              {admin && (nodes.data?.length ?? 0) > 1 && (
                <Select aria-label="Filter by node" value={node} onChange={(e) => setNode(e.target.value)} className="node-filter">
                  <option value="">All nodes</option>
                  {nodes.data!.map((n) => (
                    <option key={n.id} value={n.id}>
                      {n.name}
                    </option>
                  ))}
                </Select>
              )}
            </div>
            <p className="muted small" aria-live="polite">
              {filtering ? `${shown.length} of ${index.length} servers` : `${index.length} server${index.length === 1 ? "" : "s"}`}
            </p>
            {shown.length === 0 ? (
              <EmptyState title="No servers match">Try other words, or clear the filters.</EmptyState>
            ) : (
              <div className={`server-table ${admin ? "with-node" : ""}`} role="table" aria-label="Servers" aria-rowcount={shown.length + 1}>
                <div className="server-row server-row-head" role="row" aria-rowindex={1}>
                  <span role="columnheader">Name</span>
                  <span role="columnheader">State</span>
                  <span role="columnheader">Address</span>
                  <span role="columnheader">CPU</span>
                  <span role="columnheader">Memory</span>
                  {admin && <span role="columnheader">Node</span>}
                </div>
                <div className="server-rows" ref={rowsRef} role="rowgroup">
                  {win.before > 0 && <div aria-hidden style={{ height: win.before }} />}
                  {shown.slice(win.start, win.end).map((s, i) => (
                    <ServerRow key={s.id} server={s} index={win.start + i + 2} node={nodeById.get(s.node_id)} admin={admin} />
                  ))}
                  {win.after > 0 && <div aria-hidden style={{ height: win.after }} />}
                </div>
              </div>
            )}
          </>
        )}
      </QueryState>
    </div>
  );
}

const ServerRow = memo(function ServerRow({ server: s, index, node, admin }: { server: ListedServer; index: number; node?: NodeSummary; admin: boolean }) {
  const st = s.stats;
  const cpuMax = s.cpu_percent || 100 * (node?.agent?.resources.cpu_cores || 1);
  const memMax = st?.memory_limit_bytes || s.memory_mb * MIB;
  const address = primaryAddress(s);
  return (
    <div className="server-row" role="row" aria-rowindex={index}>
      <span role="cell" className="server-cell-name">
        <Link to={`/servers/${s.id}`} className="server-link">
          {s.name}
        </Link>
        <span className="muted small mono">{s.short_id}</span>
      </span>
      <span role="cell" className="server-cell-state">
        <StateBadge state={s.state} reason={s.state_reason} />
      </span>
      <span role="cell" className="server-cell-address mono small">
        {address || <span className="muted">none</span>}
      </span>
      <span role="cell" className="server-cell-cpu">
        <span className="cell-label muted small">CPU</span>
        {st ? (
          <Meter value={st.cpu_percent} max={cpuMax} label={`CPU of ${s.name}`} text={percent(st.cpu_percent)} />
        ) : (
          <span className="muted small">–</span>
        )}
      </span>
      <span role="cell" className="server-cell-mem">
        <span className="cell-label muted small">Memory</span>
        {st ? (
          <Meter value={st.memory_bytes} max={memMax} label={`Memory of ${s.name}`} text={`${bytes(st.memory_bytes)} / ${bytes(memMax)}`} />
        ) : (
          <span className="muted small">–</span>
        )}
      </span>
      {admin && (
        <span role="cell" className="server-cell-node small">
          {node ? (
            <>
              {node.name}
              {!node.online && <span className="muted"> (offline)</span>}
            </>
          ) : (
            <span className="muted">{s.node_id.slice(-8)}</span>
          )}
        </span>
      )}
    </div>
  );
});

function NoServers({ admin }: { admin: boolean }) {
  if (!admin) {
    return (
      <EmptyState title="No servers yet" icon={<ServerOff size={28} aria-hidden />}>
        <p>You have no servers. When an administrator creates one for you, or its owner adds you as a subuser, it shows up here.</p>
      </EmptyState>
    );
  }
  return (
    <EmptyState title="No servers yet" icon={<ServerOff size={28} aria-hidden />}>
      <p>
        A server runs on a node and is made from a template. Make sure a node is connected (<Link to="/admin/nodes">Nodes</Link>) with free
        allocations, and that a template exists (<Link to="/admin/templates">Templates</Link>), then create the first server.
      </p>
      <Link to="/servers/new" className="btn btn-secondary btn-md">
        Create the first server
      </Link>
    </EmptyState>
  );
}
