import { useState, type FormEvent } from "react";
import { ApiError, errorText } from "../../../api/client";
import type { Server } from "../../../api/types";
import { Button } from "../../../ui/Button";
import { Field, Input } from "../../../ui/Field";
import { mib } from "../../../ui/format";
import { useToast } from "../../../ui/toast";
import { resourceChange, resourceFormOf, type ResourceForm } from "./model";
import { useServerPatch } from "./useServerPatch";

/** ResourcesCard shows a server's limits; administrators change them. */
export function ResourcesCard({ server, admin }: { server: Server; admin: boolean }) {
  return (
    <section className="card" aria-labelledby="resources-title">
      <h3 id="resources-title">Resources</h3>
      {admin ? (
        <ResourcesForm server={server} />
      ) : (
        <dl className="kv">
          <dt>Memory</dt>
          <dd>{mib(server.memory_mb)}</dd>
          <dt>CPU</dt>
          <dd>{server.cpu_percent}% (100% is one core)</dd>
          <dt>Disk</dt>
          <dd>{mib(server.disk_mb)}</dd>
          <dt>Processes</dt>
          <dd>at most {server.pids_limit}</dd>
          <dt>Backups kept</dt>
          <dd>{server.backup_limit === null ? "the panel's default" : server.backup_limit === 0 ? "none (backups off)" : server.backup_limit}</dd>
        </dl>
      )}
    </section>
  );
}

const FIELDS = ["memory_mb", "cpu_percent", "disk_mb", "backup_limit"];

function ResourcesForm({ server }: { server: Server }) {
  const toast = useToast();
  const [form, setForm] = useState<ResourceForm>(() => resourceFormOf(server));
  const [local, setLocal] = useState<{ field: string; message: string } | null>(null);
  const save = useServerPatch(server.id, () => toast("Saved the resources; they apply at the next start", "success"));
  const err = save.error instanceof ApiError ? save.error : undefined;
  const fieldErr = (f: keyof ResourceForm) => (local?.field === f ? local.message : err?.field === f ? err.fieldMessage : undefined);
  const set = (k: keyof ResourceForm, v: string) => {
    setLocal(null);
    setForm((f) => ({ ...f, [k]: v }));
  };
  const outcome = resourceChange(server, form);
  const dirty = "change" in outcome ? Object.keys(outcome.change).length > 0 : true;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if ("field" in outcome) {
      setLocal(outcome);
      return;
    }
    save.mutate(outcome.change);
  };
  const num = (k: keyof ResourceForm) => ({ value: form[k], onChange: (e: { target: { value: string } }) => set(k, e.target.value), inputMode: "numeric" as const });
  return (
    <form onSubmit={submit} noValidate>
      <div className="grid-2 settings-grid">
        <Field label="Memory (MiB)" error={fieldErr("memory_mb")}>
          <Input {...num("memory_mb")} />
        </Field>
        <Field label="CPU (%)" error={fieldErr("cpu_percent")} hint="100 is one core.">
          <Input {...num("cpu_percent")} />
        </Field>
        <Field label="Disk (MiB)" error={fieldErr("disk_mb")}>
          <Input {...num("disk_mb")} />
        </Field>
        <Field label="Backups kept" error={fieldErr("backup_limit")} hint="Empty: the panel's default. 0 turns backups off.">
          <Input {...num("backup_limit")} placeholder="default" />
        </Field>
      </div>
      <p className="muted small">New limits apply the next time the server starts.</p>
      {save.error && !(err?.field && FIELDS.includes(err.field)) && (
        <p className="field-error" role="alert">
          {errorText(save.error)}
        </p>
      )}
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={save.isPending} disabled={!dirty}>
          Save resources
        </Button>
      </div>
    </form>
  );
}
