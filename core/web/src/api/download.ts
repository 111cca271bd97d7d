import type { Api } from "./client";

/** download hands a server's file or backup to the browser's own download
 * manager (progress, pause, no copy in page memory): it asks for a
 * one-use ticket, then follows the link with ?ticket= in place of the
 * Authorization header. path is the download route under the server,
 * e.g. "/files/download" or "/backups/<id>/download". */
export async function download(api: Api, serverId: string, path: string, query: Record<string, string> = {}): Promise<void> {
  const base = `/api/servers/${encodeURIComponent(serverId)}`;
  const { ticket } = await api.post<{ ticket: string }>(`${base}/ws/ticket`);
  const a = document.createElement("a");
  a.href = api.url(base + path, { ...query, ticket });
  a.download = "";
  a.rel = "noopener";
  document.body.appendChild(a);
  a.click();
  a.remove();
}
