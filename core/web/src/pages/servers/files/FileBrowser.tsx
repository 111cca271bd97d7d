// One folder of the volume: toolbar, search, the table, paging, the drop
// zone, and the dialogs of every action on entries.
import { useRef, useState, type DragEvent, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { Archive, Copy, Download, FilePlus, FolderInput, FolderPlus, Globe, Lock, RefreshCw, Search, Trash2, Upload, X } from "lucide-react";
import { ApiError, errorText } from "../../../api/client";
import { Button } from "../../../ui/Button";
import { ConfirmDialog } from "../../../ui/Dialog";
import { Input } from "../../../ui/Field";
import { EmptyState, ErrorBox, Loading } from "../../../ui/feedback";
import { useToast } from "../../../ui/toast";
import { SEARCH_LIMIT, useDirectory, useFileOps, useSearch, type FileInfo, type Order, type SortKey } from "./api";
import { ArchiveDialog, ChmodDialog, DestinationDialog, NameDialog, names, PullDialog, UnarchiveDialog } from "./dialogs";
import { collect, entriesOf } from "./drop";
import { FileTable, type FileAction, type FilePerms } from "./FileTable";
import { canEdit, filesHref, join, parent, relativeTo } from "./paths";
import type { UploadJob } from "./transfers";

type DialogState =
  | { kind: "mkdir" | "newfile" | "pull" }
  | { kind: "rename" | "unarchive"; entry: FileInfo }
  | { kind: "move" | "copy" | "chmod" | "archive" | "delete"; entries: FileInfo[] }
  | { kind: "replace"; jobs: UploadJob[]; clashes: string[] };

interface FileBrowserProps {
  serverId: string;
  /** The page address of the volume's top, "/servers/<id>/files". */
  base: string;
  dir: string;
  perms: FilePerms;
  upload: (jobs: UploadJob[]) => void;
  download: (path: string, name: string) => void;
}

export function FileBrowser({ serverId, base, dir, perms, upload, download }: FileBrowserProps) {
  const navigate = useNavigate();
  const toast = useToast();
  const ops = useFileOps(serverId);
  const [sort, setSort] = useState<SortKey>("name");
  const [order, setOrder] = useState<Order>("asc");
  // Selection and search belong to the folder they were made in; moving
  // to another folder starts both afresh.
  const [selection, setSelection] = useState<{ dir: string; paths: Set<string> }>({ dir, paths: new Set() });
  const [searchText, setSearchText] = useState("");
  const [query, setQuery] = useState<{ dir: string; q: string }>({ dir, q: "" });
  const [dialog, setDialog] = useState<DialogState | null>(null);
  const [dragDepth, setDragDepth] = useState(0);
  const picker = useRef<HTMLInputElement>(null);

  const q = query.dir === dir ? query.q : "";
  const selected = selection.dir === dir ? selection.paths : new Set<string>();
  const setSelected = (paths: Set<string>) => setSelection({ dir, paths });
  const list = useDirectory(serverId, dir, sort, order, q === "");
  const found = useSearch(serverId, dir, q);
  const active = q ? found : list;
  const entries: FileInfo[] = q ? (found.data?.entries ?? []) : (list.data?.pages.flatMap((p) => p.entries ?? []) ?? []);
  const total = q ? entries.length : (list.data?.pages[0]?.total ?? 0);
  const chosen = entries.filter((e) => selected.has(e.path));
  const taken = (name: string) => !q && entries.some((e) => e.name === name);
  const close = () => setDialog(null);

  const sortBy = (key: SortKey) => {
    if (key === sort) setOrder(order === "asc" ? "desc" : "asc");
    else {
      setSort(key);
      setOrder(key === "name" ? "asc" : "desc");
    }
  };

  const openFile = (e: FileInfo) => {
    if (canEdit(e)) navigate(filesHref(base, parent(e.path), { name: e.name }));
    else download(e.path, e.name);
  };

  const act = (action: FileAction, e: FileInfo) => {
    switch (action) {
      case "open":
        if (e.is_dir) navigate(filesHref(base, e.path));
        else openFile(e);
        return;
      case "download":
        download(e.path, e.name);
        return;
      case "rename":
      case "unarchive":
        setDialog({ kind: action, entry: e });
        return;
      default:
        setDialog({ kind: action, entries: [e] });
    }
  };

  /** startUpload asks before replacing files of the folder, then queues. */
  const startUpload = (jobs: UploadJob[]) => {
    if (jobs.length === 0) return;
    const clashes = jobs.filter((j) => j.dir === dir && taken(j.file.name)).map((j) => j.file.name);
    if (clashes.length > 0) setDialog({ kind: "replace", jobs, clashes });
    else upload(jobs);
  };

  const picked = (files: FileList | null) => {
    startUpload(Array.from(files ?? []).map((file) => ({ file, dir, label: file.name })));
    if (picker.current) picker.current.value = "";
  };

  // Drag and drop: only drags carrying files light the zone up.
  const carriesFiles = (e: DragEvent) => perms.write && Array.from(e.dataTransfer.types).includes("Files");
  const onDragEnter = (e: DragEvent) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    setDragDepth((d) => d + 1);
  };
  const onDragOver = (e: DragEvent) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  };
  const onDragLeave = (e: DragEvent) => {
    if (!carriesFiles(e)) return;
    setDragDepth((d) => Math.max(0, d - 1));
  };
  const onDrop = async (e: DragEvent) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    setDragDepth(0);
    // The drop's entries must be taken before the first await.
    const dropped = await collect(entriesOf(e.dataTransfer));
    if (dropped.foldersUnreadable) toast("Some dropped folders could not be read by the browser; upload their files instead.", "error");
    for (const d of dropped.emptyDirs) {
      await ops.mkdir(join(dir, d)).catch((err) => {
        // A folder that is already there is what the drop wanted.
        if (!(err instanceof ApiError && err.status === 409)) toast(`Could not create the folder ${d}: ${errorText(err)}`, "error");
      });
    }
    startUpload(dropped.files.map(({ file, dir: sub }) => ({ file, dir: join(dir, sub), label: sub ? `${sub}/${file.name}` : file.name })));
  };

  const submitSearch = (e: FormEvent) => {
    e.preventDefault();
    setQuery({ dir, q: searchText.trim() });
  };
  const clearSearch = () => {
    setSearchText("");
    setQuery({ dir, q: "" });
  };

  const many = (n: number) => (n === 1 ? "1 item" : `${n} items`);

  return (
    <div className="files-browser">
      <div className="files-toolbar">
        <form className="files-search" role="search" onSubmit={submitSearch}>
          <Input
            type="search"
            value={searchText}
            onChange={(e) => {
              setSearchText(e.target.value);
              if (e.target.value === "" && q) clearSearch();
            }}
            placeholder="Search this folder"
            aria-label="Search files"
          />
          <Button type="submit" size="sm" aria-label="Search">
            <Search size={14} aria-hidden />
          </Button>
        </form>
        <div className="row">
          <Button size="sm" variant="ghost" onClick={() => void active.refetch()} aria-label="Refresh" title="Refresh">
            <RefreshCw size={14} aria-hidden className={active.isFetching ? "spin" : undefined} />
          </Button>
          {perms.write && (
            <>
              <Button size="sm" onClick={() => setDialog({ kind: "mkdir" })}>
                <FolderPlus size={14} aria-hidden /> New folder
              </Button>
              <Button size="sm" onClick={() => setDialog({ kind: "newfile" })}>
                <FilePlus size={14} aria-hidden /> New file
              </Button>
              <Button size="sm" onClick={() => setDialog({ kind: "pull" })}>
                <Globe size={14} aria-hidden /> Pull from URL
              </Button>
              <Button size="sm" variant="primary" onClick={() => picker.current?.click()}>
                <Upload size={14} aria-hidden /> Upload
              </Button>
              <input ref={picker} type="file" multiple aria-label="Upload files" className="sr-only" tabIndex={-1} onChange={(e) => picked(e.target.files)} />
            </>
          )}
        </div>
      </div>

      {chosen.length > 0 && (
        <div className="files-selection" role="region" aria-label="Selection">
          <span>
            <strong>{chosen.length}</strong> selected
          </span>
          <div className="row">
            {chosen.length === 1 && !chosen[0].is_dir && perms.readContent && (
              <Button size="sm" onClick={() => download(chosen[0].path, chosen[0].name)}>
                <Download size={14} aria-hidden /> Download
              </Button>
            )}
            {perms.write && (
              <>
                <Button size="sm" onClick={() => setDialog({ kind: "move", entries: chosen })}>
                  <FolderInput size={14} aria-hidden /> Move
                </Button>
                <Button size="sm" onClick={() => setDialog({ kind: "copy", entries: chosen })}>
                  <Copy size={14} aria-hidden /> Copy
                </Button>
                <Button size="sm" onClick={() => setDialog({ kind: "chmod", entries: chosen })}>
                  <Lock size={14} aria-hidden /> Permissions
                </Button>
              </>
            )}
            {perms.archive && (
              <Button size="sm" onClick={() => setDialog({ kind: "archive", entries: chosen })}>
                <Archive size={14} aria-hidden /> Archive
              </Button>
            )}
            {perms.del && (
              <Button size="sm" variant="danger" onClick={() => setDialog({ kind: "delete", entries: chosen })}>
                <Trash2 size={14} aria-hidden /> Delete
              </Button>
            )}
            <Button size="sm" variant="ghost" onClick={() => setSelected(new Set())}>
              <X size={14} aria-hidden /> Clear selection
            </Button>
          </div>
        </div>
      )}

      {q && (
        <div className="files-search-head">
          <span>
            {found.isSuccess && (
              <>
                {entries.length >= SEARCH_LIMIT ? `The first ${SEARCH_LIMIT} matches` : `${entries.length} ${entries.length === 1 ? "match" : "matches"}`} for “{q}” in {dir}
              </>
            )}
          </span>
          <Button size="sm" variant="ghost" onClick={clearSearch}>
            <X size={14} aria-hidden /> Clear search
          </Button>
        </div>
      )}

      <div
        className={`files-drop ${dragDepth > 0 ? "files-drop-active" : ""}`}
        onDragEnter={onDragEnter}
        onDragOver={onDragOver}
        onDragLeave={onDragLeave}
        onDrop={(e) => void onDrop(e)}
      >
        {dragDepth > 0 && (
          <div className="files-drop-hint" aria-hidden>
            <Upload size={22} /> Drop to upload into {dir}
          </div>
        )}
        {active.isPending ? (
          <Loading label={q ? "Searching…" : "Loading files…"} />
        ) : active.isError && !(!q && list.isFetchNextPageError) ? (
          <ErrorBox error={active.error} title={q ? "The search failed" : "Could not list this folder"} retry={() => void active.refetch()} />
        ) : entries.length === 0 ? (
          q ? (
            <EmptyState title="Nothing found">No names under {dir} contain “{q}”.</EmptyState>
          ) : (
            <EmptyState title="This folder is empty">{perms.write ? "Drop files here or use Upload to add some." : undefined}</EmptyState>
          )
        ) : (
          <>
            <FileTable
              entries={entries}
              base={base}
              dir={dir}
              searching={!!q}
              selected={selected}
              onSelectedChange={setSelected}
              sort={sort}
              order={order}
              onSort={sortBy}
              perms={perms}
              onOpenFile={openFile}
              onAction={act}
            />
            {!q && (
              <div className="files-foot muted small">
                <span>
                  {entries.length < total ? `Showing ${entries.length} of ${total}` : many(total)}
                </span>
                {list.isFetchNextPageError && (
                  <span className="field-error" role="alert">
                    The next page did not load: {errorText(list.error)}
                  </span>
                )}
                {list.hasNextPage && (
                  <Button size="sm" busy={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
                    Load more
                  </Button>
                )}
              </div>
            )}
          </>
        )}
      </div>

      {dialog?.kind === "mkdir" && (
        <NameDialog
          onClose={close}
          title="New folder"
          label="Folder name"
          submitLabel="Create folder"
          taken={taken}
          onSubmit={async (name) => {
            await ops.mkdir(join(dir, name));
            toast(`Created the folder ${name}`, "success");
          }}
        />
      )}
      {dialog?.kind === "newfile" && (
        <NameDialog
          onClose={close}
          title="New file"
          label="File name"
          submitLabel="Open in editor"
          taken={taken}
          onSubmit={async (name) => navigate(filesHref(base, dir, { name, isNew: true }))}
        />
      )}
      {dialog?.kind === "pull" && (
        <PullDialog
          onClose={close}
          dir={dir}
          onSubmit={async (url, filename) => {
            const fi = await ops.pull(url, dir, filename);
            toast(`Downloaded ${fi.name} (${fi.path})`, "success");
          }}
        />
      )}
      {dialog?.kind === "rename" && (
        <NameDialog
          onClose={close}
          title={`Rename ${dialog.entry.name}`}
          label="New name"
          initial={dialog.entry.name}
          submitLabel="Rename"
          taken={taken}
          onSubmit={async (name) => {
            if (name === dialog.entry.name) return;
            await ops.rename(dialog.entry.path, join(parent(dialog.entry.path), name));
            toast(`Renamed ${dialog.entry.name} to ${name}`, "success");
          }}
        />
      )}
      {(dialog?.kind === "move" || dialog?.kind === "copy") && (
        <DestinationDialog
          onClose={() => {
            close();
            setSelected(new Set());
          }}
          mode={dialog.kind}
          entries={dialog.entries}
          dir={dir}
          onEach={async (e, dest) => {
            if (dialog.kind === "move") await ops.rename(e.path, join(dest, e.name));
            else await ops.copy(e.path, dest === parent(e.path) ? undefined : join(dest, e.name));
          }}
        />
      )}
      {dialog?.kind === "chmod" && <ChmodDialog onClose={close} entries={dialog.entries} onEach={(e, mode) => ops.chmod(e.path, mode)} />}
      {dialog?.kind === "archive" && (
        <ArchiveDialog
          onClose={close}
          entries={dialog.entries}
          onSubmit={async (name, format) => {
            const fi = await ops.compress(
              dir,
              dialog.entries.map((e) => relativeTo(dir, e.path)),
              format,
              name,
            );
            setSelected(new Set());
            toast(`Created ${fi.name}`, "success");
          }}
        />
      )}
      {dialog?.kind === "unarchive" && (
        <UnarchiveDialog
          onClose={close}
          entry={dialog.entry}
          dir={parent(dialog.entry.path)}
          onSubmit={async (dest) => {
            await ops.decompress(dialog.entry.path, dest);
            toast(`Extracted ${dialog.entry.name} into ${dest}`, "success");
          }}
        />
      )}
      {dialog?.kind === "delete" && (
        <ConfirmDialog
          open
          onOpenChange={(o) => !o && close()}
          title={`Delete ${dialog.entries.length === 1 ? dialog.entries[0].name : many(dialog.entries.length)}?`}
          description={
            <>
              <p>Deleted files cannot be brought back{dialog.entries.some((e) => e.is_dir) ? "; folders go with everything in them" : ""}.</p>
              <ul className="files-delete-list">
                {dialog.entries.slice(0, 20).map((e) => (
                  <li key={e.path}>
                    <code>{q ? relativeTo(dir, e.path) : e.name}</code>
                    {e.is_dir ? " (folder)" : ""}
                  </li>
                ))}
                {dialog.entries.length > 20 && <li>and {dialog.entries.length - 20} more</li>}
              </ul>
            </>
          }
          confirmLabel="Delete"
          danger
          onConfirm={async () => {
            await ops.remove(dialog.entries.map((e) => e.path));
            setSelected(new Set());
            toast(`Deleted ${dialog.entries.length === 1 ? dialog.entries[0].name : many(dialog.entries.length)}`, "success");
          }}
        />
      )}
      {dialog?.kind === "replace" && (
        <ConfirmDialog
          open
          onOpenChange={(o) => !o && close()}
          title="Replace existing files?"
          description={`${names(dialog.clashes.map((name) => ({ name })))} already ${dialog.clashes.length === 1 ? "exists" : "exist"} in ${dir}. Uploading replaces ${dialog.clashes.length === 1 ? "it" : "them"}.`}
          confirmLabel="Replace"
          danger
          onConfirm={() => upload(dialog.jobs)}
        />
      )}
    </div>
  );
}
