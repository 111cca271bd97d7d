import { useMemo, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Pencil, UserMinus, UserPlus, Users } from "lucide-react";
import { useApi } from "../../api/context";
import { can, type PermissionCatalog } from "../../api/types";
import { Button } from "../../ui/Button";
import { ConfirmDialog } from "../../ui/Dialog";
import { DataTable } from "../../ui/DataTable";
import { QueryState } from "../../ui/QueryState";
import { EmptyState, ErrorBox } from "../../ui/feedback";
import { ago, dateTime } from "../../ui/format";
import { useToast } from "../../ui/toast";
import { useServer } from "./context";
import { groupPermissions, summary } from "./subusers/permissions";
import { SubuserDialog, type Subuser } from "./subusers/SubuserDialog";

export default function SubusersTab() {
  const { server } = useServer();
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const mayManage = can(server, "subuser.manage");
  const key = ["server", server.id, "subusers"];
  const list = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => api.get<Subuser[]>(`/api/servers/${server.id}/subusers`, { signal }),
    enabled: mayManage,
  });
  const catalog = useQuery({
    queryKey: ["permissions"],
    queryFn: ({ signal }) => api.get<PermissionCatalog>("/api/permissions", { signal }),
    staleTime: Infinity,
    enabled: mayManage,
  });
  const groups = useMemo(() => groupPermissions(catalog.data?.server ?? []), [catalog.data]);
  // "new", a subuser's user ID, or null.
  const [editing, setEditing] = useState<string | null>(null);
  const [removing, setRemoving] = useState<Subuser | null>(null);
  const grantable = (p: string) => can(server, p);

  if (!mayManage) {
    return <EmptyState title="No access to subusers">You need the subuser.manage permission on this server.</EmptyState>;
  }
  const remove = async (s: Subuser) => {
    await api.del(`/api/servers/${server.id}/subusers/${s.user_id}`);
    qc.setQueryData<Subuser[]>(key, (l) => l?.filter((x) => x.user_id !== s.user_id));
    toast(`Removed ${s.email}`, "success");
  };
  const subusers = list.data ?? [];
  const ready = !catalog.isPending && !catalog.isError;
  return (
    <section className="stack" aria-labelledby="subusers-title">
      <div className="section-head">
        <div>
          <h2 id="subusers-title">Subusers</h2>
          <p className="muted small">People who may use this server with the permissions you give them. You can grant only what you hold yourself.</p>
        </div>
        <Button variant="primary" onClick={() => setEditing("new")} disabled={!ready}>
          <UserPlus size={16} aria-hidden /> Add subuser
        </Button>
      </div>
      {catalog.isError && <ErrorBox error={catalog.error} retry={() => catalog.refetch()} title="The list of permissions could not be loaded" />}
      <QueryState
        query={list}
        loading="Loading subusers…"
        failed="The subusers could not be loaded"
        empty={
          <EmptyState title="No subusers" icon={<Users size={28} aria-hidden />}>
            Add someone to let them use the console, files or backups without owning the server.
          </EmptyState>
        }
      >
        {() => (
          <DataTable columns={["User", "Permissions", { label: "Added", className: "hide-sm" }]} actions stacked className="subusers-table">
            {subusers.map((s) => (
              <tr key={s.user_id} role="row">
                <td role="cell">
                  <strong className="block">{s.username || s.email}</strong>
                  <span className="muted small">{s.email}</span>
                </td>
                <td role="cell">
                  {s.permissions.length === 0 ? (
                    <span className="muted">None</span>
                  ) : (
                    <ul className="perm-chips" aria-label={`Permissions of ${s.email}`}>
                      {summary(groups, s.permissions).map((c) => (
                        <li key={c.label} className="badge badge-off" title={s.permissions.join(", ")}>
                          {c.label} {c.held}/{c.of}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td className="hide-sm" role="cell">
                  <span title={dateTime(s.created_at)}>{ago(s.created_at)}</span>
                </td>
                <td role="cell">
                  <div className="row-actions">
                    <Button size="sm" onClick={() => setEditing(s.user_id)} disabled={!ready} aria-label={`Edit ${s.email}`}>
                      <Pencil size={14} aria-hidden />
                      <span className="hide-sm">Edit</span>
                    </Button>
                    <Button size="sm" variant="danger" onClick={() => setRemoving(s)} aria-label={`Remove ${s.email}`}>
                      <UserMinus size={14} aria-hidden />
                      <span className="hide-sm">Remove</span>
                    </Button>
                  </div>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </QueryState>
      {editing && ready && (
        <SubuserDialog
          serverId={server.id}
          groups={groups}
          grantable={grantable}
          subuser={subusers.find((s) => s.user_id === editing)}
          onClose={() => setEditing(null)}
        />
      )}
      <ConfirmDialog
        open={!!removing}
        onOpenChange={(o) => !o && setRemoving(null)}
        title={`Remove ${removing?.email ?? ""}?`}
        description="They lose access to this server at once; their open console and SFTP sessions are closed."
        confirmLabel="Remove"
        danger
        onConfirm={() => removing && remove(removing)}
      />
    </section>
  );
}
