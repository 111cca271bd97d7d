import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../api/client";
import { useApi } from "../../api/context";
import type { Account, Server } from "../../api/types";
import { useAuth } from "../../auth/auth";
import { Button } from "../../ui/Button";
import { ErrorBox, Loading } from "../../ui/feedback";
import { Field, Input, Select, Textarea } from "../../ui/Field";
import type { NodeSummary, TemplateSummary } from "../admin/types";
import {
  DEFAULT_RESOURCES,
  check,
  editableVariables,
  fieldFor,
  nodeStatus,
  orderNodes,
  templateDefaults,
  toRequest,
  type CreateForm,
  type FieldKey,
} from "./create/form";

type Errors = Partial<Record<FieldKey, string>>;

/** CreateServer is the administrators' form for a new server. */
export default function CreateServer() {
  const { account } = useAuth();
  if (!account?.admin) {
    return (
      <div className="page">
        <h1>New server</h1>
        <p className="muted">Only administrators create servers. Ask one to create a server for you.</p>
        <Link to="/" className="btn btn-secondary btn-md">
          Back to servers
        </Link>
      </div>
    );
  }
  return <CreateServerForm account={account} />;
}

function CreateServerForm({ account }: { account: Account }) {
  const api = useApi();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const templates = useQuery({
    queryKey: ["templates"],
    queryFn: ({ signal }) => api.get<TemplateSummary[]>("/api/admin/templates", { signal }),
  });
  const nodes = useQuery({
    queryKey: ["nodes"],
    queryFn: ({ signal }) => api.get<NodeSummary[]>("/api/admin/nodes", { signal }),
  });
  const ordered = useMemo(() => orderNodes(nodes.data ?? []), [nodes.data]);

  const [form, setForm] = useState<CreateForm>({
    name: "",
    description: "",
    templateId: "",
    image: "",
    nodeId: "",
    owner: "",
    ...DEFAULT_RESOURCES,
    environment: {},
  });
  const [errors, setErrors] = useState<Errors>({});
  const [failure, setFailure] = useState<unknown>();
  const formRef = useRef<HTMLFormElement>(null);

  // Pick the first template and the first ready node once they load.
  const template = templates.data?.find((t) => t.id === form.templateId);
  useEffect(() => {
    const first = templates.data?.[0];
    if (!first) return;
    setForm((f) => (f.templateId ? f : { ...f, templateId: first.id, image: first.images[0]?.image ?? "", environment: templateDefaults(first, true) }));
  }, [templates.data]);
  useEffect(() => {
    if (!form.nodeId && ordered[0]) setForm((f) => ({ ...f, nodeId: ordered[0].id }));
  }, [ordered, form.nodeId]);

  function chooseTemplate(id: string) {
    const t = templates.data?.find((x) => x.id === id);
    setForm((f) => ({ ...f, templateId: id, image: t?.images[0]?.image ?? "", environment: templateDefaults(t, true) }));
  }
  const set = <K extends keyof CreateForm>(key: K, value: CreateForm[K]) => setForm((f) => ({ ...f, [key]: value }));
  const setVar = (env: string, value: string) => setForm((f) => ({ ...f, environment: { ...f.environment, [env]: value } }));

  // Move to the first field in error after a refused submit.
  useEffect(() => {
    if (Object.keys(errors).length > 0) formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);

  const create = useMutation({
    mutationFn: async (f: CreateForm) => {
      let ownerId: string | undefined;
      const owner = f.owner.trim();
      if (owner && owner.toLowerCase() !== account.email.toLowerCase()) {
        ownerId = await findUser(owner);
        if (!ownerId) throw new ApiError(422, "invalid", "No user has this email or user name.", "owner_id");
      }
      return api.post<Server>("/api/servers", toRequest(f, ownerId));
    },
    onSuccess: (srv) => {
      qc.setQueryData(["server", srv.id], srv);
      void qc.invalidateQueries({ queryKey: ["servers"], exact: true });
      navigate(`/servers/${srv.id}/console`);
    },
    onError: (e) => {
      const key = e instanceof ApiError ? fieldFor(e.field) : undefined;
      if (key && (key !== "image" || (template?.images.length ?? 0) > 1) && (!key.startsWith("environment.") || key.slice(12) in form.environment)) {
        setErrors({ [key]: e.message });
        setFailure(undefined);
      } else {
        setErrors({});
        setFailure(e);
      }
    },
  });

  async function findUser(who: string): Promise<string | undefined> {
    const page = await api.get<{ users: Account[] }>("/api/admin/users", { query: { q: who, limit: 50 } });
    const w = who.toLowerCase();
    return page.users.find((u) => u.email.toLowerCase() === w || u.username.toLowerCase() === w)?.id;
  }

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found = check(form);
    setErrors(found);
    setFailure(undefined);
    if (Object.keys(found).length === 0) create.mutate(form);
  };

  if (templates.isPending || nodes.isPending) return <Loading label="Loading templates and nodes…" />;
  const loadError = templates.error ?? nodes.error;
  if (loadError) {
    return (
      <div className="page">
        <h1>New server</h1>
        <ErrorBox
          error={loadError}
          retry={() => {
            void templates.refetch();
            void nodes.refetch();
          }}
          title="The templates or nodes could not be loaded"
        />
      </div>
    );
  }
  const missing = templates.data!.length === 0 ? "template" : nodes.data!.length === 0 ? "node" : undefined;
  if (missing) {
    return (
      <div className="page">
        <h1>New server</h1>
        <p className="muted">
          A server needs a {missing} first.{" "}
          {missing === "template" ? <Link to="/admin/templates">Add a template</Link> : <Link to="/admin/nodes">Add a node</Link>}, then come back.
        </p>
      </div>
    );
  }

  const vars = editableVariables(template, true);
  return (
    <div className="page create-server">
      <div className="page-head">
        <h1>New server</h1>
      </div>
      <form ref={formRef} onSubmit={submit} noValidate className="stack">
        {failure !== undefined && <ErrorBox error={failure} title="The server was not created" />}
        <section className="card" aria-labelledby="cs-basics">
          <h2 id="cs-basics">Server</h2>
          <Field label="Name" error={errors.name}>
            <Input value={form.name} onChange={(e) => set("name", e.target.value)} required maxLength={64} autoFocus />
          </Field>
          <Field label="Description" error={errors.description} hint="Optional; shown under the name.">
            <Textarea value={form.description} onChange={(e) => set("description", e.target.value)} maxLength={1024} rows={2} />
          </Field>
          <Field label="Owner" error={errors.owner} hint={`An email or user name; leave empty to own it yourself (${account.email}).`}>
            <Input value={form.owner} onChange={(e) => set("owner", e.target.value)} autoComplete="off" placeholder={account.email} />
          </Field>
        </section>

        <section className="card" aria-labelledby="cs-place">
          <h2 id="cs-place">Template and node</h2>
          <div className="grid-2">
            <Field label="Template" error={errors.templateId} hint={template?.description}>
              <Select value={form.templateId} onChange={(e) => chooseTemplate(e.target.value)} required>
                {templates.data!.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
              </Select>
            </Field>
            <Field label="Node" error={errors.nodeId} hint="Nodes that are online and not in maintenance come first.">
              <Select value={form.nodeId} onChange={(e) => set("nodeId", e.target.value)} required>
                {ordered.map((n) => (
                  <option key={n.id} value={n.id}>
                    {n.name} ({nodeStatus(n)})
                  </option>
                ))}
              </Select>
            </Field>
            {template && template.images.length > 1 && (
              <Field label="Image" error={errors.image}>
                <Select value={form.image} onChange={(e) => set("image", e.target.value)}>
                  {template.images.map((im) => (
                    <option key={im.image} value={im.image}>
                      {im.label}
                    </option>
                  ))}
                </Select>
              </Field>
            )}
          </div>
        </section>

        <section className="card" aria-labelledby="cs-res">
          <h2 id="cs-res">Resources</h2>
          <div className="grid-3">
            <Field label="Memory (MiB)" error={errors.memoryMb}>
              <Input type="number" inputMode="numeric" min={1} value={form.memoryMb} onChange={(e) => set("memoryMb", e.target.value)} />
            </Field>
            <Field label="CPU (%)" error={errors.cpuPercent} hint="100 is one core.">
              <Input type="number" inputMode="numeric" min={1} value={form.cpuPercent} onChange={(e) => set("cpuPercent", e.target.value)} />
            </Field>
            <Field label="Disk (MiB)" error={errors.diskMb}>
              <Input type="number" inputMode="numeric" min={1} value={form.diskMb} onChange={(e) => set("diskMb", e.target.value)} />
            </Field>
          </div>
        </section>

        {vars.length > 0 && (
          <section className="card" aria-labelledby="cs-vars">
            <h2 id="cs-vars">Variables</h2>
            <p className="muted small">The template's settings for this server; each starts at the template's default.</p>
            <div className="grid-2">
              {vars.map((v) => (
                <Field
                  key={v.env_name}
                  label={v.name}
                  error={errors[`environment.${v.env_name}`]}
                  hint={
                    <>
                      {v.description && <span className="block">{v.description}</span>}
                      <span className="block mono">
                        {v.env_name}
                        {v.rules ? ` · ${v.rules}` : ""}
                        {!v.user_editable ? " · administrators only" : ""}
                      </span>
                    </>
                  }
                >
                  <Input value={form.environment[v.env_name] ?? ""} onChange={(e) => setVar(v.env_name, e.target.value)} placeholder={v.default} />
                </Field>
              ))}
            </div>
          </section>
        )}

        <div className="row form-actions">
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create server
          </Button>
          <Link to="/" className="btn btn-ghost btn-md">
            Cancel
          </Link>
        </div>
      </form>
    </div>
  );
}
