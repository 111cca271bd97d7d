import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { RotateCcw, Save } from "lucide-react";
import { ApiError, errorText } from "../../api/client";
import { useApi } from "../../api/context";
import { can, type Server } from "../../api/types";
import { useAuth } from "../../auth/auth";
import { Button } from "../../ui/Button";
import { EmptyState } from "../../ui/feedback";
import { QueryState } from "../../ui/QueryState";
import { Field, Input, Select, Textarea } from "../../ui/Field";
import { useToast } from "../../ui/toast";
import { useServer } from "./context";
import { changeOf, draftOf, imageOptions, isEmptyChange, preview, type StartupDraft, type StartupVariable, type StartupView } from "./startup/model";
import { check, choices, hints, parseRules } from "./startup/rules";

export default function StartupTab() {
  const { server } = useServer();
  const api = useApi();
  const view = useQuery({
    queryKey: ["server", server.id, "startup"],
    queryFn: ({ signal }) => api.get<StartupView>(`/api/servers/${server.id}/startup`, { signal }),
    enabled: can(server, "startup.read"),
    // A refetch would start the form over and lose what is typed.
    refetchOnWindowFocus: false,
  });
  if (!can(server, "startup.read")) {
    return <EmptyState title="No access to startup">You need the startup.read permission on this server.</EmptyState>;
  }
  return (
    <section className="stack" aria-labelledby="startup-title">
      <div>
        <h2 id="startup-title">Startup</h2>
        <p className="muted small">How the server starts. Changes take effect the next time it starts.</p>
      </div>
      <QueryState query={view} loading="Loading startup settings…" failed="The startup settings could not be loaded">
        {(data) => <StartupForm key={view.dataUpdatedAt} server={server} view={data} />}
      </QueryState>
    </section>
  );
}

function StartupForm({ server, view }: { server: Server; view: StartupView }) {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const admin = !!useAuth().account?.admin;
  const [draft, setDraft] = useState<StartupDraft>(() => draftOf(view));
  const [tried, setTried] = useState(false);
  const rules = useMemo(() => Object.fromEntries(view.variables.map((v) => [v.env_name, parseRules(v.rules)])), [view]);

  const change = changeOf(view, draft);
  const dirty = !isEmptyChange(change);
  const mayVars = can(server, "startup.update");
  const mayImage = can(server, "startup.image");
  const mayCommand = admin && mayVars;
  const clientErrors: Record<string, string> = {};
  for (const v of view.variables) {
    const value = draft.env[v.env_name];
    if (value === v.value) continue; // unchanged: the core accepted it
    const msg = check(rules[v.env_name], value);
    if (msg) clientErrors[v.env_name] = msg;
  }

  const save = useMutation({
    mutationFn: () => api.patch<StartupView>(`/api/servers/${server.id}/startup`, change),
    onSuccess: (next) => {
      qc.setQueryData(["server", server.id, "startup"], next);
      qc.invalidateQueries({ queryKey: ["server", server.id], exact: true });
      toast("Startup saved; it takes effect at the next start", "success");
    },
  });
  const err = save.error instanceof ApiError ? save.error : undefined;
  const serverError = (field: string) => (err?.field === field ? err.fieldMessage : undefined);
  const placed = !!err?.field && (err.field.startsWith("environment.") || err.field === "image" || err.field === "startup");

  const setEnv = (k: string, value: string) => {
    if (save.error) save.reset();
    setDraft((d) => ({ ...d, env: { ...d.env, [k]: value } }));
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (Object.keys(clientErrors).length > 0 || !dirty) return;
    save.mutate();
  };
  const reset = () => {
    save.reset();
    setTried(false);
    setDraft(draftOf(view));
  };
  const images = imageOptions(view);

  return (
    <form onSubmit={submit} className="stack" noValidate>
      <div className="card">
        <h3>Command line</h3>
        <pre className="startup-command" aria-label="Command line as it runs">
          {mayCommand ? preview(draft.startup, draft.env) : view.startup_rendered}
        </pre>
        {mayCommand ? (
          <Field
            label="Command line template"
            error={serverError("startup")}
            hint="Administrators only. {{VARIABLE}} is replaced by the variable's value; it runs inside the server's container."
          >
            <Textarea
              className="mono"
              rows={3}
              value={draft.startup}
              spellCheck={false}
              onChange={(e) => {
                if (save.error) save.reset();
                setDraft((d) => ({ ...d, startup: e.target.value }));
              }}
            />
          </Field>
        ) : (
          <p className="muted small">Only administrators change the command line; values of variables you cannot see show as [hidden].</p>
        )}
        <Field
          label="Image"
          error={serverError("image")}
          hint={mayImage ? "The container image the server runs in; a change applies at the next start." : "You need the startup.image permission to change it."}
        >
          <Select
            value={draft.image}
            disabled={!mayImage}
            onChange={(e) => {
              if (save.error) save.reset();
              setDraft((d) => ({ ...d, image: e.target.value }));
            }}
          >
            {images.map((i) => (
              <option key={i.image} value={i.image}>
                {i.label === i.image ? i.image : `${i.label} — ${i.image}`}
              </option>
            ))}
          </Select>
        </Field>
      </div>

      <div className="card">
        <h3>Variables</h3>
        {view.variables.length === 0 ? (
          <p className="muted">This server's template has no variables you can see.</p>
        ) : (
          <div className="startup-vars">
            {view.variables.map((v) => (
              <VariableField
                key={v.env_name}
                variable={v}
                value={draft.env[v.env_name] ?? ""}
                onChange={(x) => setEnv(v.env_name, x)}
                disabled={!mayVars || !v.editable}
                error={serverError("environment." + v.env_name) ?? (tried || draft.env[v.env_name] !== v.value ? clientErrors[v.env_name] : undefined)}
              />
            ))}
          </div>
        )}
        {!mayVars && view.variables.length > 0 && <p className="muted small">You need the startup.update permission to change variables.</p>}
      </div>

      {save.error && !placed && (
        <p className="field-error" role="alert">
          {errorText(save.error)}
        </p>
      )}
      {(mayVars || mayImage) && (
        <div className="form-actions">
          <Button onClick={reset} disabled={!dirty && !save.error}>
            <RotateCcw size={16} aria-hidden /> Reset changes
          </Button>
          <Button type="submit" variant="primary" busy={save.isPending} disabled={!dirty}>
            <Save size={16} aria-hidden /> Save
          </Button>
        </div>
      )}
    </form>
  );
}

interface VarProps {
  variable: StartupVariable;
  value: string;
  onChange: (v: string) => void;
  disabled: boolean;
  error?: string;
}

function VariableField({ variable: v, value, onChange, disabled, error }: VarProps) {
  const rs = useMemo(() => parseRules(v.rules), [v.rules]);
  const options = choices(rs);
  const words = hints(rs);
  const hint = (
    <>
      {v.description && <span className="block">{v.description}</span>}
      <span className="block">
        <code>{v.env_name}</code>
        {words.length > 0 && ` · ${words.join(" · ")}`}
        {v.default !== "" && ` · Default: ${v.default}`}
        {!v.editable && " · Read-only"}
      </span>
    </>
  );
  return (
    <Field label={v.name || v.env_name} hint={hint} error={error}>
      {options ? (
        <Select value={value} onChange={(e) => onChange(e.target.value)} disabled={disabled}>
          {!options.includes(value) && <option value={value}>{value === "" ? "(empty)" : value}</option>}
          {options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </Select>
      ) : (
        <Input value={value} onChange={(e) => onChange(e.target.value)} disabled={disabled} spellCheck={false} />
      )}
    </Field>
  );
}


