import { Fragment, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { useInfiniteQuery, useQueries } from "@tanstack/react-query";
import { ChevronDown, ChevronRight, Filter } from "lucide-react";
import { useApi } from "../../api/context";
import type { Account } from "../../api/types";
import { Button } from "../../ui/Button";
import { Field, Input } from "../../ui/Field";
import { DataTable } from "../../ui/DataTable";
import { QueryState } from "../../ui/QueryState";
import { EmptyState } from "../../ui/feedback";
import { dateTime } from "../../ui/format";
import { NO_FILTERS, apiQuery, filtersFromSearch, filtersToSearch, fromLocalInput, toLocalInput, type AuditFilters } from "./auditQuery";
import { LoadMore } from "../../ui/LoadMore";
import { ToneBadge } from "../../ui/status";
import { shortId } from "./parts";
import type { AuditEntry, AuditPage } from "./types";

const PAGE = 50;

/** Audit is the audit log, newest first, filtered by what the URL says. */
export default function Audit() {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const filters = filtersFromSearch(params);
  const apply = (f: AuditFilters) => setParams(filtersToSearch(f));
  const entries = useInfiniteQuery({
    queryKey: ["audit", filters],
    queryFn: ({ pageParam, signal }) => api.get<AuditPage>("/api/admin/audit-logs", { signal, query: apiQuery(filters, pageParam, PAGE) }),
    initialPageParam: "",
    getNextPageParam: (last) => last.next || undefined,
  });
  const list = entries.data?.pages.flatMap((p) => p.entries) ?? [];
  const names = useActorNames(list);
  const filtered = filtersToSearch(filters).size > 0;

  return (
    <div className="page">
      <div className="page-head">
        <h1>Audit log</h1>
      </div>
      <FilterForm key={params.toString()} filters={filters} onApply={apply} />
      <QueryState
        query={entries}
        loading="Loading the audit log…"
        failed="The audit log did not load"
        empty={<EmptyState title={filtered ? "No entries match these filters" : "The audit log is empty"} />}
        isEmpty={() => list.length === 0}
      >
        {() => (
          <>
            <DataTable columns={[{ label: <span className="sr-only">Details</span> }, "Time", "Actor", "Action", "Target", "Outcome", "IP"]} className="audit-table">
              {list.map((e) => (
                <Row key={e.id} entry={e} actorName={e.actor_id ? names.get(e.actor_id) : undefined} onFilter={(f) => apply({ ...filters, ...f })} />
              ))}
            </DataTable>
            <LoadMore pager={entries} shown={list.length} />
          </>
        )}
      </QueryState>
    </div>
  );
}

/** useActorNames looks up the users acting in entries, once each. */
function useActorNames(entries: AuditEntry[]): Map<string, string> {
  const api = useApi();
  const ids = [...new Set(entries.map((e) => e.actor_id).filter((id): id is string => !!id))];
  const users = useQueries({
    queries: ids.map((id) => ({
      queryKey: ["user", id],
      queryFn: ({ signal }: { signal: AbortSignal }) => api.get<Account>(`/api/admin/users/${id}`, { signal }),
      staleTime: 5 * 60_000,
      retry: false,
    })),
  });
  const names = new Map<string, string>();
  users.forEach((u, i) => {
    if (u.data) names.set(ids[i], u.data.email);
  });
  return names;
}

function FilterForm({ filters, onApply }: { filters: AuditFilters; onApply: (f: AuditFilters) => void }) {
  const [draft, setDraft] = useState({ ...filters, since: toLocalInput(filters.since), until: toLocalInput(filters.until) });
  const [problem, setProblem] = useState<string>();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const f = { ...draft, since: fromLocalInput(draft.since), until: fromLocalInput(draft.until) };
    if (f.since && f.until && f.since >= f.until) {
      setProblem("The start of the period must be before its end.");
      return;
    }
    setProblem(undefined);
    onApply(f);
  };
  const set = (k: keyof AuditFilters) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });
  return (
    <form className="filters" onSubmit={submit} aria-label="Filter the audit log">
      <Field label="Actor (user ID)">
        <Input value={draft.actor} onChange={set("actor")} className="mono" />
      </Field>
      <Field label="Action">
        <Input value={draft.action} onChange={set("action")} className="mono" placeholder="server.power" />
      </Field>
      <Field label="Server ID">
        <Input value={draft.server} onChange={set("server")} className="mono" />
      </Field>
      <Field label="Since" error={problem}>
        <Input type="datetime-local" value={draft.since} onChange={set("since")} />
      </Field>
      <Field label="Until">
        <Input type="datetime-local" value={draft.until} onChange={set("until")} />
      </Field>
      <div className="row filters-actions">
        <Button type="submit" variant="primary">
          <Filter size={14} aria-hidden /> Apply
        </Button>
        <Button onClick={() => onApply(NO_FILTERS)}>Clear</Button>
      </div>
    </form>
  );
}

function outcomeTone(o: string) {
  return o === "success" ? "ok" : o === "denied" ? "warn" : "bad";
}

function Row({ entry: e, actorName, onFilter }: { entry: AuditEntry; actorName?: string; onFilter: (f: Partial<AuditFilters>) => void }) {
  const [open, setOpen] = useState(false);
  const hasMeta = e.metadata && Object.keys(e.metadata).length > 0;
  const Chevron = open ? ChevronDown : ChevronRight;
  return (
    <Fragment>
      <tr>
        <td>
          <button className="icon-button" aria-expanded={open} aria-label={open ? "Hide details" : "Show details"} onClick={() => setOpen(!open)}>
            <Chevron size={16} aria-hidden />
          </button>
        </td>
        <td className="nowrap">{dateTime(e.created_at)}</td>
        <td>
          {e.actor_id ? (
            <button className="link-button" title="Show only this actor's entries" onClick={() => onFilter({ actor: e.actor_id ?? "" })}>
              {actorName ?? shortId(e.actor_id)}
            </button>
          ) : (
            <span className="muted">{e.actor_type}</span>
          )}
          {e.actor_id && e.actor_type !== "user" && <span className="muted small block">{e.actor_type.replace("_", " ")}</span>}
        </td>
        <td>
          <button className="link-button mono" title="Show only this action" onClick={() => onFilter({ action: e.action })}>
            {e.action}
          </button>
        </td>
        <td>
          {e.target_type && <span className="muted">{e.target_type} </span>}
          {e.target_type === "server" || (e.server_id && e.server_id === e.target_id) ? (
            <Link to={`/servers/${e.target_id}`} className="mono">
              {shortId(e.target_id)}
            </Link>
          ) : (
            <span className="mono" title={e.target_id}>
              {e.target_id.length > 24 ? shortId(e.target_id) : e.target_id}
            </span>
          )}
          {e.server_id && e.server_id !== e.target_id && (
            <button className="link-button small block" title="Show only this server's entries" onClick={() => onFilter({ server: e.server_id ?? "" })}>
              server {shortId(e.server_id)}
            </button>
          )}
        </td>
        <td>
          <ToneBadge tone={outcomeTone(e.outcome)}>{e.outcome}</ToneBadge>
        </td>
        <td className="mono small">{e.ip || "–"}</td>
      </tr>
      {open && (
        <tr className="details-row">
          <td colSpan={7}>
            <dl className="kv small">
              <dt>Entry</dt>
              <dd className="mono">{e.id}</dd>
              {e.actor_id && (
                <>
                  <dt>Actor</dt>
                  <dd className="mono">
                    {e.actor_type} {e.actor_id}
                  </dd>
                </>
              )}
              <dt>Target</dt>
              <dd className="mono">
                {e.target_type || "–"} {e.target_id}
              </dd>
              {e.server_id && (
                <>
                  <dt>Server</dt>
                  <dd className="mono">{e.server_id}</dd>
                </>
              )}
            </dl>
            {hasMeta ? <pre className="small">{JSON.stringify(e.metadata, null, 2)}</pre> : <p className="muted small">No further details.</p>}
          </td>
        </tr>
      )}
    </Fragment>
  );
}
