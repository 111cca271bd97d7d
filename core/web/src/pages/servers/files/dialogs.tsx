// The file manager's dialogs. Each is mounted when it opens (so it starts
// from its props), takes the operation to run, and stays open showing
// the API's message when it fails.
import { useState, type FormEvent, type ReactNode } from "react";
import { ApiError, errorText } from "../../../api/client";
import { Checkbox } from "../../../ui/Checkbox";
import { Dialog, FormFoot } from "../../../ui/Dialog";
import { Field, Input, Select } from "../../../ui/Field";
import type { ArchiveFormat, FileInfo } from "./api";
import { formatOctal, fromBits, parseOctal, symbolic, toBits, WHAT, WHO } from "./mode";
import { normalize, validName } from "./paths";

/** useRun runs a dialog's action, keeping busy and the error to show. */
function useRun() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = async (fn: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

interface FormDialogProps {
  onClose: () => void;
  title: string;
  description?: ReactNode;
  submitLabel: string;
  busy: boolean;
  /** An error that belongs to no one field. */
  error?: unknown;
  onSubmit: () => void;
  children: ReactNode;
  danger?: boolean;
}

/** FormDialog is a dialog around one form: Enter submits it. The buttons
 * sit inside the form, so every browser's implicit submission finds its
 * submit button. */
function FormDialog({ onClose, title, description, submitLabel, busy, error, onSubmit, children, danger }: FormDialogProps) {
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit();
  };
  return (
    <Dialog open onOpenChange={(o) => !o && onClose()} title={title} description={description}>
      <form onSubmit={submit} noValidate>
        {children}
        <FormFoot error={error !== undefined ? errorText(error) : undefined} onCancel={onClose} busy={busy} danger={danger} submit={submitLabel} />
      </form>
    </Dialog>
  );
}

/** fieldError is e's message when the API named a field, for showing
 * beside the one input; undefined otherwise. */
function fieldError(e: unknown): string | undefined {
  return e instanceof ApiError && e.field ? e.message : undefined;
}

interface NameDialogProps {
  onClose: () => void;
  title: string;
  label: string;
  initial?: string;
  submitLabel: string;
  /** Names already in the folder; a clash is refused before asking the API. */
  taken?: (name: string) => boolean;
  onSubmit: (name: string) => Promise<unknown>;
}

/** NameDialog asks for one file name: new folder, new file, rename. */
export function NameDialog({ onClose, title, label, initial = "", submitLabel, taken, onSubmit }: NameDialogProps) {
  const [name, setName] = useState(initial);
  const [invalid, setInvalid] = useState<string>();
  const { busy, error, run } = useRun();
  const submit = async () => {
    const n = name.trim();
    const bad = validName(n) ?? (n !== initial && taken?.(n) ? `“${n}” already exists here.` : undefined);
    setInvalid(bad);
    if (bad) return;
    if (await run(() => onSubmit(n))) onClose();
  };
  return (
    <FormDialog onClose={onClose} title={title} submitLabel={submitLabel} busy={busy} error={fieldError(error) ? undefined : error} onSubmit={submit}>
      <Field label={label} error={invalid ?? fieldError(error)}>
        <Input
          value={name}
          onChange={(e) => setName(e.target.value)}
          autoFocus
          autoComplete="off"
          spellCheck={false}
          onFocus={(e) => {
            // Select the name without its extension, as file managers do.
            const dot = e.target.value.lastIndexOf(".");
            e.target.setSelectionRange(0, dot > 0 ? dot : e.target.value.length);
          }}
        />
      </Field>
    </FormDialog>
  );
}

/** names lists entries for a description: all of a few, or the first
 * ones and how many more. */
export function names(entries: { name: string }[], max = 5): string {
  const shown = entries.slice(0, max).map((e) => e.name);
  const rest = entries.length - shown.length;
  return shown.join(", ") + (rest > 0 ? ` and ${rest} more` : "");
}

interface DestinationDialogProps {
  onClose: () => void;
  mode: "move" | "copy";
  entries: FileInfo[];
  /** The folder the entries are in; the default destination. */
  dir: string;
  /** Moves or copies one entry into dest; throws to stop. */
  onEach: (e: FileInfo, dest: string) => Promise<unknown>;
}

/** DestinationDialog moves or copies entries into a folder typed as a
 * path; one by one, stopping at the first failure and saying how far it
 * got. */
export function DestinationDialog({ onClose, mode, entries, dir, onEach }: DestinationDialogProps) {
  const [dest, setDest] = useState(dir);
  const [invalid, setInvalid] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const verb = mode === "move" ? "Move" : "Copy";
  const submit = async () => {
    const to = normalize(dest.trim());
    if (mode === "move" && to === normalize(dir)) {
      setInvalid("The files are already in this folder; choose another one.");
      return;
    }
    setInvalid(undefined);
    setError(undefined);
    setBusy(true);
    let done = 0;
    try {
      for (const e of entries) {
        await onEach(e, to);
        done++;
      }
      onClose();
    } catch (e) {
      const failed = entries[done];
      const prefix = done > 0 ? `${mode === "move" ? "Moved" : "Copied"} ${done} of ${entries.length}; ` : "";
      setError(`${prefix}${failed.name}: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <FormDialog
      onClose={onClose}
      title={`${verb} ${entries.length === 1 ? entries[0].name : `${entries.length} items`}`}
      description={entries.length > 1 ? names(entries) : undefined}
      submitLabel={verb}
      busy={busy}
      error={error}
      onSubmit={submit}
    >
      <Field
        label="Destination folder"
        error={invalid}
        hint={`A path from the server's top folder, e.g. /plugins; missing folders are created.${mode === "copy" ? " A copy into the same folder gets a free name." : ""}`}
      >
        <Input value={dest} onChange={(e) => setDest(e.target.value)} autoFocus autoComplete="off" spellCheck={false} />
      </Field>
    </FormDialog>
  );
}

interface ChmodDialogProps {
  onClose: () => void;
  entries: FileInfo[];
  onEach: (e: FileInfo, mode: string) => Promise<unknown>;
}

/** ChmodDialog sets permission bits: an octal field and nine boxes that
 * follow each other. */
export function ChmodDialog({ onClose, entries, onEach }: ChmodDialogProps) {
  const initial = parseOctal(entries[0]?.mode ?? "") ?? 0o644;
  const [mode, setMode] = useState(initial);
  const [text, setText] = useState(formatOctal(initial));
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const valid = parseOctal(text) !== null;
  const typed = (v: string) => {
    setText(v);
    const m = parseOctal(v);
    if (m !== null) setMode(m);
  };
  const bits = toBits(mode);
  const flip = (i: number, on: boolean) => {
    const next = [...bits];
    next[i] = on;
    const m = fromBits(next, mode);
    setMode(m);
    setText(formatOctal(m));
  };
  const submit = async () => {
    if (!valid) return;
    setBusy(true);
    setError(undefined);
    let done = 0;
    try {
      for (const e of entries) {
        await onEach(e, formatOctal(mode));
        done++;
      }
      onClose();
    } catch (e) {
      setError(`${done > 0 ? `Changed ${done} of ${entries.length}; ` : ""}${entries[done].name}: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  };
  const isDir = entries.length === 1 && entries[0].is_dir;
  return (
    <FormDialog
      onClose={onClose}
      title={`Permissions of ${entries.length === 1 ? entries[0].name : `${entries.length} items`}`}
      submitLabel="Apply"
      busy={busy}
      error={error}
      onSubmit={submit}
    >
      <Field label="Mode (octal)" error={valid ? undefined : "Enter 3 or 4 octal digits (0–7), e.g. 644."} hint={<code>{symbolic(mode, isDir)}</code>}>
        <Input value={text} onChange={(e) => typed(e.target.value)} inputMode="numeric" autoComplete="off" maxLength={4} className="files-octal" />
      </Field>
      <table className="files-perm-grid">
        <caption className="sr-only">Permission boxes</caption>
        <thead>
          <tr>
            <td />
            {WHAT.map((w) => (
              <th key={w} scope="col">
                {w[0].toUpperCase() + w.slice(1)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {WHO.map((who, r) => (
            <tr key={who}>
              <th scope="row">{who[0].toUpperCase() + who.slice(1)}</th>
              {WHAT.map((what, c) => (
                <td key={what}>
                  <Checkbox checked={bits[r * 3 + c]} onCheckedChange={(on) => flip(r * 3 + c, on)} label={<span className="sr-only">{`${who} ${what}`}</span>} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </FormDialog>
  );
}

interface ArchiveDialogProps {
  onClose: () => void;
  entries: FileInfo[];
  onSubmit: (name: string, format: ArchiveFormat) => Promise<unknown>;
}

/** ArchiveDialog packs entries into one tar.gz or zip beside them. */
export function ArchiveDialog({ onClose, entries, onSubmit }: ArchiveDialogProps) {
  const [name, setName] = useState("");
  const [format, setFormat] = useState<ArchiveFormat>("tar.gz");
  const [invalid, setInvalid] = useState<string>();
  const { busy, error, run } = useRun();
  const submit = async () => {
    const n = name.trim();
    const bad = n === "" ? undefined : validName(n);
    setInvalid(bad);
    if (bad) return;
    if (await run(() => onSubmit(n, format))) onClose();
  };
  return (
    <FormDialog
      onClose={onClose}
      title={`Archive ${entries.length === 1 ? entries[0].name : `${entries.length} items`}`}
      description={entries.length > 1 ? names(entries) : undefined}
      submitLabel="Create archive"
      busy={busy}
      error={error}
      onSubmit={submit}
    >
      <Field label="Archive name" error={invalid} hint={`Optional; .${format} is added when missing. Empty picks archive-<date>.${format}.`}>
        <Input value={name} onChange={(e) => setName(e.target.value)} autoFocus autoComplete="off" spellCheck={false} />
      </Field>
      <Field label="Format">
        <Select value={format} onChange={(e) => setFormat(e.target.value as ArchiveFormat)}>
          <option value="tar.gz">tar.gz</option>
          <option value="zip">zip</option>
        </Select>
      </Field>
    </FormDialog>
  );
}

interface UnarchiveDialogProps {
  onClose: () => void;
  entry: FileInfo | undefined;
  dir: string;
  onSubmit: (destination: string) => Promise<unknown>;
}

/** UnarchiveDialog extracts an archive into a folder. */
export function UnarchiveDialog({ onClose, entry, dir, onSubmit }: UnarchiveDialogProps) {
  const [dest, setDest] = useState(dir);
  const { busy, error, run } = useRun();
  const submit = async () => {
    if (await run(() => onSubmit(normalize(dest.trim())))) onClose();
  };
  return (
    <FormDialog
      onClose={onClose}
      title={`Unarchive ${entry?.name ?? ""}`}
      description="Files in the archive replace files of the same name in the destination."
      submitLabel="Unarchive"
      busy={busy}
      error={error}
      onSubmit={submit}
    >
      <Field label="Destination folder" hint="Created when missing.">
        <Input value={dest} onChange={(e) => setDest(e.target.value)} autoFocus autoComplete="off" spellCheck={false} />
      </Field>
    </FormDialog>
  );
}

interface PullDialogProps {
  onClose: () => void;
  dir: string;
  onSubmit: (url: string, filename: string) => Promise<unknown>;
}

/** validUrl says what is wrong with a URL to pull, or undefined. */
export function validUrl(s: string): string | undefined {
  let u: URL;
  try {
    u = new URL(s.trim());
  } catch {
    return "Enter a full address, e.g. https://example.com/plugin.jar.";
  }
  return u.protocol === "http:" || u.protocol === "https:" ? undefined : "Only http and https addresses can be pulled.";
}

/** PullDialog has the node download a URL into the folder. */
export function PullDialog({ onClose, dir, onSubmit }: PullDialogProps) {
  const [url, setUrl] = useState("");
  const [filename, setFilename] = useState("");
  const [invalid, setInvalid] = useState<{ url?: string; filename?: string }>({});
  const { busy, error, run } = useRun();
  const submit = async () => {
    const bad = { url: validUrl(url), filename: filename.trim() ? validName(filename.trim()) : undefined };
    setInvalid(bad);
    if (bad.url || bad.filename) return;
    if (await run(() => onSubmit(url.trim(), filename.trim()))) onClose();
  };
  const fe = error instanceof ApiError ? error.field : undefined;
  return (
    <FormDialog
      onClose={onClose}
      title="Pull from URL"
      description={`The node downloads the file into ${dir}.`}
      submitLabel="Pull"
      busy={busy}
      error={fe === "url" || fe === "filename" ? undefined : error}
      onSubmit={submit}
    >
      <Field label="URL" error={invalid.url ?? (fe === "url" ? errorText(error) : undefined)}>
        <Input value={url} onChange={(e) => setUrl(e.target.value)} type="url" autoFocus autoComplete="off" spellCheck={false} placeholder="https://" />
      </Field>
      <Field label="File name" hint="Optional; taken from the answer or the URL when empty." error={invalid.filename ?? (fe === "filename" ? errorText(error) : undefined)}>
        <Input value={filename} onChange={(e) => setFilename(e.target.value)} autoComplete="off" spellCheck={false} />
      </Field>
    </FormDialog>
  );
}
