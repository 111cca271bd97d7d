import { useQuery } from "@tanstack/react-query";
import { useApi } from "../../api/context";
import { DataTable } from "../../ui/DataTable";
import { EmptyState } from "../../ui/feedback";
import { QueryState } from "../../ui/QueryState";
import { ago, dateTime } from "../../ui/format";
import { ToneBadge } from "../../ui/status";
import { pluginTone } from "./plugins";
import type { PluginStatus } from "./types";

const KINDS: Record<string, string> = {
  backup_store: "Backup store",
  alert_sink: "Alert sink",
  scheduler: "Scheduler",
  template_source: "Template source",
  policy: "Policy",
};

/** Plugins shows the configured plugins and their health, asked again
 * every 15 s. */
export default function Plugins() {
  const api = useApi();
  const plugins = useQuery({
    queryKey: ["plugins"],
    queryFn: ({ signal }) => api.get<PluginStatus[]>("/api/admin/plugins", { signal }),
    refetchInterval: 15_000,
  });
  return (
    <div className="page">
      <div className="page-head">
        <h1>Plugins</h1>
        {plugins.isSuccess && <span className="muted small">Updated {ago(plugins.dataUpdatedAt)}; refreshed every 15 s.</span>}
      </div>
      <p className="muted">
        Plugins of the core, declared in core.hcl. Backup stores configured on nodes run beside their agents and are not listed here.
      </p>
      <QueryState
        query={plugins}
        loading="Loading plugins…"
        failed="The plugins did not load"
        empty={<EmptyState title="No plugins configured">Add plugin blocks to core.hcl to use alert sinks, template sources or policies.</EmptyState>}
      >
        {(list) => (
          <DataTable columns={["Name", "Kind", "Version", "Health", { label: "Restarts", className: "num" }, "Last error"]}>
            {list.map((p) => (
              <tr key={p.name}>
                <td>
                  <strong>{p.name}</strong>
                  <span className="muted small block mono" title={p.path}>
                    {p.path}
                  </span>
                </td>
                <td>{KINDS[p.kind] ?? (p.kind || "–")}</td>
                <td>
                  {p.version || "–"}
                  {p.api_version && <span className="muted small block">API {p.api_version}</span>}
                </td>
                <td>
                  <ToneBadge tone={pluginTone(p.health)}>{p.health}</ToneBadge>
                  {p.started_at && (
                    <span className="muted small block" title={dateTime(p.started_at)}>
                      started {ago(p.started_at)}
                      {p.pid ? `, pid ${p.pid}` : ""}
                    </span>
                  )}
                </td>
                <td className="num">{p.restarts}</td>
                <td>{p.last_error ? <span className="error-text">{p.last_error}</span> : <span className="muted">none</span>}</td>
              </tr>
            ))}
          </DataTable>
        )}
      </QueryState>
    </div>
  );
}
