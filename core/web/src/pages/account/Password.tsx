import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { useApi } from "../../api/context";
import type { Session } from "../../api/client";
import { Button } from "../../ui/Button";
import { Field, Input } from "../../ui/Field";
import { useToast } from "../../ui/toast";
import { fieldError, formError } from "../../ui/formErrors";

/** Password changes the password. The core ends every session, this one
 * too, and answers a new session for this browser. */
export function Password() {
  const api = useApi();
  const toast = useToast();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const change = useMutation({
    mutationFn: () => api.put<Session>("/api/account/password", { current_password: current, new_password: next }),
    onSuccess: (s) => {
      api.setSession(s);
      setCurrent("");
      setNext("");
      setConfirm("");
      toast("Password changed. Every other session is signed out.", "success");
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (next !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    change.mutate();
  };
  const fields = ["current_password", "new_password", "password"];
  return (
    <form onSubmit={submit} aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <Field label="Current password" error={fieldError(change.error, "current_password")}>
        <Input type="password" value={current} onChange={(e) => setCurrent(e.target.value)} required autoComplete="current-password" />
      </Field>
      <Field label="New password" error={fieldError(change.error, "new_password", "password")}>
        <Input type="password" value={next} onChange={(e) => setNext(e.target.value)} required autoComplete="new-password" />
      </Field>
      <Field label="Confirm new password" error={mismatch ? "The two new passwords differ." : undefined}>
        <Input type="password" value={confirm} onChange={(e) => setConfirm(e.target.value)} required autoComplete="new-password" />
      </Field>
      {formError(change.error, fields) && (
        <p className="field-error" role="alert">
          {formError(change.error, fields)}
        </p>
      )}
      <Button type="submit" variant="primary" busy={change.isPending}>
        Change password
      </Button>
    </form>
  );
}
