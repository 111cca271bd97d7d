// Uploads with progress, and downloads handed to the browser. Each upload
// is its own request (a bar and a cancel button per file), a few at a
// time; a download follows a ticketed link (api/download.ts), so only a
// refused one is listed here.
import { useCallback, useEffect, useRef, useState } from "react";
import { X } from "lucide-react";
import type { Api } from "../../../api/client";
import { download as downloadLink } from "../../../api/download";
import { ProgressBar } from "../../../ui/feedback";
import { bytes } from "../../../ui/format";
import { filesPath, transferErrorText, type FileInfo } from "./api";

export interface Transfer {
  id: number;
  kind: "upload" | "download";
  /** What the user sees: the file name, or its path inside a dropped folder. */
  label: string;
  sent: number;
  /** 0 while unknown. */
  total: number;
  state: "queued" | "running" | "failed";
  error?: string;
}

export interface UploadJob {
  file: File;
  /** The volume directory the file goes into. */
  dir: string;
  label: string;
}

/** How many uploads run at once; the rest wait their turn. */
const PARALLEL_UPLOADS = 2;

/** useTransfers runs uploads and downloads for one server and lists them
 * until they finish; failures stay listed until dismissed. Leaving the
 * page cancels what still runs. */
export function useTransfers(api: Api, serverId: string, onUploaded: (f: FileInfo[]) => void) {
  const [transfers, setTransfers] = useState<Transfer[]>([]);
  const controllers = useRef(new Map<number, AbortController>());
  const queue = useRef<{ id: number; job: UploadJob }[]>([]);
  const running = useRef(0);
  const nextId = useRef(1);
  const uploaded = useRef(onUploaded);
  uploaded.current = onUploaded;

  const update = useCallback((id: number, patch: Partial<Transfer>) => setTransfers((ts) => ts.map((t) => (t.id === id ? { ...t, ...patch } : t))), []);
  const drop = useCallback((id: number) => setTransfers((ts) => ts.filter((t) => t.id !== id)), []);

  useEffect(() => {
    const ctls = controllers.current;
    return () => {
      queue.current = [];
      for (const c of ctls.values()) c.abort();
    };
  }, []);

  const pump = useCallback(() => {
    while (running.current < PARALLEL_UPLOADS && queue.current.length > 0) {
      const { id, job } = queue.current.shift()!;
      const ctl = controllers.current.get(id);
      if (!ctl) continue;
      running.current++;
      update(id, { state: "running" });
      const form = new FormData();
      form.append("files", job.file, job.file.name);
      api
        .upload<FileInfo[]>("POST", filesPath(serverId, "/upload"), form, {
          query: { path: job.dir },
          signal: ctl.signal,
          onProgress: (sent, total) => update(id, { sent, total: total || job.file.size }),
        })
        .then((infos) => {
          drop(id);
          uploaded.current(infos ?? []);
        })
        .catch((e) => {
          if (ctl.signal.aborted) drop(id);
          else update(id, { state: "failed", error: transferErrorText(e) });
        })
        .finally(() => {
          running.current--;
          controllers.current.delete(id);
          pump();
        });
    }
  }, [api, serverId, update, drop]);

  const upload = useCallback(
    (jobs: UploadJob[]) => {
      const added: Transfer[] = jobs.map((job) => {
        const id = nextId.current++;
        controllers.current.set(id, new AbortController());
        queue.current.push({ id, job });
        return { id, kind: "upload", label: job.label, sent: 0, total: job.file.size, state: "queued" };
      });
      setTransfers((ts) => [...ts, ...added]);
      pump();
    },
    [pump],
  );

  const download = useCallback(
    async (path: string, name: string) => {
      // The browser's download manager takes the file from a ticketed
      // link, with its own progress, straight to disk; only a refused
      // ticket shows here.
      try {
        await downloadLink(api, serverId, "/files/download", { path });
      } catch (e) {
        const id = nextId.current++;
        setTransfers((ts) => [...ts, { id, kind: "download", label: name, sent: 0, total: 0, state: "failed", error: transferErrorText(e) }]);
      }
    },
    [api, serverId],
  );

  const cancel = useCallback(
    (id: number) => {
      queue.current = queue.current.filter((q) => q.id !== id);
      controllers.current.get(id)?.abort();
      controllers.current.delete(id);
      drop(id);
    },
    [drop],
  );

  const busy = transfers.some((t) => t.state !== "failed");
  return { transfers, busy, upload, download, cancel, dismiss: drop };
}

/** TransferList shows what is moving: a bar per file, cancel while it
 * runs, the reason and dismiss when it failed. */
export function TransferList({ transfers, cancel, dismiss }: { transfers: Transfer[]; cancel: (id: number) => void; dismiss: (id: number) => void }) {
  if (transfers.length === 0) return null;
  return (
    <ul className="files-transfers" aria-label="Transfers">
      {transfers.map((t) => {
        const verb = t.kind === "upload" ? "Uploading" : "Downloading";
        const pct = t.total > 0 ? (t.sent / t.total) * 100 : null;
        return (
          <li key={t.id} className={`files-transfer ${t.state === "failed" ? "files-transfer-failed" : ""}`}>
            <div className="files-transfer-head">
              <span className="files-transfer-name" title={t.label}>
                {t.label}
              </span>
              <span className="muted small">
                {t.state === "failed"
                  ? `${t.kind === "upload" ? "Upload" : "Download"} failed`
                  : t.state === "queued"
                    ? "Waiting…"
                    : t.total > 0
                      ? `${bytes(t.sent)} of ${bytes(t.total)}`
                      : bytes(t.sent)}
              </span>
              {t.state === "failed" ? (
                <button className="icon-button" aria-label={`Dismiss ${t.label}`} onClick={() => dismiss(t.id)}>
                  <X size={14} />
                </button>
              ) : (
                <button className="icon-button" aria-label={`Cancel ${t.kind} of ${t.label}`} onClick={() => cancel(t.id)}>
                  <X size={14} />
                </button>
              )}
            </div>
            {t.state === "failed" ? (
              <p className="field-error" role="alert">
                {t.error}
              </p>
            ) : (
              <ProgressBar value={t.state === "queued" ? 0 : pct} label={`${verb} ${t.label}`} />
            )}
          </li>
        );
      })}
    </ul>
  );
}
