import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useApi } from "../../../api/context";
import { Checkbox } from "../../../ui/Checkbox";
import { Dialog, FormFoot } from "../../../ui/Dialog";
import { Field, Input } from "../../../ui/Field";
import { fieldError, formError } from "../../../ui/formErrors";
import { useToast } from "../../../ui/toast";
import { describe, groupState, setGroup, toggle, type PermissionGroup } from "./permissions";

/** subuserView of the core. */
export interface Subuser {
  user_id: string;
  email: string;
  username: string;
  permissions: string[];
  created_at: string;
}

interface Props {
  serverId: string;
  groups: PermissionGroup[];
  /** Whether the caller may grant p: only what they hold themselves. */
  grantable: (p: string) => boolean;
  /** The subuser to edit; none to add one. */
  subuser?: Subuser;
  onClose: () => void;
}

/** SubuserDialog adds a subuser or changes one's permissions. Mount it
 * only while open. */
export function SubuserDialog({ serverId, groups, grantable, subuser, onClose }: Props) {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const [email, setEmail] = useState("");
  const [selected, setSelected] = useState<Set<string>>(() => new Set(subuser ? subuser.permissions : ["server.read"].filter(grantable)));
  const key = ["server", serverId, "subusers"];

  const save = useMutation({
    mutationFn: () => {
      // In the catalogue's order, which is the order they read in.
      const permissions = groups.flatMap((g) => g.permissions).filter((p) => selected.has(p));
      return subuser
        ? api.patch<Subuser>(`/api/servers/${serverId}/subusers/${subuser.user_id}`, { permissions })
        : api.post<Subuser>(`/api/servers/${serverId}/subusers`, { email: email.trim(), permissions });
    },
    onSuccess: (s) => {
      qc.setQueryData<Subuser[]>(key, (l) => (l ? (subuser ? l.map((x) => (x.user_id === s.user_id ? s : x)) : [...l, s]) : [s]));
      toast(subuser ? `Saved the permissions of ${s.email}` : `Added ${s.email}`, "success");
      onClose();
    },
  });
  const err = save.error;
  const emailError = fieldError(err, "email");
  const permsError = fieldError(err, "permissions");

  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const lacksRead = !selected.has("server.read");
  return (
    <Dialog
      open
      onOpenChange={(o) => !o && onClose()}
      wide
      title={subuser ? `Permissions of ${subuser.username || subuser.email}` : "Add subuser"}
      description={subuser ? subuser.email : "Give someone with an account on this panel access to this server."}
    >
      <form onSubmit={submit} noValidate>
        {!subuser && (
          <Field label="Email" error={emailError} hint="The address of their panel account; they must have signed up already.">
            <Input type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" autoFocus required />
          </Field>
        )}
        {permsError && (
          <p className="field-error" role="alert">
            {permsError}
          </p>
        )}
        {lacksRead && <p className="warn-text small">Without “server.read” they will not see the server at all.</p>}
        <div className="perm-groups">
          {groups.map((g) => {
            const state = groupState(g, selected, grantable);
            const none = g.permissions.every((p) => !grantable(p));
            return (
              <fieldset key={g.id} className="perm-group">
                <legend>{g.label}</legend>
                <Checkbox
                  checked={state}
                  disabled={none}
                  onCheckedChange={() => setSelected(setGroup(g, selected, state !== true, grantable))}
                  label={<span className="perm-all">All of {g.label.toLowerCase()}</span>}
                />
                <div className="perm-items">
                  {g.permissions.map((p) => (
                    <Checkbox
                      key={p}
                      checked={selected.has(p)}
                      disabled={!grantable(p)}
                      onCheckedChange={(on) => setSelected(toggle(selected, p, on))}
                      label={<code>{p}</code>}
                      description={grantable(p) ? describe(p) : `${describe(p)} You cannot grant it: you do not hold it yourself.`}
                    />
                  ))}
                </div>
              </fieldset>
            );
          })}
        </div>
        <FormFoot
          error={formError(err, ["email", "permissions"])}
          onCancel={onClose}
          busy={save.isPending}
          submit={subuser ? "Save permissions" : "Add subuser"}
        />
      </form>
    </Dialog>
  );
}


