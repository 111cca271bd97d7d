import { useState, type FormEvent } from "react";
import { ApiError, errorText } from "../../../api/client";
import { can, type RestartPolicy, type Server } from "../../../api/types";
import { Button } from "../../../ui/Button";
import { Checkbox } from "../../../ui/Checkbox";
import { Field, Input, Select } from "../../../ui/Field";
import { useToast } from "../../../ui/toast";
import { RESTART_MODES } from "./model";
import { useServerPatch } from "./useServerPatch";

/** RestartCard is what the node does when the server's process exits
 * without being asked to. */
export function RestartCard({ server }: { server: Server }) {
  const toast = useToast();
  const [p, setP] = useState<RestartPolicy>(server.restart);
  const save = useServerPatch(server.id, () => toast("Saved the restart policy", "success"));
  const may = can(server, "server.update");
  const err = save.error instanceof ApiError ? save.error : undefined;
  const set = <K extends keyof RestartPolicy>(k: K, v: RestartPolicy[K]) => {
    if (save.error) save.reset();
    setP((x) => ({ ...x, [k]: v }));
  };
  const int = (s: string) => (s === "" ? 0 : Math.max(0, Math.trunc(Number(s)) || 0));
  const dirty = JSON.stringify(p) !== JSON.stringify(server.restart);
  const mode = RESTART_MODES.find((m) => m.mode === p.mode);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({ restart: p });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="restart-title" noValidate>
      <h3 id="restart-title">Restart policy</h3>
      <Field label="Restart the server" hint={mode?.description}>
        <Select value={p.mode} onChange={(e) => set("mode", e.target.value as RestartPolicy["mode"])} disabled={!may}>
          {RESTART_MODES.map((m) => (
            <option key={m.mode} value={m.mode}>
              {m.label}
            </option>
          ))}
        </Select>
      </Field>
      {p.mode !== "never" && (
        <>
          <div className="grid-2 settings-grid">
            <Field label="At most this many restarts" hint="0 takes the default, 5.">
              <Input inputMode="numeric" value={p.max_restarts} onChange={(e) => set("max_restarts", int(e.target.value))} disabled={!may} />
            </Field>
            <Field label="Within (seconds)" hint="One crash more in this window leaves it stopped as crash-looping. 0 takes the default, 600.">
              <Input inputMode="numeric" value={p.window_seconds} onChange={(e) => set("window_seconds", int(e.target.value))} disabled={!may} />
            </Field>
            <Field label="Wait before restarting (ms)" hint="Doubles with each crash in the window, up to a minute. 0 takes the default, 5000.">
              <Input inputMode="numeric" value={p.backoff_ms} onChange={(e) => set("backoff_ms", int(e.target.value))} disabled={!may} />
            </Field>
          </div>
          {p.mode === "on_crash" && (
            <Checkbox
              checked={p.clean_exit_is_crash}
              onCheckedChange={(c) => set("clean_exit_is_crash", c)}
              disabled={!may}
              label="Count a clean exit as a crash"
              description="For games that exit with code 0 when they fail."
            />
          )}
        </>
      )}
      {save.error && (
        <p className="field-error" role="alert">
          {err?.field === "restart" ? err.fieldMessage : errorText(save.error)}
        </p>
      )}
      {may && (
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.isPending} disabled={!dirty}>
            Save restart policy
          </Button>
        </div>
      )}
    </form>
  );
}
