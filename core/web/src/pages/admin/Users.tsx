import { useState, type FormEvent } from "react";
import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { KeyRound, Pencil, Plus, Search, Trash2 } from "lucide-react";
import { useApi } from "../../api/context";
import type { Account } from "../../api/types";
import { useAuth } from "../../auth/auth";
import { Button } from "../../ui/Button";
import { Checkbox } from "../../ui/Checkbox";
import { ConfirmDialog, Dialog, FormFoot } from "../../ui/Dialog";
import { Field, Input } from "../../ui/Field";
import { DataTable } from "../../ui/DataTable";
import { QueryState } from "../../ui/QueryState";
import { EmptyState } from "../../ui/feedback";
import { dateTime } from "../../ui/format";
import { useToast } from "../../ui/toast";
import { LoadMore } from "../../ui/LoadMore";
import { ToneBadge } from "../../ui/status";
import { fieldError, formError } from "../../ui/formErrors";
import { useDebounced } from "../../ui/useDebounced";
import { explainInUse } from "./parts";
import type { SSHKey, UserPage } from "./types";

const PAGE = 50;

/** Users lists the panel's accounts with search and paging, and creates,
 * changes and deletes them. */
export default function Users() {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const { account: me } = useAuth();
  const [q, setQ] = useState("");
  const query = useDebounced(q.trim(), 300);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Account>();
  const [deleting, setDeleting] = useState<Account>();
  const [keysOf, setKeysOf] = useState<Account>();
  const users = useInfiniteQuery({
    queryKey: ["users", query],
    queryFn: ({ pageParam, signal }) => api.get<UserPage<Account>>("/api/admin/users", { signal, query: { q: query, after: pageParam, limit: PAGE } }),
    initialPageParam: "",
    getNextPageParam: (last) => last.next || undefined,
    // The last answer stays on screen while a new search runs.
    placeholderData: keepPreviousData,
  });
  const list = users.data?.pages.flatMap((p) => p.users) ?? [];

  return (
    <div className="page">
      <div className="page-head">
        <h1>Users</h1>
        <Button variant="primary" onClick={() => setCreating(true)}>
          <Plus size={16} aria-hidden /> New user
        </Button>
      </div>
      <form className="search" role="search" onSubmit={(e) => e.preventDefault()}>
        <Search size={16} aria-hidden />
        <Input type="search" value={q} onChange={(e) => setQ(e.target.value)} aria-label="Search users by email or name" placeholder="Search by email or name" />
      </form>
      <QueryState
        query={users}
        loading="Loading users…"
        failed="The users did not load"
        empty={<EmptyState title={query ? `No user matches "${query}"` : "No users"} />}
        isEmpty={() => list.length === 0}
      >
        {() => (
          <>
            <DataTable columns={["User", "Role", "Two-factor", "Created"]} actions>
              {list.map((u) => (
                <tr key={u.id}>
                  <td>
                    <strong>{u.username || u.email}</strong>
                    <span className="muted small block">{u.email}</span>
                  </td>
                  <td>{u.admin ? <ToneBadge tone="busy">Administrator</ToneBadge> : "User"}</td>
                  <td>{u.totp_enabled ? <ToneBadge tone="ok">On</ToneBadge> : <span className="muted">Off</span>}</td>
                  <td>{dateTime(u.created_at)}</td>
                  <td className="actions">
                    <Button size="sm" variant="ghost" onClick={() => setKeysOf(u)} aria-label={`SSH keys of ${u.email}`} title="SSH keys">
                      <KeyRound size={14} aria-hidden />
                    </Button>
                    <Button size="sm" variant="ghost" onClick={() => setEditing(u)} aria-label={`Edit ${u.email}`} title="Edit">
                      <Pencil size={14} aria-hidden />
                    </Button>
                    <Button size="sm" variant="ghost" onClick={() => setDeleting(u)} aria-label={`Delete ${u.email}`} title="Delete" disabled={u.id === me?.id}>
                      <Trash2 size={14} aria-hidden />
                    </Button>
                  </td>
                </tr>
              ))}
            </DataTable>
            <LoadMore pager={users} shown={list.length} />
          </>
        )}
      </QueryState>

      <UserDialog open={creating} onOpenChange={setCreating} />
      {editing && <UserDialog open onOpenChange={(o) => !o && setEditing(undefined)} user={editing} self={editing.id === me?.id} />}
      <SSHKeysDialog user={keysOf} onClose={() => setKeysOf(undefined)} />
      <ConfirmDialog
        open={!!deleting}
        onOpenChange={(o) => !o && setDeleting(undefined)}
        danger
        title={`Delete ${deleting?.email ?? ""}?`}
        description="The account, its API keys, SSH keys and subuser grants go. A user who owns servers cannot be deleted."
        confirmLabel="Delete user"
        onConfirm={async () => {
          if (!deleting) return;
          try {
            await api.del(`/api/admin/users/${deleting.id}`);
          } catch (e) {
            throw explainInUse(e, `${deleting.email} still owns servers: give them to another user or delete them first`);
          }
          await qc.invalidateQueries({ queryKey: ["users"] });
          toast(`${deleting.email} deleted.`, "success");
        }}
      />
    </div>
  );
}

const USER_FIELDS = ["email", "username", "password", "admin"];

/** UserDialog creates a user, or changes one when given user: fields left
 * as they were are not sent, and an empty password keeps the old one. */
function UserDialog({ open, onOpenChange, user, self }: { open: boolean; onOpenChange: (o: boolean) => void; user?: Account; self?: boolean }) {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const blank = { email: user?.email ?? "", username: user?.username ?? "", password: "", admin: user?.admin ?? false };
  const [form, setForm] = useState(blank);
  const save = useMutation({
    mutationFn: () => {
      if (!user) return api.post<Account>("/api/admin/users", { email: form.email.trim(), username: form.username.trim() || undefined, password: form.password, admin: form.admin });
      const patch: Record<string, unknown> = {};
      if (form.email.trim() !== user.email) patch.email = form.email.trim();
      if (form.username.trim() !== user.username) patch.username = form.username.trim();
      if (form.password) patch.password = form.password;
      if (form.admin !== user.admin) patch.admin = form.admin;
      return api.patch<Account>(`/api/admin/users/${user.id}`, patch);
    },
    onSuccess: (u) => {
      qc.invalidateQueries({ queryKey: ["users"] });
      if (self) qc.setQueryData(["account"], u);
      toast(user ? `${u.email} saved.` : `${u.email} created.`, "success");
      close(false);
    },
  });
  const close = (o: boolean) => {
    if (!o) {
      setForm(blank);
      save.reset();
    }
    onOpenChange(o);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const err = save.error;
  return (
    <Dialog open={open} onOpenChange={close} title={user ? `Edit ${user.email}` : "New user"}>
      <form onSubmit={submit}>
        <Field label="Email" error={fieldError(err, "email")}>
          <Input type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} required autoFocus autoComplete="off" />
        </Field>
        <Field label="User name" hint={user ? undefined : "Optional; made from the email when empty."} error={fieldError(err, "username")}>
          <Input value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} autoComplete="off" />
        </Field>
        <Field
          label={user ? "New password" : "Password"}
          hint={user ? "Leave empty to keep the current one. Setting one signs the user out everywhere." : undefined}
          error={fieldError(err, "password")}
        >
          <Input type="password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} required={!user} autoComplete="new-password" />
        </Field>
        <Checkbox
          label="Administrator"
          description={self ? "You cannot remove your own administrator rights." : "Administrators manage every server, node, template and user."}
          checked={form.admin}
          disabled={self && form.admin}
          onCheckedChange={(c) => setForm({ ...form, admin: c })}
        />
        {fieldError(err, "admin") && <p className="field-error">{fieldError(err, "admin")}</p>}
        <FormFoot error={formError(err, USER_FIELDS)} onCancel={() => close(false)} busy={save.isPending} submit={user ? "Save" : "Create user"} />
      </form>
    </Dialog>
  );
}

function SSHKeysDialog({ user, onClose }: { user?: Account; onClose: () => void }) {
  const api = useApi();
  const keys = useQuery({
    queryKey: ["user", user?.id, "ssh-keys"],
    queryFn: ({ signal }) => api.get<SSHKey[]>(`/api/admin/users/${user!.id}/ssh-keys`, { signal }),
    enabled: !!user,
  });
  return (
    <Dialog open={!!user} onOpenChange={(o) => !o && onClose()} title={`SSH keys of ${user?.email ?? ""}`} description="The keys this user logs in to SFTP with. Users add and remove their own on their account page." wide>
      <QueryState query={keys} failed="The keys did not load" empty={<EmptyState title="No SSH keys" />}>
        {(list) => (
          <ul className="key-list">
            {list.map((k) => (
              <li key={k.id}>
                <strong>{k.name}</strong> <span className="muted small">added {dateTime(k.created_at)}</span>
                <code className="block small">{k.fingerprint}</code>
              </li>
            ))}
          </ul>
        )}
      </QueryState>
    </Dialog>
  );
}
