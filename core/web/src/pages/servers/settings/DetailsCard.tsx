import { useState, type FormEvent } from "react";
import { ApiError, errorText } from "../../../api/client";
import { can, type Server } from "../../../api/types";
import { Button } from "../../../ui/Button";
import { Field, Input, Textarea } from "../../../ui/Field";
import { useToast } from "../../../ui/toast";
import { useServerPatch } from "./useServerPatch";

/** DetailsCard renames a server and changes its description. */
export function DetailsCard({ server }: { server: Server }) {
  const toast = useToast();
  const [name, setName] = useState(server.name);
  const [description, setDescription] = useState(server.description);
  const save = useServerPatch(server.id, (s) => toast(`Saved the details of ${s.name}`, "success"));
  const may = can(server, "server.update");
  const dirty = name !== server.name || description !== server.description;
  const err = save.error instanceof ApiError ? save.error : undefined;
  const fieldErr = (f: string) => (err?.field === f ? err.fieldMessage : undefined);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({ name, description });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="details-title" noValidate>
      <h3 id="details-title">Details</h3>
      <Field label="Server name" error={fieldErr("name")}>
        <Input value={name} onChange={(e) => setName(e.target.value)} maxLength={64} disabled={!may} required />
      </Field>
      <Field label="Description" error={fieldErr("description")}>
        <Textarea value={description} onChange={(e) => setDescription(e.target.value)} rows={3} disabled={!may} />
      </Field>
      <dl className="kv small">
        <dt>Server ID</dt>
        <dd className="mono">{server.id}</dd>
        <dt>Short ID</dt>
        <dd className="mono">{server.short_id}</dd>
      </dl>
      {save.error && !fieldErr("name") && !fieldErr("description") && (
        <p className="field-error" role="alert">
          {errorText(save.error)}
        </p>
      )}
      {may && (
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.isPending} disabled={!dirty}>
            Save details
          </Button>
        </div>
      )}
    </form>
  );
}
