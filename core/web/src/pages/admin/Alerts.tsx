import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import * as Tabs from "@radix-ui/react-tabs";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Pencil, Plus, Send, Trash2 } from "lucide-react";
import { useApi } from "../../api/context";
import { errorText } from "../../api/client";
import { Button } from "../../ui/Button";
import { Checkbox } from "../../ui/Checkbox";
import { ConfirmDialog, Dialog, FormFoot } from "../../ui/Dialog";
import { Field, Input, Select } from "../../ui/Field";
import { DataTable } from "../../ui/DataTable";
import { EmptyState } from "../../ui/feedback";
import { QueryState } from "../../ui/QueryState";
import { ago, dateTime, duration } from "../../ui/format";
import { useToast } from "../../ui/toast";
import { RULE_TYPES, SEVERITIES, ruleForm, ruleSpec, takesFor, takesThreshold, typeLabel, type RuleForm } from "./alertRules";
import { LoadMore } from "../../ui/LoadMore";
import { ToneBadge } from "../../ui/status";
import { fieldError, formError } from "../../ui/formErrors";
import { shortId } from "./parts";
import type { Alert, AlertRule, Delivery, RuleSpec, SinkView } from "./types";

const PAGE = 50;
const TABS = ["alerts", "rules", "sinks", "deliveries"] as const;
type Tab = (typeof TABS)[number];

/** Alerts shows the alerts raised, the admin-wide rules raising them, the
 * sinks they are sent to and the log of those deliveries. The tab and the
 * filters live in the URL, so a filtered view can be shared. */
export default function Alerts() {
  const [params, setParams] = useSearchParams();
  const tab = (TABS as readonly string[]).includes(params.get("tab") ?? "") ? (params.get("tab") as Tab) : "alerts";
  return (
    <div className="page">
      <div className="page-head">
        <h1>Alerts</h1>
      </div>
      <Tabs.Root value={tab} onValueChange={(v) => setParams(v === "alerts" ? {} : { tab: v })}>
        <Tabs.List className="tabs" aria-label="Alerts">
          <Tabs.Trigger value="alerts" className="tab">
            Alerts
          </Tabs.Trigger>
          <Tabs.Trigger value="rules" className="tab">
            Rules
          </Tabs.Trigger>
          <Tabs.Trigger value="sinks" className="tab">
            Sinks
          </Tabs.Trigger>
          <Tabs.Trigger value="deliveries" className="tab">
            Deliveries
          </Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="alerts">
          <AlertList />
        </Tabs.Content>
        <Tabs.Content value="rules">
          <Rules />
        </Tabs.Content>
        <Tabs.Content value="sinks">
          <Sinks />
        </Tabs.Content>
        <Tabs.Content value="deliveries">
          <Deliveries />
        </Tabs.Content>
      </Tabs.Root>
    </div>
  );
}

/** useFilter is one filter kept in the URL's search parameters. */
function useFilter(name: string): [string, (v: string) => void] {
  const [params, setParams] = useSearchParams();
  const set = (v: string) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        if (v) next.set(name, v);
        else next.delete(name);
        return next;
      },
      { replace: true },
    );
  return [params.get(name) ?? "", set];
}

/** FilterSelect picks one of options ([value, label] pairs, or values
 * shown as they are) or "Any", which is the empty value. */
function FilterSelect({ label, value, onChange, options }: { label: string; value: string; onChange: (v: string) => void; options: readonly (string | [string, string])[] }) {
  return (
    <Field label={label}>
      <Select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Any</option>
        {options.map((o) => {
          const [v, text] = typeof o === "string" ? [o, o] : o;
          return (
            <option key={v} value={v}>
              {text}
            </option>
          );
        })}
      </Select>
    </Field>
  );
}

function severityTone(s: string) {
  return s === "critical" ? "bad" : s === "warning" ? "warn" : "busy";
}

function AlertList() {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const [status, setStatus] = useFilter("status");
  const [severity, setSeverity] = useFilter("severity");
  const [type, setType] = useFilter("type");
  const filters = { status, severity, type };
  const alerts = useInfiniteQuery({
    queryKey: ["alerts", filters],
    queryFn: ({ pageParam, signal }) => api.get<Alert[]>("/api/admin/alerts", { signal, query: { ...filters, before: pageParam, limit: PAGE } }),
    initialPageParam: "",
    getNextPageParam: (last) => (last.length === PAGE ? last[last.length - 1].id : undefined),
  });
  const resolve = useMutation({
    mutationFn: (id: string) => api.post<Alert>(`/api/admin/alerts/${id}/resolve`),
    onSuccess: (a) => {
      toast(`Resolved: ${a.title}`, "success");
      qc.invalidateQueries({ queryKey: ["alerts"] });
    },
    onError: (e) => toast(`The alert was not resolved: ${errorText(e)}`, "error"),
  });
  const list = alerts.data?.pages.flat() ?? [];
  return (
    <>
      <div className="filters" role="group" aria-label="Filter alerts">
        <FilterSelect label="Status" value={status} onChange={setStatus} options={[["open", "Open"], ["resolved", "Resolved"]]} />
        <FilterSelect label="Severity" value={severity} onChange={setSeverity} options={SEVERITIES} />
        <FilterSelect label="Type" value={type} onChange={setType} options={RULE_TYPES.map((t) => [t, typeLabel(t)])} />
      </div>
      <QueryState
        query={alerts}
        loading="Loading alerts…"
        failed="The alerts did not load"
        empty={<EmptyState title={status || severity || type ? "No alerts match these filters" : "No alerts"} />}
        isEmpty={() => list.length === 0}
      >
        {() => (
          <>
            <DataTable columns={["Alert", "Target", "Severity", "Opened", "Status"]} actions>
              {list.map((a) => (
                <tr key={a.id}>
                  <td>
                    <strong>{a.title}</strong>
                    {a.body && <span className="muted small block">{a.body}</span>}
                    <span className="muted small block">
                      {a.rule_name} · {typeLabel(a.type)}
                      {a.value && ` · ${a.value}`}
                      {a.occurrences > 1 && ` · seen ${a.occurrences} times`}
                    </span>
                  </td>
                  <td>
                    {a.server_id ? (
                      <Link to={`/servers/${a.server_id}`}>{a.target || `server ${shortId(a.server_id)}`}</Link>
                    ) : a.node_id ? (
                      <Link to={`/admin/nodes/${a.node_id}`}>{a.target || `node ${shortId(a.node_id)}`}</Link>
                    ) : (
                      a.target
                    )}
                  </td>
                  <td>
                    <ToneBadge tone={severityTone(a.severity)}>{a.severity}</ToneBadge>
                  </td>
                  <td title={dateTime(a.opened_at)}>
                    {ago(a.opened_at)}
                    <span className="muted small block">last seen {ago(a.last_seen_at)}</span>
                  </td>
                  <td>
                    {a.status === "open" ? (
                      <ToneBadge tone="bad">Open</ToneBadge>
                    ) : (
                      <>
                        <ToneBadge tone="ok">Resolved</ToneBadge>
                        {a.resolved_at && (
                          <span className="muted small block">
                            {ago(a.resolved_at)}
                            {a.resolved_by ? " by hand" : ""}
                          </span>
                        )}
                      </>
                    )}
                  </td>
                  <td className="actions">
                    {a.status === "open" && (
                      <Button size="sm" busy={resolve.isPending && resolve.variables === a.id} onClick={() => resolve.mutate(a.id)} aria-label={`Resolve ${a.title}`}>
                        Resolve
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </DataTable>
            <LoadMore pager={alerts} shown={list.length} />
          </>
        )}
      </QueryState>
    </>
  );
}

function condition(r: AlertRule): string {
  if (takesThreshold(r.type)) return `above ${r.threshold}%${r.for_seconds ? ` for ${duration(r.for_seconds)}` : ""}`;
  if (r.type === "node_offline") return r.for_seconds ? `silent for ${duration(r.for_seconds)}` : "as soon as it disconnects";
  return "when it happens";
}

function Rules() {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const [editing, setEditing] = useState<AlertRule | "new">();
  const [deleting, setDeleting] = useState<AlertRule>();
  const rules = useQuery({ queryKey: ["alert-rules"], queryFn: ({ signal }) => api.get<AlertRule[]>("/api/admin/alert-rules", { signal }) });
  const toggle = useMutation({
    mutationFn: ({ id, enabled }: { id: string; enabled: boolean }) => api.patch<AlertRule>(`/api/admin/alert-rules/${id}`, { enabled }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["alert-rules"] }),
    onError: (e) => toast(`The rule was not changed: ${errorText(e)}`, "error"),
  });
  return (
    <>
      <div className="row-between section-head">
        <p className="muted small">Admin-wide rules watch every server (and every node, for node offline). Servers can add their own.</p>
        <Button variant="primary" onClick={() => setEditing("new")}>
          <Plus size={16} aria-hidden /> New rule
        </Button>
      </div>
      <QueryState
        query={rules}
        failed="The rules did not load"
        empty={<EmptyState title="No alert rules">Add one to be told when servers crash or run out of resources.</EmptyState>}
      >
        {(list) => (
          <DataTable columns={["Rule", "Fires", "Severity", "Enabled"]} actions>
            {list.map((r) => (
              <tr key={r.id}>
                <td>
                  <strong>{r.name}</strong>
                  <span className="muted small block">{typeLabel(r.type)}</span>
                </td>
                <td>{condition(r)}</td>
                <td>
                  <ToneBadge tone={severityTone(r.severity)}>{r.severity}</ToneBadge>
                </td>
                <td>
                  <Checkbox
                    label={<span className="sr-only">Enable {r.name}</span>}
                    checked={r.enabled}
                    disabled={toggle.isPending && toggle.variables?.id === r.id}
                    onCheckedChange={(enabled) => toggle.mutate({ id: r.id, enabled })}
                  />
                </td>
                <td className="actions">
                  <Button size="sm" variant="ghost" onClick={() => setEditing(r)} aria-label={`Edit ${r.name}`}>
                    <Pencil size={14} aria-hidden />
                  </Button>
                  <Button size="sm" variant="ghost" onClick={() => setDeleting(r)} aria-label={`Delete ${r.name}`}>
                    <Trash2 size={14} aria-hidden />
                  </Button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </QueryState>
      {editing && <RuleDialog rule={editing === "new" ? undefined : editing} onClose={() => setEditing(undefined)} />}
      <ConfirmDialog
        open={!!deleting}
        onOpenChange={(o) => !o && setDeleting(undefined)}
        danger
        title={`Delete rule ${deleting?.name ?? ""}?`}
        description="Its open alerts are resolved; the alerts stay in the history."
        confirmLabel="Delete rule"
        onConfirm={async () => {
          if (!deleting) return;
          await api.del(`/api/admin/alert-rules/${deleting.id}`);
          await qc.invalidateQueries({ queryKey: ["alert-rules"] });
          qc.invalidateQueries({ queryKey: ["alerts"] });
        }}
      />
    </>
  );
}

const RULE_FIELDS = ["name", "type", "threshold", "for_seconds", "severity", "enabled"];

/** RuleDialog creates a rule, or changes one (all but its type). */
function RuleDialog({ rule, onClose }: { rule?: AlertRule; onClose: () => void }) {
  const api = useApi();
  const qc = useQueryClient();
  const [form, setForm] = useState<RuleForm>(() => ruleForm(rule));
  const save = useMutation({
    mutationFn: (spec: RuleSpec) => (rule ? api.patch<AlertRule>(`/api/admin/alert-rules/${rule.id}`, spec) : api.post<AlertRule>("/api/admin/alert-rules", spec)),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["alert-rules"] });
      onClose();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(ruleSpec(form, !rule));
  };
  const err = save.error;
  return (
    <Dialog open onOpenChange={(o) => !o && onClose()} title={rule ? `Edit rule ${rule.name}` : "New alert rule"}>
      <form onSubmit={submit}>
        <Field label="Type" hint={rule ? "A rule's type cannot change; create another rule instead." : undefined} error={fieldError(err, "type")}>
          <Select value={form.type} onChange={(e) => setForm({ ...form, type: e.target.value })} disabled={!!rule}>
            {RULE_TYPES.map((t) => (
              <option key={t} value={t}>
                {typeLabel(t)}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Name" hint="Empty takes a name from the type." error={fieldError(err, "name")}>
          <Input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} maxLength={100} />
        </Field>
        {takesThreshold(form.type) && (
          <Field label="Threshold (%)" hint="Fires above this share of the server's limit." error={fieldError(err, "threshold")}>
            <Input type="number" min={0.1} max={100} step="any" value={form.threshold} onChange={(e) => setForm({ ...form, threshold: e.target.value })} required />
          </Field>
        )}
        {takesFor(form.type) && (
          <Field
            label={form.type === "node_offline" ? "Offline for (seconds)" : "For (seconds)"}
            hint={form.type === "node_offline" ? "How long a node may be silent before the alert opens." : "How long the threshold must stay crossed."}
            error={fieldError(err, "for_seconds")}
          >
            <Input type="number" min={0} max={604800} value={form.for_seconds} onChange={(e) => setForm({ ...form, for_seconds: e.target.value })} />
          </Field>
        )}
        <Field label="Severity" error={fieldError(err, "severity")}>
          <Select value={form.severity} onChange={(e) => setForm({ ...form, severity: e.target.value })}>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </Select>
        </Field>
        <Checkbox label="Enabled" checked={form.enabled} onCheckedChange={(enabled) => setForm({ ...form, enabled })} />
        <FormFoot error={formError(err, RULE_FIELDS)} onCancel={onClose} busy={save.isPending} submit={rule ? "Save" : "Create rule"} />
      </form>
    </Dialog>
  );
}

function useSinks() {
  const api = useApi();
  return useQuery({ queryKey: ["alert-sinks"], queryFn: ({ signal }) => api.get<SinkView[]>("/api/admin/alert-sinks", { signal }) });
}

function Sinks() {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const sinks = useSinks();
  const test = useMutation({
    mutationFn: (sink: string) => api.post<Delivery>(`/api/admin/alert-sinks/${encodeURIComponent(sink)}/test`),
    onSuccess: (_d, sink) => {
      toast(`A test alert is on its way to ${sink}; follow it in Deliveries.`, "success");
      qc.invalidateQueries({ queryKey: ["alert-sinks"] });
      qc.invalidateQueries({ queryKey: ["deliveries"] });
    },
    onError: (e, sink) => toast(`The test to ${sink} was not sent: ${errorText(e)}`, "error"),
  });
  return (
    <QueryState
      query={sinks}
      failed="The sinks did not load"
      empty={<EmptyState title="No alert sinks">Alert sink plugins (Discord, webhooks, …) in core.hcl receive alerts.</EmptyState>}
    >
      {(list) => (
        <DataTable columns={["Sink", { label: "Pending", className: "num" }, { label: "Delivered", className: "num" }, { label: "Failed", className: "num" }, "Last delivery", "Last error"]} actions>
          {list.map((s) => (
            <tr key={s.sink}>
              <td>
                <strong>{s.sink}</strong>
                {!s.configured && <span className="muted small block">no longer configured</span>}
              </td>
              <td className="num">{s.pending}</td>
              <td className="num">{s.delivered}</td>
              <td className="num">{s.failed}</td>
              <td>{s.last_delivered_at ? <span title={dateTime(s.last_delivered_at)}>{ago(s.last_delivered_at)}</span> : <span className="muted">never</span>}</td>
              <td>
                {s.last_error ? (
                  <>
                    <span className="error-text">{s.last_error}</span>
                    {s.last_error_at && <span className="muted small block">{ago(s.last_error_at)}</span>}
                  </>
                ) : (
                  <span className="muted">none</span>
                )}
              </td>
              <td className="actions">
                <Button
                  size="sm"
                  disabled={!s.configured || test.isPending}
                  busy={test.isPending && test.variables === s.sink}
                  onClick={() => test.mutate(s.sink)}
                  aria-label={`Send test to ${s.sink}`}
                >
                  <Send size={14} aria-hidden /> Send test
                </Button>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </QueryState>
  );
}

function deliveryTone(s: string) {
  return s === "delivered" ? "ok" : s === "failed" ? "bad" : "busy";
}

function Deliveries() {
  const api = useApi();
  const sinks = useSinks();
  const [sink, setSink] = useFilter("sink");
  const [status, setStatus] = useFilter("dstatus");
  const deliveries = useInfiniteQuery({
    queryKey: ["deliveries", { sink, status }],
    queryFn: ({ pageParam, signal }) => api.get<Delivery[]>("/api/admin/deliveries", { signal, query: { sink, status, before: pageParam, limit: PAGE } }),
    initialPageParam: "",
    getNextPageParam: (last) => (last.length === PAGE ? last[last.length - 1].id : undefined),
  });
  const list = deliveries.data?.pages.flat() ?? [];
  const sinkNames = (sinks.data ?? []).map((s) => s.sink);
  if (sink && !sinkNames.includes(sink)) sinkNames.push(sink);
  return (
    <>
      <div className="filters" role="group" aria-label="Filter deliveries">
        <FilterSelect label="Sink" value={sink} onChange={setSink} options={sinkNames} />
        <FilterSelect label="Status" value={status} onChange={setStatus} options={[["pending", "Pending"], ["delivered", "Delivered"], ["failed", "Failed"]]} />
      </div>
      <QueryState
        query={deliveries}
        failed="The delivery log did not load"
        empty={<EmptyState title={sink || status ? "No deliveries match these filters" : "No deliveries yet"} />}
        isEmpty={() => list.length === 0}
      >
        {() => (
          <>
            <DataTable columns={["Queued", "Sink", "Event", "Status", { label: "Attempts", className: "num" }, "Last error"]}>
              {list.map((d) => (
                <tr key={d.id}>
                  <td title={dateTime(d.created_at)}>{ago(d.created_at)}</td>
                  <td className="mono small">{d.sink}</td>
                  <td>{d.event}</td>
                  <td>
                    <ToneBadge tone={deliveryTone(d.status)}>{d.status}</ToneBadge>
                    <span className="muted small block">
                      {d.status === "delivered" && d.delivered_at
                        ? ago(d.delivered_at)
                        : d.status === "pending"
                          ? `next try ${ago(d.next_attempt_at)}`
                          : d.last_attempt_at
                            ? `gave up ${ago(d.last_attempt_at)}`
                            : ""}
                    </span>
                  </td>
                  <td className="num">{d.attempts}</td>
                  <td>{d.last_error ? <span className="error-text">{d.last_error}</span> : <span className="muted">–</span>}</td>
                </tr>
              ))}
            </DataTable>
            <LoadMore pager={deliveries} shown={list.length} />
          </>
        )}
      </QueryState>
    </>
  );
}
