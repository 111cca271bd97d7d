import { useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Archive, Download, Lock, LockOpen, Plus, RotateCcw, Trash2 } from "lucide-react";
import { errorText } from "../../api/client";
import { useApi } from "../../api/context";
import { can, type Server } from "../../api/types";
import type { BackupProgress } from "../../live/types";
import { Button } from "../../ui/Button";
import { Checkbox } from "../../ui/Checkbox";
import { ConfirmDialog, Dialog, FormFoot } from "../../ui/Dialog";
import { DataTable } from "../../ui/DataTable";
import { QueryState } from "../../ui/QueryState";
import { EmptyState, ProgressBar } from "../../ui/feedback";
import { Field, Input } from "../../ui/Field";
import { ago, bytes, dateTime } from "../../ui/format";
import { fieldError, formError } from "../../ui/formErrors";
import { ToneBadge } from "../../ui/status";
import { useToast } from "../../ui/toast";
import { useLive, useServer } from "./context";
import { download as downloadLink } from "../../api/download";
import { limitInfo, progressPercent, progressText, statusTone, statusWord, withBackup, type Backup } from "./backups/model";

/** An operation under way on one backup: making it, or restoring it. */
type Op = Pick<BackupProgress, "op" | "bytes" | "total" | "files">;

// How often to ask for the list while a backup is being made.
const CREATING_POLL_MS = 5000;

// The states a restore may start from: nothing runs.
const RESTORABLE = new Set(["stopped", "crashed", "install_failed"]);

export default function BackupsTab() {
  const { server } = useServer();
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const key = ["server", server.id, "backups"];
  const list = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => api.get<Backup[]>(`/api/servers/${server.id}/backups`, { signal }),
    // The socket tells when a backup ends; asking now and then as well
    // covers a socket that is down meanwhile.
    refetchInterval: (q) => (q.state.data?.some((b) => b.status === "creating") ? CREATING_POLL_MS : false),
  });
  // Backups made elsewhere (a schedule, another browser) appear when their
  // progress does: the list is loaded again once for each.
  const asked = useRef(new Set<string>());
  const [ops, setOps] = useState<Record<string, Op>>({});
  const [creating, setCreating] = useState(false);

  const setOp = (id: string, op: Op | null) =>
    setOps((cur) => {
      const next = { ...cur };
      if (op) next[id] = op;
      else delete next[id];
      return next;
    });

  useLive(["backup_progress", "backup_completed", "backup_failed", "restore_completed", "restore_failed"], (m) => {
    switch (m.type) {
      case "backup_progress":
        if (m.backup_id && (m.op === "backup" || m.op === "restore")) {
          setOp(m.backup_id, m);
          const known = qc.getQueryData<Backup[]>(key)?.some((b) => b.id === m.backup_id);
          if (!known && !asked.current.has(m.backup_id)) {
            asked.current.add(m.backup_id);
            qc.invalidateQueries({ queryKey: key, exact: true });
          }
        }
        return;
      case "backup_completed":
      case "backup_failed": {
        const b = m.backup as unknown as Backup;
        setOp(b.id, null);
        qc.setQueryData<Backup[]>(key, (l) => withBackup(l, b));
        if (m.type === "backup_failed") toast(`Backup "${b.name}" failed: ${m.error || b.error || "no reason given"}`, "error");
        else toast(`Backup "${b.name}" completed`, "success");
        return;
      }
      case "restore_completed":
      case "restore_failed": {
        const b = m.backup as unknown as Backup;
        setOp(b.id, null);
        qc.invalidateQueries({ queryKey: ["server", server.id], exact: true });
        if (m.type === "restore_failed") toast(`Restoring "${b.name}" failed: ${m.error || "no reason given"}`, "error");
        else toast(`"${b.name}" is restored`, "success");
        return;
      }
    }
  });

  const backups = list.data ?? [];
  const limit = limitInfo(backups, server.backup_limit);
  const mayCreate = can(server, "backup.create");
  const createBlocked = limit.disabled ? limit.text : limit.blocked ? "Every backup is locked: unlock or delete one to make room." : undefined;

  return (
    <section className="stack" aria-labelledby="backups-title">
      <div className="section-head">
        <div>
          <h2 id="backups-title">Backups</h2>
          <p className="muted small">
            {limit.text}
            {limit.full && !limit.blocked && !limit.disabled && " — a new backup deletes the oldest unlocked one."}
          </p>
        </div>
        {mayCreate && (
          <Button variant="primary" onClick={() => setCreating(true)} disabled={!!createBlocked} title={createBlocked}>
            <Plus size={16} aria-hidden /> Create backup
          </Button>
        )}
      </div>
      {createBlocked && mayCreate && <p className="muted small">{createBlocked}</p>}

      <QueryState
        query={list}
        loading="Loading backups…"
        failed="The backups could not be loaded"
        empty={
          <EmptyState title="No backups yet" icon={<Archive size={28} aria-hidden />}>
            {mayCreate ? "A backup is a copy of the server's files you can restore or download later." : "There are no backups of this server."}
          </EmptyState>
        }
      >
        {() => (
          <DataTable columns={["Name", "Status", { label: "Size", className: "num" }, "Created"]} actions stacked className="backups-table">
            {backups.map((b) => (
              <BackupRow key={b.id} server={server} backup={b} op={ops[b.id]} onRestoreStarted={(op) => setOp(b.id, op)} />
            ))}
          </DataTable>
        )}
      </QueryState>
      <CreateBackupDialog open={creating} onOpenChange={setCreating} server={server} />
    </section>
  );
}

function CreateBackupDialog({ open, onOpenChange, server }: { open: boolean; onOpenChange: (o: boolean) => void; server: Server }) {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState("");
  const [locked, setLocked] = useState(false);
  const create = useMutation({
    mutationFn: () => api.post<Backup>(`/api/servers/${server.id}/backups`, { name: name.trim(), locked }),
    onSuccess: (b) => {
      qc.setQueryData<Backup[]>(["server", server.id, "backups"], (l) => withBackup(l, b));
      toast(`Backup "${b.name}" started`, "info");
      close(false);
    },
  });
  const close = (o: boolean) => {
    if (!o) {
      setName("");
      setLocked(false);
      create.reset();
    }
    onOpenChange(o);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const err = create.error;
  const nameError = fieldError(err, "name");
  return (
    <Dialog
      open={open}
      onOpenChange={close}
      title="Create backup"
      description="Copies the server's files into the node's backup store. It runs in the background; you can leave this page."
    >
      <form onSubmit={submit}>
        <Field label="Name" error={nameError} hint="Leave empty to name it by the date and time.">
          <Input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} autoFocus placeholder="Before the 1.21 update" />
        </Field>
        <Checkbox
          checked={locked}
          onCheckedChange={setLocked}
          label="Lock this backup"
          description="A locked backup is never deleted to make room for new ones, nor by hand until it is unlocked."
        />
        <FormFoot error={formError(err, ["name"])} onCancel={() => close(false)} busy={create.isPending} submit="Create" />
      </form>
    </Dialog>
  );
}

interface RowProps {
  server: Server;
  backup: Backup;
  op: Op | undefined;
  onRestoreStarted: (op: Op) => void;
}

function BackupRow({ server, backup: b, op, onRestoreStarted }: RowProps) {
  const api = useApi();
  const qc = useQueryClient();
  const toast = useToast();
  const [confirm, setConfirm] = useState<"restore" | "delete" | null>(null);
  const [wipe, setWipe] = useState(false);
  const [downloading, setDownloading] = useState(false);
  const key = ["server", server.id, "backups"];
  const path = `/api/servers/${server.id}/backups/${b.id}`;

  const lock = useMutation({
    mutationFn: () => api.patch<Backup>(path, { locked: !b.locked }),
    onSuccess: (next) => qc.setQueryData<Backup[]>(key, (l) => withBackup(l, next)),
    onError: (e) => toast(`${b.locked ? "Unlocking" : "Locking"} "${b.name}" failed: ${errorText(e)}`, "error"),
  });

  const restore = async () => {
    await api.post<Backup>(path + "/restore", { wipe });
    onRestoreStarted({ op: "restore", bytes: 0, total: 0, files: 0 });
    qc.invalidateQueries({ queryKey: ["server", server.id], exact: true });
    toast(`Restoring "${b.name}"…`, "info");
  };
  const remove = async () => {
    await api.del(path);
    qc.setQueryData<Backup[]>(key, (l) => l?.filter((x) => x.id !== b.id));
    toast(`Deleted backup "${b.name}"`, "success");
  };
  const startDownload = async () => {
    setDownloading(true);
    try {
      // The browser's download manager takes it from here, with its own
      // progress, straight to disk.
      await downloadLink(api, server.id, `/backups/${encodeURIComponent(b.id)}/download`);
    } catch (e) {
      toast(`Downloading "${b.name}" failed: ${errorText(e)}`, "error");
    } finally {
      setDownloading(false);
    }
  };

  const completed = b.status === "completed";
  const busy = b.status === "creating" || !!op;
  const restoring = op?.op === "restore";
  const status = restoring ? "Restoring" : statusWord(b.status);
  const tone = restoring ? "busy" : statusTone(b.status);
  return (
    <tr data-backup-id={b.id} role="row">
      <td role="cell">
        <div className="backup-name">
          {b.locked && <Lock size={14} aria-label="Locked" />}
          <strong>{b.name}</strong>
        </div>
        {completed && (
          <div className="muted small">
            {b.files.toLocaleString()} {b.files === 1 ? "file" : "files"}, {bytes(b.bytes)} · {b.store}
            {b.sha256 && (
              <>
                {" · "}
                <span className="mono" title={`SHA-256 ${b.sha256}`}>
                  sha256 {b.sha256.slice(0, 12)}…
                </span>
              </>
            )}
          </div>
        )}
      </td>
      <td className="backup-status" role="cell">
        <ToneBadge tone={tone}>{status}</ToneBadge>
        {(b.status === "creating" || op) && (
          <div className="backup-progress">
            <ProgressBar value={op ? progressPercent(op) : null} label={`${restoring ? "Restore" : "Backup"} progress of ${b.name}`} />
            <span className="muted small">{op && (op.bytes > 0 || op.files > 0) ? progressText(op) : "Starting…"}</span>
          </div>
        )}
        {b.status === "failed" && b.error && <div className="field-error small">{b.error}</div>}
      </td>
      <td className="num" role="cell" data-label="Size">
        {completed ? bytes(b.size) : "–"}
      </td>
      <td role="cell" data-label="Created">
        <span title={dateTime(b.created_at)}>{ago(b.created_at)}</span>
      </td>
      <td role="cell">
        <div className="row-actions">
          {can(server, "backup.restore") && (
            <Button size="sm" aria-label="Restore" title="Restore" disabled={!completed || busy} onClick={() => setConfirm("restore")}>
              <RotateCcw size={14} aria-hidden />
              <span className="hide-sm">Restore</span>
            </Button>
          )}
          {can(server, "backup.download") && (
            <Button size="sm" aria-label="Download" title="Download" disabled={!completed} busy={downloading} onClick={startDownload}>
              {!downloading && <Download size={14} aria-hidden />}
              <span className="hide-sm">Download</span>
            </Button>
          )}
          {can(server, "backup.delete") && (
            <>
              <Button size="sm" aria-label={b.locked ? "Unlock" : "Lock"} title={b.locked ? "Unlock" : "Lock"} busy={lock.isPending} onClick={() => lock.mutate()}>
                {b.locked ? <LockOpen size={14} aria-hidden /> : <Lock size={14} aria-hidden />}
                <span className="hide-sm">{b.locked ? "Unlock" : "Lock"}</span>
              </Button>
              <Button
                size="sm"
                variant="danger"
                aria-label="Delete"
                title={b.locked ? "Unlock it to delete it" : "Delete"}
                disabled={b.locked || busy}
                onClick={() => setConfirm("delete")}
              >
                <Trash2 size={14} aria-hidden />
                <span className="hide-sm">Delete</span>
              </Button>
            </>
          )}
        </div>
        <ConfirmDialog
          open={confirm === "restore"}
          onOpenChange={(o) => {
            setConfirm(o ? "restore" : null);
            if (!o) setWipe(false);
          }}
          title={`Restore "${b.name}"?`}
          confirmLabel="Restore"
          danger
          onConfirm={restore}
          description={
            <div className="stack">
              <p>
                The files in this backup replace the server's files of the same name. The server must be stopped, and it cannot be started until the
                restore has finished. The archive's checksum is checked before anything is replaced.
              </p>
              {!RESTORABLE.has(server.state) && (
                <p className="warn-text" role="note">
                  The server is {server.state.replace("_", " ")}: stop it first.
                </p>
              )}
              <Checkbox
                checked={wipe}
                onCheckedChange={setWipe}
                label="Also delete files the backup does not hold"
                description="Without this, files created since the backup stay."
              />
            </div>
          }
        />
        <ConfirmDialog
          open={confirm === "delete"}
          onOpenChange={(o) => setConfirm(o ? "delete" : null)}
          title={`Delete "${b.name}"?`}
          confirmLabel="Delete"
          danger
          onConfirm={remove}
          description="The archive is deleted from its backup store. This cannot be undone."
        />
      </td>
    </tr>
  );
}
