import { useRef, useState, type FormEvent } from "react";
import { Navigate, useLocation } from "react-router";
import { useApi } from "../api/context";
import { ApiError, errorText } from "../api/client";
import { useAuth } from "../auth/auth";
import { Button } from "../ui/Button";
import { Field, Input } from "../ui/Field";

/** Login asks for email and password, then, for an account with
 * two-factor on, for the authenticator's (or a recovery) code. */
export default function Login() {
  const api = useApi();
  const { signedIn } = useAuth();
  const location = useLocation();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [needCode, setNeedCode] = useState(false);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const codeRef = useRef<HTMLInputElement>(null);

  if (signedIn) {
    const from = (location.state as { from?: string } | null)?.from;
    return <Navigate to={from && from.startsWith("/") ? from : "/"} replace />;
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.login(email, password, needCode ? code.trim() : undefined);
    } catch (err) {
      if (err instanceof ApiError && err.code === "two_factor_required") {
        setNeedCode(true);
        setTimeout(() => codeRef.current?.focus(), 0);
      } else {
        setError(errorText(err));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login-page">
      <form className="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <div className="brand brand-lg">
          <img src="/favicon.svg" alt="" width={32} height={32} />
          Catalyst
        </div>
        <h1 id="login-title">{needCode ? "Two-factor code" : "Sign in"}</h1>
        {!needCode ? (
          <>
            <Field label="Email">
              <Input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
            </Field>
            <Field label="Password">
              <Input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            </Field>
          </>
        ) : (
          <Field label="Code" hint="The 6-digit code from your authenticator app, or one of your recovery codes.">
            <Input ref={codeRef} inputMode="text" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />
          </Field>
        )}
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <Button type="submit" variant="primary" busy={busy} className="btn-block">
          {needCode ? "Verify" : "Sign in"}
        </Button>
        {needCode && (
          <Button
            variant="ghost"
            className="btn-block"
            onClick={() => {
              setNeedCode(false);
              setCode("");
              setError(undefined);
            }}
          >
            Back
          </Button>
        )}
      </form>
    </div>
  );
}
