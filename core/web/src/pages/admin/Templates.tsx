import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ChevronDown, ChevronRight, FileUp, Plus, Trash2 } from "lucide-react";
import { useApi } from "../../api/context";
import type { Server } from "../../api/types";
import { Button } from "../../ui/Button";
import { ConfirmDialog, Dialog, FormFoot } from "../../ui/Dialog";
import { Field, Input, Select, Textarea } from "../../ui/Field";
import { DataTable } from "../../ui/DataTable";
import { EmptyState, ErrorBox, Notice } from "../../ui/feedback";
import { QueryState } from "../../ui/QueryState";
import { ago } from "../../ui/format";
import { useToast } from "../../ui/toast";
import { ToneBadge } from "../../ui/status";
import { fieldError, formError } from "../../ui/formErrors";
import { explainInUse } from "./parts";
import { pluginTone } from "./plugins";
import type { SourceTemplate, Template, TemplateImported, TemplateSource, TemplateSpec } from "./types";

/** Templates lists the server templates, imports them from files and
 * template sources, and creates and deletes them. */
export default function Templates() {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const [creating, setCreating] = useState(false);
  const [importing, setImporting] = useState(false);
  const [deleting, setDeleting] = useState<Template>();
  const templates = useQuery({ queryKey: ["templates"], queryFn: ({ signal }) => api.get<Template[]>("/api/admin/templates", { signal }) });
  const servers = useQuery({ queryKey: ["servers"], queryFn: ({ signal }) => api.get<Server[]>("/api/servers", { signal }) });
  const uses = new Map<string, number>();
  for (const s of servers.data ?? []) uses.set(s.template_id, (uses.get(s.template_id) ?? 0) + 1);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Templates</h1>
        <div className="row">
          <Button onClick={() => setImporting(true)}>
            <FileUp size={16} aria-hidden /> Import template
          </Button>
          <Button variant="primary" onClick={() => setCreating(true)}>
            <Plus size={16} aria-hidden /> New template
          </Button>
        </div>
      </div>
      <QueryState
        query={templates}
        loading="Loading templates…"
        failed="The templates did not load"
        empty={<EmptyState title="No templates yet">Import a template file or one of a template source's, or write one.</EmptyState>}
      >
        {(list) => (
          <DataTable columns={["Name", "Source", "Images", servers.isSuccess && { label: "Servers", className: "num" }, "Updated"]} actions>
            {list.map((t) => (
              <tr key={t.id}>
                <td>
                  <Link to={`/admin/templates/${t.id}`}>{t.name}</Link>
                  {t.description && <span className="muted small block clamp">{t.description}</span>}
                </td>
                <td>{t.source ? `${t.source}${t.source_version ? ` ${t.source_version}` : ""}` : <span className="muted">Written here</span>}</td>
                <td>{t.images.map((im) => im.label).join(", ")}</td>
                {servers.isSuccess && <td className="num">{uses.get(t.id) ?? 0}</td>}
                <td title={t.updated_at}>{ago(t.updated_at)}</td>
                <td className="actions">
                  <Button size="sm" variant="ghost" onClick={() => setDeleting(t)} aria-label={`Delete ${t.name}`}>
                    <Trash2 size={14} aria-hidden />
                  </Button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </QueryState>

      <Sources />

      <NewTemplateDialog open={creating} onOpenChange={setCreating} />
      <ImportDialog open={importing} onOpenChange={setImporting} />
      <ConfirmDialog
        open={!!deleting}
        onOpenChange={(o) => !o && setDeleting(undefined)}
        danger
        title={`Delete template ${deleting?.name ?? ""}?`}
        description="Servers keep running, but a template that servers use cannot be deleted."
        confirmLabel="Delete template"
        onConfirm={async () => {
          if (!deleting) return;
          try {
            await api.del(`/api/admin/templates/${deleting.id}`);
          } catch (e) {
            throw explainInUse(e, `Servers still use ${deleting.name}: move them to another template or delete them first`);
          }
          await qc.invalidateQueries({ queryKey: ["templates"] });
          toast(`Template ${deleting.name} deleted.`, "success");
        }}
      />
    </div>
  );
}

const NEW_FIELDS = ["name", "description", "startup", "images", "images[0].image", "images[0].label"];

function NewTemplateDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (o: boolean) => void }) {
  const api = useApi();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const empty = { name: "", description: "", label: "", image: "", startup: "" };
  const [form, setForm] = useState(empty);
  const create = useMutation({
    mutationFn: (spec: TemplateSpec) => api.post<Template>("/api/admin/templates", spec),
    onSuccess: (t) => {
      qc.invalidateQueries({ queryKey: ["templates"] });
      navigate(`/admin/templates/${t.id}`);
    },
  });
  const close = (o: boolean) => {
    if (!o) {
      setForm(empty);
      create.reset();
    }
    onOpenChange(o);
  };
  const set = (k: keyof typeof empty) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({
      name: form.name,
      description: form.description,
      author: "",
      images: [{ label: form.label, image: form.image }],
      startup: form.startup,
      stop_command: "",
      startup_done: [],
      install_image: "",
      install_entrypoint: "",
      install_script: "",
      variables: [],
      config_files: [],
      features: [],
      denylist: [],
    });
  };
  const err = create.error;
  return (
    <Dialog open={open} onOpenChange={close} title="New template" description="Start with a name, an image and a command line; add variables, the installer and config files on the next page.">
      <form onSubmit={submit}>
        <Field label="Name" error={fieldError(err, "name")}>
          <Input value={form.name} onChange={set("name")} required maxLength={64} autoFocus />
        </Field>
        <Field label="Description" error={fieldError(err, "description")}>
          <Textarea value={form.description} onChange={set("description")} rows={2} />
        </Field>
        <div className="grid-2">
          <Field label="Image label" hint="What users pick it by, such as Java 21." error={fieldError(err, "images[0].label")}>
            <Input value={form.label} onChange={set("label")} />
          </Field>
          <Field label="Image" error={fieldError(err, "images", "images[0].image")}>
            <Input value={form.image} onChange={set("image")} required placeholder="ghcr.io/example/java:21" className="mono" />
          </Field>
        </div>
        <Field label="Startup command" hint="With {{VARIABLE}} placeholders." error={fieldError(err, "startup")}>
          <Input value={form.startup} onChange={set("startup")} required className="mono" placeholder="java -Xmx{{SERVER_MEMORY}}M -jar server.jar" />
        </Field>
        <FormFoot error={formError(err, NEW_FIELDS)} onCancel={() => close(false)} busy={create.isPending} submit="Create template" />
      </form>
    </Dialog>
  );
}

function useSources() {
  const api = useApi();
  return useQuery({ queryKey: ["template-sources"], queryFn: ({ signal }) => api.get<TemplateSource[]>("/api/admin/template-sources", { signal }) });
}

/** ImportDialog uploads a template file: Catalyst's own JSON, or a file a
 * template source converts (a Pterodactyl egg). */
function ImportDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (o: boolean) => void }) {
  const api = useApi();
  const qc = useQueryClient();
  const sources = useSources();
  const [file, setFile] = useState<File | null>(null);
  const [source, setSource] = useState("");
  const upload = useMutation({
    mutationFn: ({ file, source }: { file: File; source: string }) => {
      const form = new FormData();
      form.append("file", file, file.name);
      if (source) form.append("source", source);
      return api.post<TemplateImported>("/api/admin/templates/import", form);
    },
    onSuccess: () => qc.invalidateQueries({ queryKey: ["templates"] }),
  });
  const close = (o: boolean) => {
    if (!o) {
      setFile(null);
      setSource("");
      upload.reset();
    }
    onOpenChange(o);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (file) upload.mutate({ file, source });
  };
  if (upload.isSuccess) {
    const r = upload.data;
    return (
      <Dialog open={open} onOpenChange={close} title="Template imported" footer={<Button variant="primary" onClick={() => close(false)}>Done</Button>}>
        <ImportOutcome result={r} onOpen={() => close(false)} />
      </Dialog>
    );
  }
  return (
    <Dialog open={open} onOpenChange={close} title="Import template">
      <form onSubmit={submit}>
        <Field label="Format" hint={sources.isError ? "The template sources did not load; Catalyst JSON still imports." : undefined} error={fieldError(upload.error, "source")}>
          <Select value={source} onChange={(e) => setSource(e.target.value)}>
            <option value="">Catalyst template (JSON)</option>
            {(sources.data ?? []).map((s) => (
              <option key={s.name} value={s.name}>
                {s.name} (converted by the template source)
              </option>
            ))}
          </Select>
        </Field>
        <Field label="File" error={fieldError(upload.error, "file")}>
          <Input type="file" accept=".json,application/json,.yaml,.yml" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </Field>
        <FormFoot error={formError(upload.error, ["source", "file"])} onCancel={() => close(false)} busy={upload.isPending} disabled={!file} submit="Import" />
      </form>
    </Dialog>
  );
}

/** ImportOutcome names the template an import made or updated and lists
 * what the source could not convert. */
function ImportOutcome({ result, onOpen }: { result: TemplateImported; onOpen?: () => void }) {
  return (
    <div className="stack" role="status">
      <p>
        {result.created ? "Created" : "Updated"} <Link to={`/admin/templates/${result.template.id}`} onClick={onOpen}>{result.template.name}</Link>.
      </p>
      {result.warnings.length > 0 ? (
        <Notice>
          <strong>The conversion left {result.warnings.length === 1 ? "one thing" : `${result.warnings.length} things`} to check:</strong>
          <ul className="warnings">
            {result.warnings.map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
        </Notice>
      ) : (
        <p className="muted small">Nothing was lost in the conversion.</p>
      )}
    </div>
  );
}

/** Sources lists the template source plugins and, opened, the templates
 * each offers with an Import or Update button. */
function Sources() {
  const sources = useSources();
  return (
    <section className="section" aria-labelledby="template-sources">
      <h2 id="template-sources">Template sources</h2>
      <QueryState
        query={sources}
        loading="Asking the template sources…"
        failed="The template sources did not load"
        empty={
          <EmptyState title="No template sources configured">
            A template_source plugin (such as one for Pterodactyl eggs) in core.hcl offers its templates here.
          </EmptyState>
        }
      >
        {(list) => (
          <div className="stack">
            {list.map((s) => (
              <SourceCard key={s.name} source={s} />
            ))}
          </div>
        )}
      </QueryState>
    </section>
  );
}

function SourceCard({ source }: { source: TemplateSource }) {
  const [open, setOpen] = useState(false);
  const Chevron = open ? ChevronDown : ChevronRight;
  return (
    <div className="card">
      <div className="row-between">
        <button className="disclosure" aria-expanded={open} onClick={() => setOpen(!open)}>
          <Chevron size={16} aria-hidden />
          <strong>{source.name}</strong>
          {source.version && <span className="muted small">{source.version}</span>}
        </button>
        <div className="row">
          <ToneBadge tone={pluginTone(source.health)}>{source.health}</ToneBadge>
          <span className="muted small">{source.templates === null ? "list failed" : `${source.templates} templates`}</span>
        </div>
      </div>
      {source.error && <p className="field-error">{source.error}</p>}
      {open && <SourceTemplates source={source.name} />}
    </div>
  );
}

function SourceTemplates({ source }: { source: string }) {
  const api = useApi();
  const qc = useQueryClient();
  const [outcome, setOutcome] = useState<TemplateImported>();
  const key = ["template-sources", source, "templates"];
  const list = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => api.get<SourceTemplate[]>(`/api/admin/template-sources/${encodeURIComponent(source)}/templates`, { signal }),
  });
  const importer = useMutation({
    mutationFn: (ref: string) => api.post<TemplateImported>(`/api/admin/template-sources/${encodeURIComponent(source)}/import`, { ref }),
    onSuccess: (r) => {
      setOutcome(r);
      qc.invalidateQueries({ queryKey: key });
      qc.invalidateQueries({ queryKey: ["templates"] });
      qc.invalidateQueries({ queryKey: ["template", r.template.id] });
    },
  });
  return (
    <QueryState query={list} failed={`${source}'s templates did not load`} empty={<EmptyState title={`${source} offers no templates`} />}>
      {(templates) => (
        <div className="stack source-templates">
          {importer.isError && <ErrorBox error={importer.error} title="The import failed" />}
          {outcome && <ImportOutcome result={outcome} />}
          <DataTable columns={["Template", "Version", "Here"]} actions>
            {templates.map((t) => (
              <tr key={t.ref}>
                <td>
                  {t.template_id ? <Link to={`/admin/templates/${t.template_id}`}>{t.name}</Link> : t.name}
                  {t.description && <span className="muted small block clamp">{t.description}</span>}
                </td>
                <td>{t.version || "–"}</td>
                <td>
                  {!t.imported ? (
                    <span className="muted">Not imported</span>
                  ) : t.update_available ? (
                    <ToneBadge tone="warn" title={`Imported version ${t.imported_version || "unknown"}`}>
                      Update available
                    </ToneBadge>
                  ) : (
                    <ToneBadge tone="ok">Up to date</ToneBadge>
                  )}
                </td>
                <td className="actions">
                  {(!t.imported || t.update_available) && (
                    <Button
                      size="sm"
                      busy={importer.isPending && importer.variables === t.ref}
                      disabled={importer.isPending}
                      onClick={() => importer.mutate(t.ref)}
                      aria-label={`${t.imported ? "Update" : "Import"} ${t.name}`}
                    >
                      {t.imported ? "Update" : "Import"}
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </DataTable>
        </div>
      )}
    </QueryState>
  );
}
