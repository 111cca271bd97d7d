import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Plus } from "lucide-react";
import { useApi } from "../../api/context";
import { errorText } from "../../api/client";
import type { Server } from "../../api/types";
import { Button } from "../../ui/Button";
import { Dialog, FormFoot } from "../../ui/Dialog";
import { Field, Input } from "../../ui/Field";
import { DataTable } from "../../ui/DataTable";
import { EmptyState, Meter, Notice } from "../../ui/feedback";
import { QueryState } from "../../ui/QueryState";
import { bytes, mib } from "../../ui/format";
import { healthUsage, nodeStatus } from "./nodes";
import { CopyBlock } from "../../ui/CopyBlock";
import { ToneBadge } from "../../ui/status";
import { fieldError, formError } from "../../ui/formErrors";
import type { NodeCreate, NodeCreated, NodeStats, NodeView } from "./types";

/** Nodes lists the machines running the agent with their live health. */
export default function Nodes() {
  const api = useApi();
  const [creating, setCreating] = useState(false);
  const nodes = useQuery({ queryKey: ["nodes"], queryFn: ({ signal }) => api.get<NodeView[]>("/api/admin/nodes", { signal }) });
  // Servers per node, when the server list answers; the node list stands
  // without it.
  const servers = useQuery({ queryKey: ["servers"], queryFn: ({ signal }) => api.get<Server[]>("/api/servers", { signal }) });
  const counts = new Map<string, number>();
  for (const s of servers.data ?? []) counts.set(s.node_id, (counts.get(s.node_id) ?? 0) + 1);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Nodes</h1>
        <Button variant="primary" onClick={() => setCreating(true)}>
          <Plus size={16} aria-hidden /> New node
        </Button>
      </div>
      <QueryState
        query={nodes}
        loading="Loading nodes…"
        failed="The nodes did not load"
        empty={<EmptyState title="No nodes yet">Add a node, then run the agent command it shows on that machine.</EmptyState>}
      >
        {(list) => (
          <DataTable columns={["Name", "Status", "Address", servers.isSuccess && { label: "Servers", className: "num" }, "CPU", "Memory", "Disk"]}>
            {list.map((n) => (
              <NodeRow key={n.id} node={n} servers={servers.isSuccess ? (counts.get(n.id) ?? 0) : undefined} />
            ))}
          </DataTable>
        )}
      </QueryState>
      <NewNodeDialog open={creating} onOpenChange={setCreating} />
    </div>
  );
}

function NodeRow({ node, servers }: { node: NodeView; servers?: number }) {
  const st = nodeStatus(node);
  return (
    <tr>
      <td>
        <Link to={`/admin/nodes/${node.id}`}>{node.name}</Link>
        {node.maintenance && (
          <>
            {" "}
            <ToneBadge tone="warn">Maintenance</ToneBadge>
          </>
        )}
      </td>
      <td>
        <ToneBadge tone={st.tone}>{st.label}</ToneBadge>
        <span className="muted small block">{st.detail}</span>
      </td>
      <td className="mono">{node.fqdn}</td>
      {servers !== undefined && <td className="num">{servers}</td>}
      <NodeHealthCells node={node} />
    </tr>
  );
}

/** useNodeStats is a node's latest health report, asked every 10 s. */
export function useNodeStats(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: ["node", id, "stats"],
    queryFn: ({ signal }) => api.get<NodeStats>(`/api/nodes/${id}/stats`, { signal }),
    refetchInterval: 10_000,
  });
}

function NodeHealthCells({ node }: { node: NodeView }) {
  const stats = useNodeStats(node.id);
  if (stats.isPending) {
    return (
      <td colSpan={3} className="muted small">
        Loading…
      </td>
    );
  }
  if (stats.isError || !stats.data.sample) {
    return (
      <td colSpan={3} className="muted small" title={stats.isError ? errorText(stats.error) : undefined}>
        {stats.isError ? "Health unavailable" : "No health report (agent not connected)"}
      </td>
    );
  }
  const u = healthUsage(stats.data.sample);
  return (
    <>
      <td>
        <Meter label={`${node.name} CPU`} value={u.cpu.value} max={u.cpu.max} text={`${u.cpu.pct.toFixed(0)}%`} />
      </td>
      <td>
        <Meter label={`${node.name} memory`} value={u.memory.value} max={u.memory.max} text={`${u.memory.pct.toFixed(0)}%`} />
        <span className="muted small block">
          {bytes(u.memory.value)} of {bytes(u.memory.max)}
        </span>
      </td>
      <td>
        <Meter label={`${node.name} disk`} value={u.disk.value} max={u.disk.max} text={`${u.disk.pct.toFixed(0)}%`} />
        <span className="muted small block">
          {bytes(u.disk.value)} of {bytes(u.disk.max)}
        </span>
      </td>
    </>
  );
}

const NODE_FIELDS = ["name", "fqdn", "memory_mb", "disk_mb", "overallocate"];

function NewNodeDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (o: boolean) => void }) {
  const api = useApi();
  const qc = useQueryClient();
  const [form, setForm] = useState({ name: "", fqdn: "", memory_mb: "", disk_mb: "", memory_overallocate: "0", disk_overallocate: "0" });
  const create = useMutation({
    mutationFn: (body: NodeCreate) => api.post<NodeCreated>("/api/admin/nodes", body),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["nodes"] }),
  });
  const close = (o: boolean) => {
    if (!o) {
      create.reset();
      setForm({ name: "", fqdn: "", memory_mb: "", disk_mb: "", memory_overallocate: "0", disk_overallocate: "0" });
    }
    onOpenChange(o);
  };
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({
      name: form.name.trim(),
      fqdn: form.fqdn.trim(),
      memory_mb: Number(form.memory_mb),
      disk_mb: Number(form.disk_mb),
      memory_overallocate: Number(form.memory_overallocate) || 0,
      disk_overallocate: Number(form.disk_overallocate) || 0,
    });
  };

  if (create.isSuccess) {
    return (
      <Dialog open={open} onOpenChange={close} title={`Node ${create.data.node.name} created`} wide footer={<Button variant="primary" onClick={() => close(false)}>Done</Button>}>
        <DeployToken created={create.data} />
      </Dialog>
    );
  }
  const err = create.error;
  return (
    <Dialog open={open} onOpenChange={close} title="New node" description="A machine that runs the Catalyst agent. You get a deployment token for it next.">
      <form onSubmit={submit} id="new-node">
        <Field label="Name" error={fieldError(err, "name")}>
          <Input value={form.name} onChange={set("name")} required maxLength={64} autoFocus />
        </Field>
        <Field label="Address (FQDN or IP)" hint="Where players and SFTP clients reach this node." error={fieldError(err, "fqdn")}>
          <Input value={form.fqdn} onChange={set("fqdn")} required placeholder="node1.example.com" />
        </Field>
        <div className="grid-2">
          <Field label="Memory (MiB)" error={fieldError(err, "memory_mb")} hint={Number(form.memory_mb) > 0 ? mib(Number(form.memory_mb)) : undefined}>
            <Input type="number" min={1} value={form.memory_mb} onChange={set("memory_mb")} required />
          </Field>
          <Field label="Disk (MiB)" error={fieldError(err, "disk_mb")} hint={Number(form.disk_mb) > 0 ? mib(Number(form.disk_mb)) : undefined}>
            <Input type="number" min={1} value={form.disk_mb} onChange={set("disk_mb")} required />
          </Field>
          <Field label="Memory overallocation (%)" hint="0 for none, -1 to skip the check." error={fieldError(err, "overallocate")}>
            <Input type="number" min={-1} value={form.memory_overallocate} onChange={set("memory_overallocate")} />
          </Field>
          <Field label="Disk overallocation (%)" hint="0 for none, -1 to skip the check.">
            <Input type="number" min={-1} value={form.disk_overallocate} onChange={set("disk_overallocate")} />
          </Field>
        </div>
        <FormFoot error={formError(err, NODE_FIELDS)} onCancel={() => close(false)} busy={create.isPending} submit="Create node" />
      </form>
    </Dialog>
  );
}

/** DeployToken shows a node's one-time deployment token and the command
 * that enrols its agent. */
export function DeployToken({ created }: { created: NodeCreated }) {
  return (
    <div className="stack">
      <Notice>
        <strong>Shown once.</strong> Copy the token now: it cannot be shown again. It can be used once, within 24 hours; issue a new one from
        the node's page if it is lost.
      </Notice>
      <div>
        <h3>Run this on the node</h3>
        <CopyBlock label="Agent command" text={created.agent_command} />
      </div>
      <div>
        <h3>Deployment token</h3>
        <CopyBlock label="Deployment token" text={created.deploy_token} />
      </div>
    </div>
  );
}
