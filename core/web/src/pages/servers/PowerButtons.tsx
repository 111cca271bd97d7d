import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Play, RotateCw, Skull, Square } from "lucide-react";
import { errorText } from "../../api/client";
import { useApi } from "../../api/context";
import type { Server } from "../../api/types";
import { Button } from "../../ui/Button";
import { ConfirmDialog } from "../../ui/Dialog";
import { useToast } from "../../ui/toast";
import { POWER_ACTIONS, powerCheck, type PowerAction } from "./power";

const LABELS: Record<PowerAction, string> = { start: "Start", stop: "Stop", restart: "Restart", kill: "Kill" };
const ICONS = { start: Play, stop: Square, restart: RotateCw, kill: Skull };

/** PowerButtons starts, stops, restarts and kills a server; each button is
 * enabled when the server's state and the caller's permissions allow it. */
export function PowerButtons({ server }: { server: Server }) {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const [confirmKill, setConfirmKill] = useState(false);
  const power = useMutation({
    mutationFn: (action: PowerAction) => api.post<Server>(`/api/servers/${server.id}/power`, { action }),
    onSuccess: (next) => {
      // The power answer has no SFTP details; keep the ones we have.
      qc.setQueryData<Server>(["server", server.id], (old) => (old ? { ...old, ...next, sftp: old.sftp } : next));
      void qc.invalidateQueries({ queryKey: ["servers"], exact: true });
    },
  });
  const run = (action: PowerAction) =>
    power.mutateAsync(action).catch((e) => {
      toast(`Could not ${action} ${server.name}: ${errorText(e)}`, "error");
    });

  return (
    <div className="row power-buttons" role="group" aria-label="Power">
      {POWER_ACTIONS.map((action) => {
        const check = powerCheck(server, action);
        const Icon = ICONS[action];
        return (
          <Button
            key={action}
            variant={action === "start" ? "primary" : action === "kill" ? "danger" : "secondary"}
            disabled={!check.allowed || power.isPending}
            busy={power.isPending && power.variables === action}
            title={check.why}
            onClick={() => (action === "kill" ? setConfirmKill(true) : run(action))}
          >
            <Icon size={15} aria-hidden />
            {LABELS[action]}
          </Button>
        );
      })}
      <ConfirmDialog
        open={confirmKill}
        onOpenChange={setConfirmKill}
        title={`Kill ${server.name}?`}
        description="Killing ends the process at once, without letting the game save. Use Stop unless the server is stuck."
        confirmLabel="Kill"
        danger
        onConfirm={() => power.mutateAsync("kill")}
      />
    </div>
  );
}
