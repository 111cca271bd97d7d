import type { Api } from "../../../api/client";
import { filenameOf } from "./model";

/** fetchArchive downloads a backup's archive with the caller's credentials
 * (a plain link would carry none), reporting bytes received of the
 * length announced (0 when unknown). */
export async function fetchArchive(
  api: Api,
  serverId: string,
  backupId: string,
  fallbackName: string,
  onProgress?: (received: number, total: number) => void,
  signal?: AbortSignal,
): Promise<{ blob: Blob; filename: string }> {
  const res = await api.raw("GET", `/api/servers/${serverId}/backups/${backupId}/download`, undefined, { signal });
  const total = Number(res.headers.get("Content-Length")) || 0;
  const filename = filenameOf(res.headers.get("Content-Disposition"), fallbackName);
  const type = res.headers.get("Content-Type") ?? "application/octet-stream";
  if (!res.body) {
    const blob = await res.blob();
    onProgress?.(blob.size, total);
    return { blob, filename };
  }
  const reader = res.body.getReader();
  const parts: BlobPart[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    received += value.byteLength;
    onProgress?.(received, total);
  }
  if (total > 0 && received < total) {
    throw new Error(`The download stopped after ${received} of ${total} bytes; try again.`);
  }
  return { blob: new Blob(parts, { type }), filename };
}

/** saveBlob hands a blob to the browser as a download named filename. */
export function saveBlob(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.rel = "noopener";
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The click has started the download; the URL may go once it has.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
