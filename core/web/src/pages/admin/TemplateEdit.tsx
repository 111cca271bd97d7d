import { useState, type FormEvent, type ReactNode } from "react";
import { Link, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ArrowLeft, Plus, Trash2 } from "lucide-react";
import { useApi } from "../../api/context";
import { ApiError } from "../../api/client";
import { Button } from "../../ui/Button";
import { Checkbox } from "../../ui/Checkbox";
import { Field, Input, Textarea } from "../../ui/Field";
import { ErrorBox, Loading, Notice } from "../../ui/feedback";
import { dateTime } from "../../ui/format";
import { useToast } from "../../ui/toast";
import { emptyImage, emptyVariable, placeOf, toForm, toPatch, type FormProblem, type TemplateForm, type VariableRow } from "./templateForm";
import type { Template } from "./types";

/** TemplateEdit changes every part of a template: its text fields, images,
 * variables, installer and config files. */
export default function TemplateEdit() {
  const { tid = "" } = useParams();
  const api = useApi();
  const tpl = useQuery({ queryKey: ["template", tid], queryFn: ({ signal }) => api.get<Template>(`/api/admin/templates/${tid}`, { signal }) });
  if (tpl.isPending) return <div className="page"><Loading label="Loading the template…" /></div>;
  if (tpl.isError) {
    return (
      <div className="page">
        <BackLink />
        <ErrorBox error={tpl.error} retry={() => tpl.refetch()} title="The template did not load" />
      </div>
    );
  }
  // Keyed by update time: a save or an import from the source starts the
  // form over from what the core holds.
  return <Editor key={tpl.data.updated_at} template={tpl.data} />;
}

function BackLink() {
  return (
    <Link to="/admin/templates" className="back-link">
      <ArrowLeft size={14} aria-hidden /> Templates
    </Link>
  );
}

function Editor({ template }: { template: Template }) {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const [initial] = useState(() => toForm(template));
  const [form, setForm] = useState<TemplateForm>(initial);
  // What the browser found before sending; the API's own field error is
  // read from the mutation.
  const [local, setLocal] = useState<FormProblem>();
  const save = useMutation({
    mutationFn: (body: object) => api.patch<Template>(`/api/admin/templates/${template.id}`, body),
    onSuccess: (t) => {
      qc.setQueryData(["template", template.id], t);
      qc.invalidateQueries({ queryKey: ["templates"] });
      toast(`Template ${t.name} saved.`, "success");
    },
  });
  const problem = local ?? (save.error instanceof ApiError && save.error.field ? { field: save.error.field, message: save.error.message } : undefined);
  const place = problem && placeOf(problem.field);
  const dirty = JSON.stringify(form) !== JSON.stringify(initial);
  const set = <K extends keyof TemplateForm>(k: K, v: TemplateForm[K]) => setForm((f) => ({ ...f, [k]: v }));
  const text = (k: keyof TemplateForm) => (e: { target: { value: string } }) => set(k, e.target.value as never);
  const err = (field: string, index?: number, sub?: string) =>
    place && place.field === field && place.index === index && place.sub === sub ? problem.message : undefined;
  // An error about a whole list, or a row without a sub-field (images[1]),
  // shows above the list.
  const listErr = (field: string) => (place && place.field === field && !place.sub ? problem.message : undefined);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.reset();
    const r = toPatch(form);
    setLocal("problem" in r ? r.problem : undefined);
    if ("patch" in r) save.mutate(r.patch);
  };
  const discard = () => {
    setForm(initial);
    setLocal(undefined);
    save.reset();
  };

  return (
    <div className="page">
      <BackLink />
      <form onSubmit={submit} aria-labelledby="template-title">
        <div className="page-head">
          <h1 id="template-title">{template.name}</h1>
          <div className="row">
            {dirty && <span className="muted small">Unsaved changes</span>}
            <Button onClick={discard} disabled={!dirty}>
              Discard
            </Button>
            <Button type="submit" variant="primary" busy={save.isPending} disabled={!dirty}>
              Save
            </Button>
          </div>
        </div>
        {template.source_ref && (
          <Notice tone="info">
            Imported from {template.source} (version {template.source_version || "unknown"}). Updating it from the source replaces changes made here.
          </Notice>
        )}
        {(local || save.isError) && <ErrorBox error={local ? `${local.field}: ${local.message}` : save.error} title="Not saved" />}

        <Section title="General">
          <Field label="Name" error={err("name")}>
            <Input value={form.name} onChange={text("name")} required maxLength={64} />
          </Field>
          <Field label="Description" error={err("description")}>
            <Textarea value={form.description} onChange={text("description")} rows={3} />
          </Field>
          <Field label="Author" error={err("author")}>
            <Input value={form.author} onChange={text("author")} />
          </Field>
        </Section>

        <Section title="Images" hint="The images servers may run on; users choose by label. The first is the default.">
          {listErr("images") && (
            <p className="field-error" role="alert">
              {listErr("images")}
            </p>
          )}
          {form.images.map((im, i) => (
            <div className="edit-row edit-row-image" key={im.key}>
              <Field label={`Image ${i + 1} label`} error={err("images", i, "label")}>
                <Input value={im.label} onChange={(e) => set("images", form.images.map((x, j) => (j === i ? { ...x, label: e.target.value } : x)))} />
              </Field>
              <Field label={`Image ${i + 1} reference`} error={err("images", i, "image")}>
                <Input className="mono" value={im.image} onChange={(e) => set("images", form.images.map((x, j) => (j === i ? { ...x, image: e.target.value } : x)))} required />
              </Field>
              <Button variant="ghost" onClick={() => set("images", form.images.filter((_, j) => j !== i))} aria-label={`Remove image ${i + 1}`} disabled={form.images.length === 1}>
                <Trash2 size={16} aria-hidden />
              </Button>
            </div>
          ))}
          <Button size="sm" onClick={() => set("images", [...form.images, emptyImage()])}>
            <Plus size={14} aria-hidden /> Add image
          </Button>
        </Section>

        <Section title="Startup">
          <Field label="Startup command" hint="{{VARIABLE}} placeholders are replaced by the server's values. Servers keep the command they were created with." error={err("startup")}>
            <Textarea className="mono" value={form.startup} onChange={text("startup")} rows={2} required />
          </Field>
          <Field label="Stop command" hint="Sent to the console to stop the server; empty sends a signal." error={err("stop_command")}>
            <Input className="mono" value={form.stop_command} onChange={text("stop_command")} />
          </Field>
          <Field label="Started when the console prints" hint='One pattern per line; "regex:" starts a regular expression.' error={err("startup_done") ?? listErr("startup_done")}>
            <Textarea className="mono" value={form.startup_done} onChange={text("startup_done")} rows={2} />
          </Field>
        </Section>

        <Section title="Variables" hint="Environment variables of the server. Rules are checked when users set values, such as required|int|between:512,16384.">
          {listErr("variables") && (
            <p className="field-error" role="alert">
              {listErr("variables")}
            </p>
          )}
          {form.variables.length === 0 && <p className="muted">No variables.</p>}
          {form.variables.map((v, i) => (
            <VariableEditor
              key={v.key}
              index={i}
              value={v}
              error={(sub) => err("variables", i, sub)}
              onChange={(nv) => set("variables", form.variables.map((x, j) => (j === i ? nv : x)))}
              onRemove={() => set("variables", form.variables.filter((_, j) => j !== i))}
            />
          ))}
          <Button size="sm" onClick={() => set("variables", [...form.variables, emptyVariable()])}>
            <Plus size={14} aria-hidden /> Add variable
          </Button>
        </Section>

        <Section title="Installer" hint="Runs once in a container with the server's files mounted, before the first start and on reinstall.">
          <div className="grid-2">
            <Field label="Install image" error={err("install_image")}>
              <Input className="mono" value={form.install_image} onChange={text("install_image")} placeholder="debian:bookworm-slim" />
            </Field>
            <Field label="Entrypoint" error={err("install_entrypoint")}>
              <Input className="mono" value={form.install_entrypoint} onChange={text("install_entrypoint")} placeholder="/bin/sh" />
            </Field>
          </div>
          <Field label="Install script" error={err("install_script")}>
            <Textarea className="mono code-area" value={form.install_script} onChange={text("install_script")} rows={12} spellCheck={false} />
          </Field>
        </Section>

        <Section title="Config files" hint={`Files rewritten before each start. JSON: [{"path": "server.properties", "parser": "properties", "replace": [{"match": "server-port", "value": "{{SERVER_PORT}}"}]}]; parsers: properties, yaml, json, ini, file.`}>
          <Field label="Config files (JSON)" error={problem && place?.field === "config_files" ? `${problem.field}: ${problem.message}` : undefined}>
            <Textarea className="mono code-area" value={form.config_files} onChange={text("config_files")} rows={10} spellCheck={false} />
          </Field>
        </Section>

        <Section title="Advanced">
          <div className="grid-2">
            <Field label="Features" hint="One per line." error={err("features") ?? listErr("features")}>
              <Textarea className="mono" value={form.features} onChange={text("features")} rows={3} />
            </Field>
            <Field label="File denylist" hint="Paths users may not open, one per line." error={err("denylist") ?? listErr("denylist")}>
              <Textarea className="mono" value={form.denylist} onChange={text("denylist")} rows={3} />
            </Field>
          </div>
          <p className="muted small">
            Created {dateTime(template.created_at)}, last changed {dateTime(template.updated_at)}.
          </p>
        </Section>
      </form>
    </div>
  );
}

function Section({ title, hint, children }: { title: string; hint?: string; children: ReactNode }) {
  return (
    <section className="card section">
      <h2>{title}</h2>
      {hint && <p className="muted small">{hint}</p>}
      {children}
    </section>
  );
}

function VariableEditor({
  index,
  value: v,
  error,
  onChange,
  onRemove,
}: {
  index: number;
  value: VariableRow;
  error: (sub: string) => string | undefined;
  onChange: (v: VariableRow) => void;
  onRemove: () => void;
}) {
  const n = index + 1;
  const set = (k: keyof VariableRow) => (e: { target: { value: string } }) => onChange({ ...v, [k]: e.target.value });
  return (
    <fieldset className="edit-row edit-row-var">
      <legend>
        Variable {n}
        {v.env_name && <code> {v.env_name}</code>}
      </legend>
      <Field label="Name" error={error("name")}>
        <Input value={v.name} onChange={set("name")} aria-label={`Variable ${n} name`} />
      </Field>
      <Field label="Environment name" error={error("env_name")}>
        <Input className="mono" value={v.env_name} onChange={set("env_name")} aria-label={`Variable ${n} environment name`} placeholder="SERVER_JARFILE" />
      </Field>
      <Field label="Default" error={error("default")}>
        <Input className="mono" value={v.default} onChange={set("default")} aria-label={`Variable ${n} default`} />
      </Field>
      <Field label="Rules" error={error("rules")}>
        <Input className="mono" value={v.rules} onChange={set("rules")} aria-label={`Variable ${n} rules`} placeholder="required|string|max:64" />
      </Field>
      <Field label="Description" className="span-all" error={error("description")}>
        <Input value={v.description} onChange={set("description")} aria-label={`Variable ${n} description`} />
      </Field>
      <div className="row span-all">
        <Checkbox
          label="Users can see it"
          checked={v.user_viewable}
          onCheckedChange={(c) => onChange({ ...v, user_viewable: c, user_editable: c ? v.user_editable : false })}
        />
        <Checkbox label="Users can change it" checked={v.user_editable} disabled={!v.user_viewable} onCheckedChange={(c) => onChange({ ...v, user_editable: c })} />
        {error("user_editable") && <span className="field-error">{error("user_editable")}</span>}
        {error("user_viewable") && <span className="field-error">{error("user_viewable")}</span>}
        <Button size="sm" variant="ghost" className="push-right" onClick={onRemove}>
          <Trash2 size={14} aria-hidden /> Remove variable {n}
        </Button>
      </div>
    </fieldset>
  );
}
