import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Plus, Trash2 } from "lucide-react";
import { useApi } from "../../api/context";
import type { PermissionCatalog } from "../../api/types";
import { Button } from "../../ui/Button";
import { Checkbox } from "../../ui/Checkbox";
import { ConfirmDialog, Dialog, FormFoot } from "../../ui/Dialog";
import { Field, Input } from "../../ui/Field";
import { DataTable } from "../../ui/DataTable";
import { EmptyState, Notice } from "../../ui/feedback";
import { QueryState } from "../../ui/QueryState";
import { ago, dateTime } from "../../ui/format";
import { CopyBlock } from "../../ui/CopyBlock";
import { fieldError, formError } from "../../ui/formErrors";
import { groupPermissions, groupState, keyBody, type KeyForm } from "./scopes";

interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[] | null;
  allowed_ips: string[] | null;
  last_used_at: string | null;
  expires_at: string | null;
  created_at: string;
}

interface ApiKeyCreated extends ApiKey {
  key: string;
}

/** ApiKeys lists the account's API keys, creates them (showing the secret
 * once) and deletes them. */
export function ApiKeys({ admin }: { admin: boolean }) {
  const api = useApi();
  const qc = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<ApiKey>();
  const keys = useQuery({ queryKey: ["account", "api-keys"], queryFn: ({ signal }) => api.get<ApiKey[]>("/api/account/api-keys", { signal }) });
  return (
    <section aria-labelledby="api-keys-title">
      <div className="row-between">
        <h2 id="api-keys-title">API keys</h2>
        <Button onClick={() => setCreating(true)}>
          <Plus size={16} aria-hidden /> New API key
        </Button>
      </div>
      <p className="muted small">For scripts and tools: send the key as a bearer token.</p>
      <QueryState query={keys} failed="The API keys did not load" empty={<EmptyState title="No API keys" />}>
        {(list) => (
          <DataTable columns={["Name", "Permissions", "Last used", "Expires"]} actions>
            {list.map((k) => (
              <tr key={k.id}>
                <td>
                  <strong>{k.name}</strong>
                  <span className="mono small muted block">{k.prefix}…</span>
                </td>
                <td className="small">
                  {k.scopes && k.scopes.length > 0 ? k.scopes.join(", ") : "All of yours"}
                  {k.allowed_ips && k.allowed_ips.length > 0 && <span className="muted block">from {k.allowed_ips.join(", ")}</span>}
                </td>
                <td>{k.last_used_at ? <span title={dateTime(k.last_used_at)}>{ago(k.last_used_at)}</span> : <span className="muted">never</span>}</td>
                <td>{k.expires_at ? dateTime(k.expires_at) : <span className="muted">never</span>}</td>
                <td className="actions">
                  <Button size="sm" variant="ghost" onClick={() => setDeleting(k)} aria-label={`Delete API key ${k.name}`}>
                    <Trash2 size={14} aria-hidden />
                  </Button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </QueryState>
      {creating && <NewKeyDialog admin={admin} onClose={() => setCreating(false)} />}
      <ConfirmDialog
        open={!!deleting}
        onOpenChange={(o) => !o && setDeleting(undefined)}
        danger
        title={`Delete API key ${deleting?.name ?? ""}?`}
        description="Tools using it stop working at once."
        confirmLabel="Delete key"
        onConfirm={async () => {
          if (!deleting) return;
          await api.del(`/api/account/api-keys/${deleting.id}`);
          await qc.invalidateQueries({ queryKey: ["account", "api-keys"] });
        }}
      />
    </section>
  );
}

function NewKeyDialog({ admin, onClose }: { admin: boolean; onClose: () => void }) {
  const api = useApi();
  const qc = useQueryClient();
  const [form, setForm] = useState<KeyForm>({ name: "", access: "all", scopes: [], allowedIps: "", expires: "" });
  const [problem, setProblem] = useState<{ field: string; message: string }>();
  const catalog = useQuery({ queryKey: ["permissions"], queryFn: ({ signal }) => api.get<PermissionCatalog>("/api/permissions", { signal }), staleTime: Infinity });
  const create = useMutation({
    mutationFn: (body: object) => api.post<ApiKeyCreated>("/api/account/api-keys", body),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["account", "api-keys"] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = keyBody(form);
    if ("field" in r) {
      setProblem(r);
      return;
    }
    setProblem(undefined);
    create.mutate(r.body);
  };
  const err = (field: string) => (problem?.field === field ? problem.message : fieldError(create.error, field));

  if (create.isSuccess) {
    return (
      <Dialog open onOpenChange={(o) => !o && onClose()} title={`API key ${create.data.name} created`} wide footer={<Button variant="primary" onClick={onClose}>Done</Button>}>
        <div className="stack">
          <Notice>
            <strong>Shown once.</strong> Copy the key now: it cannot be shown again. Delete it and make another if it is lost.
          </Notice>
          <CopyBlock label="API key" text={create.data.key} />
        </div>
      </Dialog>
    );
  }

  const groups = catalog.data ? [{ title: "On servers", groups: groupPermissions(catalog.data.server) }, ...(admin ? [{ title: "Administration", groups: groupPermissions(catalog.data.global) }] : [])] : [];
  const toggle = (perms: string[], on: boolean) =>
    setForm((f) => ({ ...f, scopes: on ? [...new Set([...f.scopes, ...perms])] : f.scopes.filter((s) => !perms.includes(s)) }));

  return (
    <Dialog open onOpenChange={(o) => !o && onClose()} title="New API key" wide>
      <form onSubmit={submit}>
        <Field label="Name" error={err("name")}>
          <Input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} maxLength={100} autoFocus />
        </Field>
        <fieldset className="plain">
          <legend>Permissions</legend>
          <label className="radio-row">
            <input type="radio" name="access" checked={form.access === "all"} onChange={() => setForm({ ...form, access: "all" })} />
            All of my permissions, now and later
          </label>
          <label className="radio-row">
            <input type="radio" name="access" checked={form.access === "some"} onChange={() => setForm({ ...form, access: "some" })} />
            Only the ones I choose
          </label>
        </fieldset>
        {form.access === "some" && (
          <QueryState query={catalog} failed="The permissions did not load">
            {() => (
              <div className="scope-picker">
                {err("scopes") && (
                  <p className="field-error" role="alert">
                    {err("scopes")}
                  </p>
                )}
                {groups.map((sec) => (
                  <div key={sec.title}>
                    <h3>{sec.title}</h3>
                    <div className="scope-groups">
                      {sec.groups.map((g) => (
                        <fieldset key={sec.title + g.family} className="plain scope-group">
                          <legend className="sr-only">{g.family}</legend>
                          <Checkbox label={<strong>{g.family}</strong>} checked={groupState(g, form.scopes)} onCheckedChange={(c) => toggle(g.perms, c)} />
                          <div className="scope-perms">
                            {g.perms.map((p) => (
                              <Checkbox key={p} label={<code>{p}</code>} checked={form.scopes.includes(p)} onCheckedChange={(c) => toggle([p], c)} />
                            ))}
                          </div>
                        </fieldset>
                      ))}
                    </div>
                  </div>
                ))}
              </div>
            )}
          </QueryState>
        )}
        <div className="grid-2">
          <Field label="Allowed addresses" hint="Optional: IPs or CIDR prefixes, comma-separated." error={err("allowed_ips")}>
            <Input value={form.allowedIps} onChange={(e) => setForm({ ...form, allowedIps: e.target.value })} className="mono" placeholder="203.0.113.0/24" />
          </Field>
          <Field label="Expires" hint="Optional." error={err("expires_at")}>
            <Input type="datetime-local" value={form.expires} onChange={(e) => setForm({ ...form, expires: e.target.value })} />
          </Field>
        </div>
        <FormFoot error={formError(create.error, ["name", "scopes", "allowed_ips", "expires_at"])} onCancel={onClose} busy={create.isPending} submit="Create key" />
      </form>
    </Dialog>
  );
}
