import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useApi } from "../../../api/context";
import type { Server } from "../../../api/types";
import { Button } from "../../../ui/Button";
import { ConfirmDialog } from "../../../ui/Dialog";
import { QueryState } from "../../../ui/QueryState";
import { ErrorBox } from "../../../ui/feedback";
import { Field, Select } from "../../../ui/Field";
import { useToast } from "../../../ui/toast";
import type { AllocationRecord, NodeSummary } from "../../admin/types";

// The states a transfer may start from.
const TRANSFERABLE = new Set(["stopped", "crashed", "starting", "running"]);

/** TransferCard moves a server to another node (administrators). */
export function TransferCard({ server }: { server: Server }) {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const [nodeId, setNodeId] = useState("");
  const [allocationId, setAllocationId] = useState("");
  const [confirming, setConfirming] = useState(false);
  const nodes = useQuery({
    queryKey: ["admin", "nodes"],
    queryFn: ({ signal }) => api.get<NodeSummary[]>("/api/admin/nodes", { signal }),
  });
  const allocations = useQuery({
    queryKey: ["admin", "nodes", nodeId, "allocations"],
    queryFn: ({ signal }) => api.get<AllocationRecord[]>(`/api/admin/nodes/${nodeId}/allocations`, { signal }),
    enabled: nodeId !== "",
  });
  const others = (nodes.data ?? []).filter((n) => n.id !== server.node_id);
  const current = nodes.data?.find((n) => n.id === server.node_id);
  const target = others.find((n) => n.id === nodeId);
  const free = (allocations.data ?? []).filter((a) => !a.server_id);
  const movable = TRANSFERABLE.has(server.state);

  const transfer = async () => {
    await api.post<Server>(`/api/servers/${server.id}/transfer`, { node_id: nodeId, allocation_id: allocationId || undefined });
    qc.invalidateQueries({ queryKey: ["server", server.id], exact: true });
    qc.invalidateQueries({ queryKey: ["servers"] });
    toast(`Moving ${server.name} to ${target?.name ?? "the other node"}; its state shows the progress`, "info");
    setNodeId("");
    setAllocationId("");
  };

  return (
    <section className="card" aria-labelledby="transfer-title">
      <h3 id="transfer-title">Transfer to another node</h3>
      <p className="muted small">
        The server is stopped, its files are copied to the other node and checked, then it starts there if it was running. If anything fails it stays
        where it is{current ? ` (on ${current.name})` : ""}. Administrators only.
      </p>
      <QueryState
        query={nodes}
        loading="Loading nodes…"
        failed="The nodes could not be loaded"
        empty={<p className="muted">There is no other node to move it to.</p>}
        isEmpty={() => others.length === 0}
      >
        {() => (
          <>
            <div className="grid-2 settings-grid">
              <Field label="Target node">
                <Select
                  value={nodeId}
                  onChange={(e) => {
                    setNodeId(e.target.value);
                    setAllocationId("");
                  }}
                >
                  <option value="">Choose a node…</option>
                  {others.map((n) => (
                    <option key={n.id} value={n.id} disabled={!n.online || n.maintenance}>
                      {n.name} — {n.maintenance ? "maintenance" : n.online ? "online" : "offline"}
                    </option>
                  ))}
                </Select>
              </Field>
              <Field label="Address on the target" hint={allocations.isError ? undefined : "The server's game port there."}>
                <Select value={allocationId} onChange={(e) => setAllocationId(e.target.value)} disabled={!nodeId || allocations.isPending}>
                  <option value="">First free address</option>
                  {free.map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.ip}:{a.port}
                    </option>
                  ))}
                </Select>
              </Field>
            </div>
            {allocations.isError && <ErrorBox error={allocations.error} retry={() => allocations.refetch()} title="The target's addresses could not be loaded" />}
            {nodeId && allocations.isSuccess && free.length === 0 && <p className="warn-text small">{target?.name} has no free address; add one on its node page first.</p>}
            {!movable && <p className="muted small">A server that is {server.state.replace("_", " ")} cannot be moved.</p>}
            <div className="form-actions">
              <Button variant="primary" disabled={!nodeId || !movable || (allocations.isSuccess && free.length === 0)} onClick={() => setConfirming(true)}>
                Transfer…
              </Button>
            </div>
          </>
        )}
      </QueryState>
      <ConfirmDialog
        open={confirming}
        onOpenChange={setConfirming}
        title={`Move ${server.name} to ${target?.name ?? ""}?`}
        description="The server stops while its files are copied; players are disconnected. It starts again on the new node if it was running."
        confirmLabel="Transfer"
        onConfirm={transfer}
      />
    </section>
  );
}
