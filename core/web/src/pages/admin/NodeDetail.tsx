import { lazy, Suspense, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ArrowLeft, KeyRound, Trash2, Upload } from "lucide-react";
import { useApi } from "../../api/context";
import { errorText } from "../../api/client";
import { Button } from "../../ui/Button";
import { ConfirmDialog, Dialog } from "../../ui/Dialog";
import { Field, Input, Select } from "../../ui/Field";
import { DataTable } from "../../ui/DataTable";
import { QueryState } from "../../ui/QueryState";
import { EmptyState, ErrorBox, Loading, Meter, ProgressBar } from "../../ui/feedback";
import { ago, bytes, dateTime, mib } from "../../ui/format";
import { useToast } from "../../ui/toast";
import { useNodeStats, DeployToken } from "./Nodes";
import { healthUsage, nodeStatus, parsePortList } from "./nodes";
import { ToneBadge } from "../../ui/status";
import { fieldError, formError } from "../../ui/formErrors";
import { explainInUse } from "./parts";
import type { AllocationRecord, ImportResult, NodeCreated, NodeHealth, NodeHistory, NodeView } from "./types";

const NodeChart = lazy(() => import("./NodeChart"));

/** NodeDetail is one node: its health now and over time, its allocations,
 * its deployment token, image imports, and deletion. */
export default function NodeDetail() {
  const { nid = "" } = useParams();
  const api = useApi();
  const node = useQuery({ queryKey: ["node", nid], queryFn: ({ signal }) => api.get<NodeView>(`/api/admin/nodes/${nid}`, { signal }) });
  if (node.isPending) return <div className="page"><Loading label="Loading the node…" /></div>;
  if (node.isError) {
    return (
      <div className="page">
        <BackLink />
        <ErrorBox error={node.error} retry={() => node.refetch()} title="The node did not load" />
      </div>
    );
  }
  return <NodePage node={node.data} />;
}

function BackLink() {
  return (
    <Link to="/admin/nodes" className="back-link">
      <ArrowLeft size={14} aria-hidden /> Nodes
    </Link>
  );
}

function NodePage({ node }: { node: NodeView }) {
  const api = useApi();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const toast = useToast();
  const [confirmToken, setConfirmToken] = useState(false);
  const [token, setToken] = useState<NodeCreated>();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const st = nodeStatus(node);
  const res = node.agent?.resources;

  return (
    <div className="page">
      <BackLink />
      <div className="page-head">
        <div>
          <h1>{node.name}</h1>
          <div className="row">
            <ToneBadge tone={st.tone}>{st.label}</ToneBadge>
            <span className="muted small">{st.detail}</span>
            {node.maintenance && <ToneBadge tone="warn">Maintenance</ToneBadge>}
          </div>
        </div>
        <div className="row">
          <Button onClick={() => setConfirmToken(true)}>
            <KeyRound size={16} aria-hidden /> New deployment token
          </Button>
          <Button variant="danger" onClick={() => setConfirmDelete(true)}>
            <Trash2 size={16} aria-hidden /> Delete node
          </Button>
        </div>
      </div>

      <div className="grid-2">
        <section className="card" aria-labelledby="health-now">
          <h2 id="health-now">Health now</h2>
          <HealthNow node={node} />
        </section>
        <section className="card" aria-labelledby="node-info">
          <h2 id="node-info">Details</h2>
          <dl className="kv">
            <dt>Address</dt>
            <dd className="mono">{node.fqdn}</dd>
            <dt>Memory</dt>
            <dd>
              {mib(node.memory_mb)}
              {node.memory_overallocate !== 0 && <span className="muted"> ({overallocation(node.memory_overallocate)})</span>}
            </dd>
            <dt>Disk</dt>
            <dd>
              {mib(node.disk_mb)}
              {node.disk_overallocate !== 0 && <span className="muted"> ({overallocation(node.disk_overallocate)})</span>}
            </dd>
            <dt>Agent</dt>
            <dd>{node.agent?.version || node.agent_version || "–"}</dd>
            {res && (
              <>
                <dt>Host</dt>
                <dd>
                  {res.hostname} · {res.os}/{res.arch} · {res.cpu_cores} cores
                </dd>
                <dt>Runtime</dt>
                <dd>{res.runtime || "–"}</dd>
              </>
            )}
            <dt>Created</dt>
            <dd>{dateTime(node.created_at)}</dd>
          </dl>
        </section>
      </div>

      <History node={node} />
      <Allocations node={node} />
      <ImageImport node={node} />

      <ConfirmDialog
        open={confirmToken}
        onOpenChange={setConfirmToken}
        title="Issue a new deployment token?"
        description="For re-enrolling a reinstalled machine. The node's agent keeps working with its current credential until the new token is used; any earlier unused token stops working."
        confirmLabel="Issue token"
        onConfirm={async () => {
          const created = await api.post<NodeCreated>(`/api/admin/nodes/${node.id}/token`);
          setToken(created);
        }}
      />
      <Dialog
        open={!!token}
        onOpenChange={(o) => !o && setToken(undefined)}
        title={`New deployment token for ${node.name}`}
        wide
        footer={
          <Button variant="primary" onClick={() => setToken(undefined)}>
            Done
          </Button>
        }
      >
        {token && <DeployToken created={token} />}
      </Dialog>
      <ConfirmDialog
        open={confirmDelete}
        onOpenChange={setConfirmDelete}
        danger
        title={`Delete node ${node.name}?`}
        description="Its allocations go with it and its agent is disconnected for good. A node that still has servers cannot be deleted."
        confirmLabel="Delete node"
        typeToConfirm={node.name}
        onConfirm={async () => {
          try {
            await api.del(`/api/admin/nodes/${node.id}`);
          } catch (e) {
            throw explainInUse(e, `${node.name} still has servers: transfer or delete them first`);
          }
          qc.removeQueries({ queryKey: ["node", node.id] });
          await qc.invalidateQueries({ queryKey: ["nodes"] });
          toast(`Node ${node.name} deleted.`, "success");
          navigate("/admin/nodes");
        }}
      />
    </div>
  );
}

function overallocation(pct: number): string {
  return pct < 0 ? "not checked" : `${pct}% overallocation`;
}

function HealthNow({ node }: { node: NodeView }) {
  const stats = useNodeStats(node.id);
  return (
    <QueryState
      query={stats}
      failed="The health report did not load"
      empty={<EmptyState title="No health report">The agent is not connected; reports arrive while it is.</EmptyState>}
      isEmpty={(s) => !s.sample}
    >
      {(s) => <Health h={s.sample!} />}
    </QueryState>
  );
}

function Health({ h }: { h: NodeHealth }) {
  const u = healthUsage(h);
  return (
    <div className="stack">
      <UsageMeter label="CPU" heading={`CPU (${h.cpu_cores} cores)`} text={`${u.cpu.pct.toFixed(0)}%`} use={u.cpu} />
      <UsageMeter label="Memory" heading="Memory" text={`${bytes(u.memory.value)} of ${bytes(u.memory.max)}`} use={u.memory} />
      <UsageMeter label="Disk" heading="Disk" text={`${bytes(u.disk.value)} of ${bytes(u.disk.max)}`} use={u.disk} />
      <p className="muted small">
        Load {h.load1.toFixed(2)} / {h.load5.toFixed(2)} / {h.load15.toFixed(2)} · {h.containers} server processes · reported {ago(h.at)}
      </p>
    </div>
  );
}

/** UsageMeter is one resource's meter under a line naming it and its use. */
function UsageMeter({ label, heading, text, use }: { label: string; heading: string; text: string; use: { value: number; max: number } }) {
  return (
    <div>
      <div className="row-between small">
        <span>{heading}</span>
        <span className="muted">{text}</span>
      </div>
      <Meter label={label} value={use.value} max={use.max} />
    </div>
  );
}

const HOURS = [1, 6, 24, 168, 720];

function History({ node }: { node: NodeView }) {
  const api = useApi();
  const [hours, setHours] = useState(24);
  const history = useQuery({
    queryKey: ["node", node.id, "metrics", hours],
    queryFn: ({ signal }) => api.get<NodeHistory>(`/api/nodes/${node.id}/metrics`, { signal, query: { hours } }),
    refetchInterval: 60_000,
  });
  const cores = node.agent?.resources.cpu_cores ?? 1;
  return (
    <section className="card section" aria-labelledby="node-history">
      <div className="row-between">
        <h2 id="node-history">History</h2>
        <label className="row small">
          <span>Period</span>
          <Select value={hours} onChange={(e) => setHours(Number(e.target.value))} className="select-inline">
            {HOURS.map((h) => (
              <option key={h} value={h}>
                {h < 24 ? `${h} hour${h > 1 ? "s" : ""}` : `${h / 24} day${h > 24 ? "s" : ""}`}
              </option>
            ))}
          </Select>
        </label>
      </div>
      <QueryState
        query={history}
        failed="The history did not load"
        empty={<EmptyState title="No samples in this period">The node reports its health while its agent is connected.</EmptyState>}
        isEmpty={(h) => h.points.every((p) => p.samples === 0)}
      >
        {(h) => (
          <Suspense fallback={<Loading />}>
            <NodeChart points={h.points} cores={cores} label={`CPU, memory and disk use of ${node.name} over the last ${hours} hours, in percent`} />
          </Suspense>
        )}
      </QueryState>
    </section>
  );
}

type AllocFilter = "all" | "free" | "assigned";

function Allocations({ node }: { node: NodeView }) {
  const api = useApi();
  const qc = useQueryClient();
  const [filter, setFilter] = useState<AllocFilter>("all");
  const [ip, setIp] = useState("");
  const [ports, setPorts] = useState("");
  const [localError, setLocalError] = useState<string>();
  const [added, setAdded] = useState<number>();
  const key = ["node", node.id, "allocations"];
  const allocs = useQuery({ queryKey: key, queryFn: ({ signal }) => api.get<AllocationRecord[]>(`/api/admin/nodes/${node.id}/allocations`, { signal }) });
  const add = useMutation({
    mutationFn: (body: { ip: string; ports: string[] }) => api.post<AllocationRecord[]>(`/api/admin/nodes/${node.id}/allocations`, body),
    onSuccess: (created) => {
      setPorts("");
      qc.invalidateQueries({ queryKey: key });
      setAdded(created.length);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setAdded(undefined);
    const parsed = parsePortList(ports);
    if ("error" in parsed) {
      setLocalError(parsed.error);
      return;
    }
    setLocalError(undefined);
    add.mutate({ ip: ip.trim(), ports: parsed.ports });
  };
  const list = allocs.data ?? [];
  const shown = list.filter((a) => filter === "all" || (filter === "free" ? !a.server_id : !!a.server_id));
  const free = list.filter((a) => !a.server_id).length;

  return (
    <section className="card section" aria-labelledby="allocations">
      <h2 id="allocations">Allocations</h2>
      <form className="alloc-form" onSubmit={submit} aria-label="Add allocations">
        <Field label="IP address" error={fieldError(add.error, "ip")}>
          <Input value={ip} onChange={(e) => setIp(e.target.value)} required placeholder="0.0.0.0" />
        </Field>
        <Field label="Ports" hint="Ports and ranges, comma-separated: 25565-25570,25580" error={localError ?? fieldError(add.error, "ports")}>
          <Input value={ports} onChange={(e) => setPorts(e.target.value)} required placeholder="25565-25570,25580" />
        </Field>
        <Button type="submit" busy={add.isPending}>
          Add allocations
        </Button>
      </form>
      {formError(add.error, ["ip", "ports"]) && (
        <p className="field-error" role="alert">
          {formError(add.error, ["ip", "ports"])}
        </p>
      )}
      {added !== undefined && (
        <p className="muted small" role="status">
          Added {added} allocation{added === 1 ? "" : "s"}.
        </p>
      )}
      <QueryState
        query={allocs}
        failed="The allocations did not load"
        empty={<EmptyState title="No allocations">Add the IP and ports servers on this node may listen on.</EmptyState>}
      >
        {() => (
          <>
            <div className="row-between">
              <span className="muted small">
                {list.length} allocations, {free} free
              </span>
              <label className="row small">
                <span>Show</span>
                <Select value={filter} onChange={(e) => setFilter(e.target.value as AllocFilter)} className="select-inline">
                  <option value="all">All</option>
                  <option value="free">Free</option>
                  <option value="assigned">Assigned</option>
                </Select>
              </label>
            </div>
            <DataTable columns={["Address", "Assigned to"]} wrapClassName="table-scroll">
              {shown.map((a) => (
                <tr key={a.id}>
                  <td className="mono">
                    {a.ip}:{a.port}
                  </td>
                  <td>
                    {a.server_id ? (
                      <>
                        <Link to={`/servers/${a.server_id}`}>Server {a.server_id.slice(-8)}</Link>
                        {a.primary && <span className="muted small"> (primary)</span>}
                      </>
                    ) : (
                      <span className="muted">Free</span>
                    )}
                  </td>
                </tr>
              ))}
            </DataTable>
          </>
        )}
      </QueryState>
    </section>
  );
}

function ImageImport({ node }: { node: NodeView }) {
  const api = useApi();
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<ImportResult>();
  const abort = useRef<AbortController | null>(null);

  const upload = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    const ctl = new AbortController();
    abort.current = ctl;
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    setProgress(0);
    try {
      const res = await api.upload<ImportResult>("POST", `/api/admin/nodes/${node.id}/images`, file, {
        signal: ctl.signal,
        contentType: "application/x-tar",
        // Once the body is sent the agent imports it: progress is unknown.
        onProgress: (sent, total) => setProgress(total > 0 && sent < total ? (sent / total) * 100 : null),
      });
      setResult(res);
      setFile(null);
      if (input.current) input.current.value = "";
    } catch (err) {
      setError(err instanceof DOMException && err.name === "AbortError" ? "The upload was cancelled." : errorText(err));
    } finally {
      setBusy(false);
      setProgress(null);
      abort.current = null;
    }
  };

  return (
    <section className="card section" aria-labelledby="image-import">
      <h2 id="image-import">Import an image</h2>
      <p className="muted small">
        For nodes that cannot pull from a registry: an OCI layout or <code>docker save</code> tar, loaded into the node's container runtime.
        {!node.online && " The node must be online."}
      </p>
      <form onSubmit={upload} className="stack">
        <Field label="Image archive">
          <Input ref={input} type="file" accept=".tar,application/x-tar" onChange={(e) => setFile(e.target.files?.[0] ?? null)} disabled={busy} />
        </Field>
        {busy && (
          <div>
            <ProgressBar value={progress} label="Image upload" />
            <span className="muted small">{progress === null ? "Importing on the node…" : `Uploading ${file ? bytes(file.size) : ""}: ${progress.toFixed(0)}%`}</span>
          </div>
        )}
        <div className="row">
          <Button type="submit" variant="primary" busy={busy} disabled={!file}>
            <Upload size={16} aria-hidden /> Import
          </Button>
          {busy && <Button onClick={() => abort.current?.abort()}>Cancel</Button>}
        </div>
      </form>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <div role="status">
          <h3>Imported</h3>
          {result.images.length === 0 ? (
            <p className="muted">The archive held no tagged images.</p>
          ) : (
            <ul className="mono">
              {result.images.map((im) => (
                <li key={im}>{im}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
