import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useApi } from "../../api/context";
import type { Account } from "../../api/types";
import { Button } from "../../ui/Button";
import { Field, Input } from "../../ui/Field";
import { useToast } from "../../ui/toast";
import { fieldError, formError } from "../../ui/formErrors";

/** Profile changes the account's email and user name. */
export function Profile({ account }: { account: Account }) {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const [email, setEmail] = useState(account.email);
  const [username, setUsername] = useState(account.username);
  const save = useMutation({
    mutationFn: (body: { email?: string; username?: string }) => api.patch<Account>("/api/account", body),
    onSuccess: (a) => {
      qc.setQueryData(["account"], a);
      toast("Profile saved.", "success");
    },
  });
  const changed = email.trim() !== account.email || username.trim() !== account.username;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body: { email?: string; username?: string } = {};
    if (email.trim() !== account.email) body.email = email.trim();
    if (username.trim() !== account.username) body.username = username.trim();
    save.mutate(body);
  };
  return (
    <form onSubmit={submit} aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <Field label="Email" error={fieldError(save.error, "email")}>
        <Input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="email" />
      </Field>
      <Field label="User name" error={fieldError(save.error, "username")}>
        <Input value={username} onChange={(e) => setUsername(e.target.value)} required autoComplete="username" />
      </Field>
      {formError(save.error, ["email", "username"]) && (
        <p className="field-error" role="alert">
          {formError(save.error, ["email", "username"])}
        </p>
      )}
      <Button type="submit" variant="primary" busy={save.isPending} disabled={!changed}>
        Save profile
      </Button>
    </form>
  );
}
