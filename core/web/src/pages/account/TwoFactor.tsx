import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Download } from "lucide-react";
import { useApi } from "../../api/context";
import type { Account } from "../../api/types";
import { Button } from "../../ui/Button";
import { Field, Input } from "../../ui/Field";
import { useToast } from "../../ui/toast";
import { CopyBlock } from "../../ui/CopyBlock";
import { Notice } from "../../ui/feedback";
import { ToneBadge } from "../../ui/status";
import { formError } from "../../ui/formErrors";

interface Setup {
  secret: string;
  otpauth_url: string;
}

/** groupSecret splits a base32 secret into groups of four for typing it
 * into an authenticator app by hand. */
export function groupSecret(secret: string): string {
  return secret.replace(/\s+/g, "").replace(/(.{4})/g, "$1 ").trim();
}

/** TwoFactor turns two-factor authentication on (secret, then a code,
 * then the recovery codes, shown once) and off (password and code). */
export function TwoFactor({ account }: { account: Account }) {
  const [codes, setCodes] = useState<string[]>();
  return (
    <section aria-labelledby="totp-title">
      <div className="row-between">
        <h2 id="totp-title">Two-factor authentication</h2>
        {account.totp_enabled ? <ToneBadge tone="ok">On</ToneBadge> : <ToneBadge tone="off">Off</ToneBadge>}
      </div>
      {codes ? (
        <RecoveryCodes codes={codes} email={account.email} onDone={() => setCodes(undefined)} />
      ) : account.totp_enabled ? (
        <Disable />
      ) : (
        <Enable onEnabled={setCodes} />
      )}
    </section>
  );
}

function Enable({ onEnabled }: { onEnabled: (codes: string[]) => void }) {
  const api = useApi();
  const qc = useQueryClient();
  const [code, setCode] = useState("");
  const begin = useMutation({ mutationFn: () => api.post<Setup>("/api/account/totp") });
  const enable = useMutation({
    mutationFn: () => api.post<{ recovery_codes: string[] }>("/api/account/totp/enable", { code: code.replace(/\s+/g, "") }),
    onSuccess: (r) => {
      onEnabled(r.recovery_codes);
      qc.invalidateQueries({ queryKey: ["account"] });
    },
  });
  if (!begin.isSuccess) {
    return (
      <div className="stack">
        <p className="muted">Ask for a code from an authenticator app (such as Aegis, 1Password or Google Authenticator) at every sign-in.</p>
        {begin.isError && (
          <p className="field-error" role="alert">
            {formError(begin.error, [])}
          </p>
        )}
        <div>
          <Button variant="primary" busy={begin.isPending} onClick={() => begin.mutate()}>
            Set up two-factor
          </Button>
        </div>
      </div>
    );
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    enable.mutate();
  };
  return (
    <form className="stack" onSubmit={submit}>
      <ol className="steps">
        <li>
          In your authenticator app, add an account by entering this key:
          <div role="group" aria-label="Secret key">
            <p className="secret mono">{groupSecret(begin.data.secret)}</p>
          </div>
          or open this address on a device that has the app:
          <CopyBlock label="Setup address" text={begin.data.otpauth_url} />
        </li>
        <li>
          <Field label="Code from the app" hint="Six digits; they change every 30 seconds." error={formError(enable.error, [])}>
            <Input inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} required maxLength={10} />
          </Field>
        </li>
      </ol>
      <div className="row">
        <Button type="submit" variant="primary" busy={enable.isPending}>
          Turn on
        </Button>
        <Button onClick={() => begin.reset()}>Cancel</Button>
      </div>
    </form>
  );
}

function RecoveryCodes({ codes, email, onDone }: { codes: string[]; email: string; onDone: () => void }) {
  const text = codes.join("\n");
  const download = () => {
    const url = URL.createObjectURL(new Blob([`Catalyst recovery codes for ${email}\n\n${text}\n`], { type: "text/plain" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = "catalyst-recovery-codes.txt";
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 0);
  };
  return (
    <div className="stack">
      <Notice>
        <strong>Two-factor is on. Save these recovery codes now: they are shown once.</strong> Each signs you in once in place of a code, if you lose
        the authenticator.
      </Notice>
      <CopyBlock label="Recovery codes" text={text} />
      <div className="row">
        <Button onClick={download}>
          <Download size={14} aria-hidden /> Download
        </Button>
        <Button variant="primary" onClick={onDone}>
          I saved them
        </Button>
      </div>
    </div>
  );
}

function Disable() {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const disable = useMutation({
    mutationFn: () => api.post("/api/account/totp/disable", { password, code: code.trim() }),
    onSuccess: () => {
      setPassword("");
      setCode("");
      qc.invalidateQueries({ queryKey: ["account"] });
      toast("Two-factor authentication is off.", "success");
    },
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        disable.mutate();
      }}
    >
      <p className="muted">Sign-ins ask for a code from your authenticator app. To turn this off, confirm with your password and a code.</p>
      <div className="grid-2">
        <Field label="Password">
          <Input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="current-password" />
        </Field>
        <Field label="Code" hint="From the app, or a recovery code.">
          <Input autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} required />
        </Field>
      </div>
      {disable.isError && (
        <p className="field-error" role="alert">
          {formError(disable.error, [])}
        </p>
      )}
      <Button type="submit" variant="danger" busy={disable.isPending}>
        Turn off two-factor
      </Button>
    </form>
  );
}
