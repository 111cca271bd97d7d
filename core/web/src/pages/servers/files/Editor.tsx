// The file editor: CodeMirror on one file of the volume. FilesTab imports
// it lazily, so CodeMirror loads when a file is first opened. The file's
// bytes come from GET …/files/content and go back whole with PUT; before
// saving over a file it checks the file was not changed meanwhile.
import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { Download, Save, X } from "lucide-react";
import { ApiError } from "../../../api/client";
import { useApi } from "../../../api/context";
import { Button } from "../../../ui/Button";
import { ConfirmDialog } from "../../../ui/Dialog";
import { EmptyState, ErrorBox, Loading } from "../../../ui/feedback";
import { bytes } from "../../../ui/format";
import { useTheme } from "../../../ui/theme";
import { useToast } from "../../../ui/toast";
import { filesPath, useFileOps, type FileInfo } from "./api";
import { basicSetup, editorTheme } from "./editorSetup";
import { languageFor, loadLanguage } from "./languages";
import { LeaveGuard } from "./leaveGuard";
import { MAX_EDIT_BYTES } from "./paths";
import { decodeText } from "./text";

export interface EditorProps {
  serverId: string;
  /** The file's volume path. */
  path: string;
  name: string;
  /** A file being created: missing is fine, saving creates it. */
  isNew: boolean;
  canWrite: boolean;
  onClose: () => void;
  /** A new file was saved for the first time. */
  onCreated: () => void;
  onDownload: () => void;
}

type Loaded =
  | { kind: "text"; text: string; eol: "\n" | "\r\n"; info: FileInfo | null }
  | { kind: "binary" | "not-utf8" | "too-large"; info: FileInfo }
  | { kind: "directory" };

export default function Editor({ serverId, path, name, isNew, canWrite, onClose, onCreated, onDownload }: EditorProps) {
  const api = useApi();
  const ops = useFileOps(serverId);
  const toast = useToast();
  const { theme } = useTheme();

  const file = useQuery({
    // isNew stays out of the key: the first save of a new file drops it
    // from the address, and the text in the editor must stay.
    queryKey: ["server", serverId, "file-content", path],
    queryFn: async ({ signal }): Promise<Loaded> => {
      let info: FileInfo;
      try {
        info = await ops.stat(path, signal);
      } catch (e) {
        if (isNew && e instanceof ApiError && e.status === 404) return { kind: "text", text: "", eol: "\n", info: null };
        throw e;
      }
      if (info.is_dir) return { kind: "directory" };
      if (info.size > MAX_EDIT_BYTES) return { kind: "too-large", info };
      const res = await api.raw("GET", filesPath(serverId, "/content"), undefined, { query: { path }, signal });
      const decoded = decodeText(new Uint8Array(await res.arrayBuffer()));
      return decoded.kind === "text" ? { ...decoded, info } : { kind: decoded.kind, info };
    },
    // The editor holds the text from here on; a refetch must not replace it.
    staleTime: Infinity,
    gcTime: 0,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
  });

  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const baseline = useRef<FileInfo | null>(null);
  const eol = useRef<"\n" | "\r\n">("\n");
  const themeSlot = useRef(new Compartment());
  const langSlot = useRef(new Compartment());
  const readOnlySlot = useRef(new Compartment());
  const [dirty, setDirty] = useState(false);
  const [saving, setSaving] = useState(false);
  const savingNow = useRef(false);
  const [saveError, setSaveError] = useState<unknown>();
  const [conflict, setConflict] = useState(false);
  const [closing, setClosing] = useState(false);

  // The keymap is built once; it calls the latest save through this.
  const saveRef = useRef<(force?: boolean) => Promise<void>>(async () => undefined);

  const data = file.data;
  useEffect(() => {
    if (!data || data.kind !== "text" || !host.current) return;
    baseline.current = data.info;
    eol.current = data.eol;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: data.text,
        extensions: [
          basicSetup({
            label: `Contents of ${name}`,
            save: () => {
              void saveRef.current();
              return true;
            },
          }),
          themeSlot.current.of(editorTheme(theme === "dark")),
          langSlot.current.of([]),
          readOnlySlot.current.of(EditorState.readOnly.of(!canWrite)),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) setDirty(true);
          }),
        ],
      }),
    });
    view.current = v;
    let live = true;
    loadLanguage(languageFor(name)).then(
      (lang) => live && lang && v.dispatch({ effects: langSlot.current.reconfigure(lang) }),
      () => undefined, // highlighting is a nicety; plain text still edits
    );
    return () => {
      live = false;
      v.destroy();
      view.current = null;
    };
    // The view is made once per loaded file; the theme and canWrite
    // change through their compartments below.
  }, [data]);

  useEffect(() => {
    view.current?.dispatch({ effects: themeSlot.current.reconfigure(editorTheme(theme === "dark")) });
  }, [theme, data]);
  useEffect(() => {
    view.current?.dispatch({ effects: readOnlySlot.current.reconfigure(EditorState.readOnly.of(!canWrite)) });
  }, [canWrite, data]);

  saveRef.current = async (force = false) => {
    const v = view.current;
    if (!v || !canWrite || savingNow.current) return;
    savingNow.current = true;
    setSaving(true);
    setSaveError(undefined);
    try {
      const before = baseline.current;
      if (!force && before) {
        const now = await ops.stat(path).catch((e) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e)));
        if (now && now.modified !== before.modified) {
          setConflict(true);
          return;
        }
      }
      const doc = v.state.doc;
      const info = await ops.write(path, new Blob([doc.sliceString(0, doc.length, eol.current)], { type: "application/octet-stream" }));
      baseline.current = info;
      // Edits typed while the save ran are still unsaved.
      if (v.state.doc === doc) setDirty(false);
      toast(`Saved ${name}`, "success");
      if (isNew) onCreated();
    } catch (e) {
      setSaveError(e);
    } finally {
      savingNow.current = false;
      setSaving(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "s") {
      e.preventDefault();
      void saveRef.current();
    }
  };

  const close = () => (dirty ? setClosing(true) : onClose());
  const language = languageFor(name);

  return (
    <section className="files-editor" aria-label={`Editing ${name}`} onKeyDown={onKeyDown}>
      <div className="files-editor-bar">
        <div className="files-editor-title">
          <strong className="files-editor-name">{name}</strong>
          {language !== "text" && <span className="badge badge-off">{language}</span>}
          {!canWrite && <span className="badge badge-warn">Read-only</span>}
          <span className="muted small" aria-live="polite">
            {dirty ? "Unsaved changes" : ""}
          </span>
        </div>
        <div className="row">
          {!isNew && (
            <Button size="sm" onClick={onDownload}>
              <Download size={14} aria-hidden /> Download
            </Button>
          )}
          <Button size="sm" onClick={close}>
            <X size={14} aria-hidden /> Close
          </Button>
          {canWrite && data?.kind === "text" && (
            <Button size="sm" variant="primary" busy={saving} onClick={() => void saveRef.current()} title="Save (Ctrl+S)">
              {!saving && <Save size={14} aria-hidden />} Save
            </Button>
          )}
        </div>
      </div>
      {saveError !== undefined && <ErrorBox error={saveError} title={`Could not save ${name}`} retry={() => void saveRef.current()} />}
      {file.isPending ? (
        <Loading label={`Opening ${name}…`} />
      ) : file.isError ? (
        <ErrorBox error={file.error} title={`Could not open ${name}`} retry={() => void file.refetch()} />
      ) : data?.kind === "text" ? (
        <div ref={host} className="files-editor-host" />
      ) : (
        <EmptyState title={unopenable(data)}>
          <p>Download it to look at it on your computer.</p>
          <Button onClick={onDownload}>
            <Download size={14} aria-hidden /> Download
          </Button>
        </EmptyState>
      )}
      <ConfirmDialog
        open={conflict}
        onOpenChange={setConflict}
        title="The file changed on the server"
        description={`${name} was changed since you opened it, by the game server or someone else. Saving replaces those changes with yours.`}
        confirmLabel="Overwrite"
        danger
        onConfirm={() => saveRef.current(true)}
      />
      <ConfirmDialog
        open={closing}
        onOpenChange={setClosing}
        title="Discard unsaved changes?"
        description={`Your changes to ${name} have not been saved.`}
        confirmLabel="Discard changes"
        danger
        onConfirm={onClose}
      />
      <LeaveGuard active={dirty} title="Leave with unsaved changes?" description={`Your changes to ${name} have not been saved.`} confirmLabel="Discard changes" />
    </section>
  );
}

function unopenable(d: Loaded | undefined): string {
  switch (d?.kind) {
    case "binary":
      return "This is a binary file; the editor shows text only.";
    case "not-utf8":
      return "This file is not UTF-8 text; editing it here would damage it.";
    case "too-large":
      return `This file is too large to edit here (${bytes(d.info.size)}; the editor opens up to ${bytes(MAX_EDIT_BYTES)}).`;
    case "directory":
      return "This is a folder, not a file.";
    default:
      return "This file cannot be opened.";
  }
}
