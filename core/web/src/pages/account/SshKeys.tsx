import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Trash2 } from "lucide-react";
import { useApi } from "../../api/context";
import { Button } from "../../ui/Button";
import { ConfirmDialog } from "../../ui/Dialog";
import { Field, Input, Textarea } from "../../ui/Field";
import { QueryState } from "../../ui/QueryState";
import { EmptyState } from "../../ui/feedback";
import { dateTime } from "../../ui/format";
import { useToast } from "../../ui/toast";
import { fieldError, formError } from "../../ui/formErrors";
import type { SSHKey } from "../admin/types";

/** SshKeys lists the public keys the account logs in to SFTP with, adds
 * one and deletes them. */
export function SshKeys() {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState("");
  const [key, setKey] = useState("");
  // Until the user names the key, its name follows the .pub line's comment.
  const [named, setNamed] = useState(false);
  const [deleting, setDeleting] = useState<SSHKey>();
  const keys = useQuery({ queryKey: ["account", "ssh-keys"], queryFn: ({ signal }) => api.get<SSHKey[]>("/api/account/ssh-keys", { signal }) });
  const add = useMutation({
    mutationFn: () => api.post<SSHKey>("/api/account/ssh-keys", { name: name.trim(), public_key: key.trim() }),
    onSuccess: (k) => {
      setName("");
      setKey("");
      setNamed(false);
      qc.invalidateQueries({ queryKey: ["account", "ssh-keys"] });
      toast(`SSH key ${k.name} added.`, "success");
    },
  });
  const onKey = (v: string) => {
    setKey(v);
    if (!named) setName(v.trim().split(/\s+/).slice(2).join(" "));
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  return (
    <section aria-labelledby="ssh-keys-title">
      <h2 id="ssh-keys-title">SSH keys</h2>
      <p className="muted small">Log in to your servers' SFTP with these keys instead of your password.</p>
      <QueryState query={keys} failed="The SSH keys did not load" empty={<EmptyState title="No SSH keys" />}>
        {(list) => (
          <ul className="key-list">
            {list.map((k) => (
              <li key={k.id} className="row-between">
                <div>
                  <strong>{k.name}</strong> <span className="muted small">added {dateTime(k.created_at)}</span>
                  <code className="block small">{k.fingerprint}</code>
                </div>
                <Button size="sm" variant="ghost" onClick={() => setDeleting(k)} aria-label={`Delete SSH key ${k.name}`}>
                  <Trash2 size={14} aria-hidden />
                </Button>
              </li>
            ))}
          </ul>
        )}
      </QueryState>
      <form onSubmit={submit} className="section" aria-label="Add an SSH key">
        <h3>Add a key</h3>
        <Field label="Public key" hint="One line of your .pub file: ssh-ed25519 AAAA… you@host. ed25519, ECDSA or RSA of 2048 bits or more." error={fieldError(add.error, "public_key")}>
          <Textarea className="mono" rows={3} value={key} onChange={(e) => onKey(e.target.value)} required spellCheck={false} />
        </Field>
        <Field label="Name" error={fieldError(add.error, "name")}>
          <Input
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              setNamed(e.target.value !== "");
            }}
            required
            maxLength={100}
          />
        </Field>
        {formError(add.error, ["public_key", "name"]) && (
          <p className="field-error" role="alert">
            {formError(add.error, ["public_key", "name"])}
          </p>
        )}
        <Button type="submit" variant="primary" busy={add.isPending}>
          Add SSH key
        </Button>
      </form>
      <ConfirmDialog
        open={!!deleting}
        onOpenChange={(o) => !o && setDeleting(undefined)}
        danger
        title={`Delete SSH key ${deleting?.name ?? ""}?`}
        description="Your open SFTP sessions close; log in again with another key or your password."
        confirmLabel="Delete key"
        onConfirm={async () => {
          if (!deleting) return;
          await api.del(`/api/account/ssh-keys/${deleting.id}`);
          await qc.invalidateQueries({ queryKey: ["account", "ssh-keys"] });
        }}
      />
    </section>
  );
}
