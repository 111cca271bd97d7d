import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { useApi } from "../../../api/context";
import { can, type Server } from "../../../api/types";
import { Button } from "../../../ui/Button";
import { ConfirmDialog } from "../../../ui/Dialog";
import { useToast } from "../../../ui/toast";

// The states a reinstall may start from: nothing runs.
const REINSTALLABLE = new Set(["stopped", "crashed", "install_failed"]);

/** DangerZone reinstalls or deletes the server. */
export function DangerZone({ server }: { server: Server }) {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const navigate = useNavigate();
  const [asking, setAsking] = useState<"reinstall" | "delete" | null>(null);
  const mayReinstall = can(server, "server.update");
  const mayDelete = can(server, "server.delete");
  if (!mayReinstall && !mayDelete) return null;

  const reinstall = async () => {
    await api.post<Server>(`/api/servers/${server.id}/reinstall`);
    qc.invalidateQueries({ queryKey: ["server", server.id], exact: true });
    qc.invalidateQueries({ queryKey: ["servers"] });
    toast(`Reinstalling ${server.name}`, "info");
  };
  const remove = async () => {
    await api.del(`/api/servers/${server.id}`);
    qc.removeQueries({ queryKey: ["server", server.id] });
    qc.invalidateQueries({ queryKey: ["servers"] });
    toast(`Deleted ${server.name}`, "success");
    navigate("/", { replace: true });
  };
  const stopped = REINSTALLABLE.has(server.state);
  return (
    <section className="card danger-zone" aria-labelledby="danger-title">
      <h3 id="danger-title">Danger zone</h3>
      {mayReinstall && (
        <div className="danger-row">
          <div>
            <strong>Reinstall</strong>
            <p className="muted small">
              Runs the template's installer again. Files it writes are replaced; the others stay.
              {!stopped && " Stop the server first."}
            </p>
          </div>
          <Button variant="danger" disabled={!stopped} onClick={() => setAsking("reinstall")}>
            Reinstall…
          </Button>
        </div>
      )}
      {mayDelete && (
        <div className="danger-row">
          <div>
            <strong>Delete this server</strong>
            <p className="muted small">Deletes the server, its files and its backups. This cannot be undone.</p>
          </div>
          <Button variant="danger" onClick={() => setAsking("delete")}>
            Delete server…
          </Button>
        </div>
      )}
      <ConfirmDialog
        open={asking === "reinstall"}
        onOpenChange={(o) => setAsking(o ? "reinstall" : null)}
        title={`Reinstall ${server.name}?`}
        description="The installer runs again on the stopped server; the server cannot start until it has finished. Files the installer writes are replaced."
        confirmLabel="Reinstall"
        danger
        onConfirm={reinstall}
      />
      <ConfirmDialog
        open={asking === "delete"}
        onOpenChange={(o) => setAsking(o ? "delete" : null)}
        title={`Delete ${server.name}?`}
        description="The server, all its files and its backups are deleted for good. Its node must be online."
        confirmLabel="Delete server"
        danger
        typeToConfirm={server.name}
        onConfirm={remove}
      />
    </section>
  );
}
