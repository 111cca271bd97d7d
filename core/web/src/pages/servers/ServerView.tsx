import { useEffect, useMemo } from "react";
import { Link, Navigate, NavLink, Outlet, useLocation, useParams } from "react-router";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Copy, RefreshCw, WifiOff } from "lucide-react";
import { ApiError } from "../../api/client";
import { useApi } from "../../api/context";
import { can, type Server, type ServerState } from "../../api/types";
import { useLiveConnection } from "../../live/socket";
import { useAuth } from "../../auth/auth";
import { ErrorBox, Loading, Spinner } from "../../ui/feedback";
import { Button } from "../../ui/Button";
import { StateBadge } from "../../ui/status";
import { useToast } from "../../ui/toast";
import { ServerContext } from "./context";
import { PowerButtons } from "./PowerButtons";
import { primaryAddress } from "./address";

interface Tab {
  path: string;
  label: string;
  allowed: (s: Server) => boolean;
}

const TABS: Tab[] = [
  { path: "console", label: "Console", allowed: (s) => can(s, "server.console") },
  { path: "stats", label: "Stats", allowed: (s) => can(s, "server.read") },
  { path: "files", label: "Files", allowed: (s) => can(s, "file.read") },
  { path: "backups", label: "Backups", allowed: (s) => can(s, "*") || s.permissions.some((p) => p.startsWith("backup.")) },
  { path: "schedules", label: "Schedules", allowed: (s) => can(s, "schedule.manage") },
  { path: "users", label: "Users", allowed: (s) => can(s, "subuser.manage") },
  { path: "startup", label: "Startup", allowed: (s) => can(s, "startup.read") },
  { path: "settings", label: "Settings", allowed: (s) => can(s, "server.read") },
];

/** visibleTabs are the tabs the caller holds a permission for. */
export function visibleTabs(s: Server): Tab[] {
  return TABS.filter((t) => t.allowed(s));
}

/** ServerView is the frame of one server's pages: its name, state,
 * address and power buttons, the tabs, and the live socket they share. */
export default function ServerView() {
  const { id = "" } = useParams();
  const api = useApi();
  const q = useQuery({
    queryKey: ["server", id],
    queryFn: ({ signal }) => api.get<Server>(`/api/servers/${encodeURIComponent(id)}`, { signal }),
  });
  if (q.isPending) return <Loading label="Loading the server…" />;
  if (q.isError) return <ServerUnavailable error={q.error} retry={() => q.refetch()} />;
  return <ServerShell server={q.data} />;
}

function ServerUnavailable({ error, retry }: { error: unknown; retry: () => void }) {
  const status = error instanceof ApiError ? error.status : 0;
  if (status === 404 || status === 403) {
    return (
      <div className="page">
        <h1>{status === 404 ? "Server not found" : "No access to this server"}</h1>
        <p className="muted">
          {status === 404
            ? "There is no server at this address, or it is not shared with you. It may have been deleted."
            : "Your account may not open this server. Ask its owner or an administrator to add you as a subuser."}
        </p>
        <Link to="/" className="btn btn-secondary btn-md">
          Back to servers
        </Link>
      </div>
    );
  }
  return (
    <div className="page">
      <ErrorBox error={error} retry={retry} title="The server could not be loaded" />
    </div>
  );
}

function ServerShell({ server }: { server: Server }) {
  const qc = useQueryClient();
  const toast = useToast();
  const location = useLocation();
  const { account } = useAuth();
  // The core refuses a suspended server's socket to all but administrators.
  const suspended = server.state === "suspended" && !account?.admin;
  const { connection, state, reason } = useLiveConnection(server.id, { logsOnReconnect: can(server, "server.console"), enabled: !suspended });

  // Status messages are the freshest word on the server's state: the
  // page's copy and the list's follow them.
  useEffect(
    () =>
      connection.subscribe((m) => {
        if (m.type !== "status") return;
        const next = { state: m.state as ServerState, state_reason: m.reason ?? "" };
        const old = qc.getQueryData<Server>(["server", server.id]);
        if (!old || (old.state === next.state && old.state_reason === next.state_reason)) return;
        qc.setQueryData<Server>(["server", server.id], { ...old, ...next });
        qc.setQueryData<Server[]>(["servers"], (list) => list?.map((s) => (s.id === server.id ? { ...s, ...next } : s)));
        // The rest of what a change brings (exit code, crash count) comes
        // with the server's answer.
        void qc.invalidateQueries({ queryKey: ["server", server.id], exact: true });
      }),
    [connection, qc, server.id],
  );

  const tabs = visibleTabs(server);
  // A new value on every connection state change re-renders the tabs,
  // which read live.state.
  const value = useMemo(() => ({ server, live: connection, state, reason }), [server, connection, state, reason]);
  const address = primaryAddress(server);

  // A tab the caller may not open (the console is the default) sends them
  // to the first one they may.
  const base = `/servers/${server.id}/`;
  const current = location.pathname.startsWith(base) ? location.pathname.slice(base.length).split("/")[0] : "";
  const known = TABS.find((t) => t.path === current);
  if (known && !known.allowed(server)) {
    const first = tabs[0];
    if (first && first.path !== current) return <Navigate to={base + first.path} replace />;
  }

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(address);
      toast(`Copied ${address}`, "success");
    } catch {
      toast("The browser did not allow copying; select the address instead.", "error");
    }
  };

  return (
    <ServerContext.Provider value={value}>
      <div className="page server-page">
        <div className="page-head server-head">
          <div className="server-title">
            <div className="row">
              <h1>{server.name}</h1>
              <StateBadge state={server.state} reason={server.state_reason} />
              {!suspended && <ConnectionIndicator state={state} reason={reason} retry={() => connection.retryNow()} />}
            </div>
            <div className="row muted small">
              {address && (
                <span className="server-address">
                  <span className="mono">{address}</span>
                  <button className="icon-button" onClick={copy} aria-label={`Copy address ${address}`} title="Copy address">
                    <Copy size={14} />
                  </button>
                </span>
              )}
              {server.description && <span className="server-description">{server.description}</span>}
            </div>
            {server.state_reason && (server.state === "crashed" || server.state === "install_failed") && (
              <p className="server-reason" role="status">
                {server.state_reason}
              </p>
            )}
          </div>
          <PowerButtons server={server} />
        </div>
        <nav className="tabs" aria-label="Server sections">
          {tabs.map((t) => (
            <NavLink key={t.path} to={t.path} className="tab">
              {t.label}
            </NavLink>
          ))}
        </nav>
        {tabs.length === 0 ? (
          <p className="muted">Your access to this server does not include any of its sections.</p>
        ) : (
          <Outlet />
        )}
      </div>
    </ServerContext.Provider>
  );
}

function ConnectionIndicator({ state, reason, retry }: { state: string; reason?: string; retry: () => void }) {
  if (state === "open") return null;
  if (state === "connecting") {
    return (
      <span className="conn conn-busy muted small" role="status">
        <Spinner size={12} /> Connecting…
      </span>
    );
  }
  const closed = state === "closed";
  return (
    <span className={`conn ${closed ? "conn-closed" : "conn-busy"} small`} role="status" title={reason}>
      {closed ? <WifiOff size={13} aria-hidden /> : <Spinner size={12} />}
      <span>{closed ? `Live updates stopped${reason ? `: ${reason}` : ""}` : reason || "Reconnecting…"}</span>
      <Button size="sm" variant="ghost" onClick={retry}>
        <RefreshCw size={13} aria-hidden /> {closed ? "Reconnect" : "Retry now"}
      </Button>
    </span>
  );
}
