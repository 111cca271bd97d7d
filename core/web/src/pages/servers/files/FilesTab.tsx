// The Files tab (route servers/:id/files/*). The folder shown is the
// route's splat, so links, reloads and back/forward work; the file open
// in the editor is ?edit=<name> (with &new=1 while it does not exist
// yet), so a reload reopens it. The editor, and CodeMirror with it, loads
// only when a file is first opened.
import { lazy, Suspense } from "react";
import { useNavigate, useParams, useSearchParams } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { useApi } from "../../../api/context";
import { can } from "../../../api/types";
import { EmptyState, Loading } from "../../../ui/feedback";
import { useServer } from "../context";
import { filesKey } from "./api";
import { Breadcrumb } from "./Breadcrumb";
import { FileBrowser } from "./FileBrowser";
import type { FilePerms } from "./FileTable";
import { LeaveGuard } from "./leaveGuard";
import { baseName, dirFromSplat, filesHref, join, parent } from "./paths";
import { TransferList, useTransfers } from "./transfers";

const Editor = lazy(() => import("./Editor"));

export default function FilesTab() {
  const { server } = useServer();
  const params = useParams();
  const [search] = useSearchParams();
  const navigate = useNavigate();
  const api = useApi();
  const qc = useQueryClient();
  const transfers = useTransfers(api, server.id, () => void qc.invalidateQueries({ queryKey: filesKey(server.id) }));

  const base = `/servers/${encodeURIComponent(params.id ?? server.id)}/files`;
  const dir = dirFromSplat(params["*"]);
  const edit = search.get("edit");
  const editPath = edit ? join(dir, edit) : null;
  const perms: FilePerms = {
    readContent: can(server, "file.read-content"),
    write: can(server, "file.write"),
    del: can(server, "file.delete"),
    archive: can(server, "file.archive"),
  };

  if (!can(server, "file.read")) {
    return (
      <EmptyState title="No access to files">
        Seeing this server&apos;s files takes the <code>file.read</code> permission; ask the server&apos;s owner for it.
      </EmptyState>
    );
  }

  return (
    <section className="files" aria-labelledby="files-heading">
      <h2 id="files-heading" className="sr-only">
        Files
      </h2>
      <Breadcrumb base={base} dir={editPath ? parent(editPath) : dir} file={editPath ? baseName(editPath) : undefined} />
      <TransferList transfers={transfers.transfers} cancel={transfers.cancel} dismiss={transfers.dismiss} />
      {editPath ? (
        perms.readContent ? (
          <Suspense fallback={<Loading label="Loading the editor…" />}>
            <Editor
              key={editPath}
              serverId={server.id}
              path={editPath}
              name={baseName(editPath)}
              isNew={search.get("new") === "1"}
              canWrite={perms.write}
              onClose={() => navigate(filesHref(base, parent(editPath)))}
              onCreated={() => navigate(filesHref(base, parent(editPath), { name: baseName(editPath) }), { replace: true })}
              onDownload={() => void transfers.download(editPath, baseName(editPath))}
            />
          </Suspense>
        ) : (
          <EmptyState title="No access to file contents">
            Opening files takes the <code>file.read-content</code> permission.
          </EmptyState>
        )
      ) : (
        <FileBrowser serverId={server.id} base={base} dir={dir} perms={perms} upload={transfers.upload} download={(p, n) => void transfers.download(p, n)} />
      )}
      <LeaveGuard
        active={transfers.busy}
        title="Leave while files transfer?"
        description="Leaving this page cancels the uploads and downloads still running."
        confirmLabel="Leave and cancel them"
        stayWithin={base}
      />
    </section>
  );
}
