// The file manager's side of /api/servers/:id/files (sdk/wire/files.go):
// answer shapes, the listing and search queries, and the operations,
// each of which refreshes the listings it may have changed.
import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import { ApiError, errorText, type Api } from "../../../api/client";
import { useApi } from "../../../api/context";
import { bytes } from "../../../ui/format";

/** wire.FileInfo */
export interface FileInfo {
  name: string;
  /** Relative to the volume, with a leading slash. */
  path: string;
  size: number;
  /** Octal permission bits, "0644". */
  mode: string;
  /** As ls prints it, "-rw-r--r--". */
  mode_string: string;
  is_dir: boolean;
  is_symlink: boolean;
  modified: string;
  mime_type: string;
}

/** wire.FileList: one page of a listing or a search. */
export interface FileList {
  path: string;
  entries: FileInfo[] | null;
  total: number;
  offset: number;
}

export type SortKey = "name" | "size" | "modified";
export type Order = "asc" | "desc";
export type ArchiveFormat = "tar.gz" | "zip";

/** How many entries one listing page asks for; more load on demand. */
export const PAGE_SIZE = 200;
/** How many hits a search asks for. */
export const SEARCH_LIMIT = 200;

export const filesKey = (serverId: string) => ["server", serverId, "files"] as const;

export const filesPath = (serverId: string, suffix = "") => `/api/servers/${encodeURIComponent(serverId)}/files${suffix}`;

/** useDirectory pages through dir's entries, directories first. */
export function useDirectory(serverId: string, dir: string, sort: SortKey, order: Order, enabled = true) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: [...filesKey(serverId), "list", dir, sort, order],
    queryFn: ({ pageParam, signal }) =>
      api.get<FileList>(filesPath(serverId), { signal, query: { path: dir, offset: pageParam, limit: PAGE_SIZE, sort, order } }),
    initialPageParam: 0,
    getNextPageParam: (last) => {
      const next = last.offset + (last.entries?.length ?? 0);
      return next < last.total && (last.entries?.length ?? 0) > 0 ? next : undefined;
    },
    enabled,
  });
}

/** useSearch finds entries under dir whose name holds q. */
export function useSearch(serverId: string, dir: string, q: string) {
  const api = useApi();
  return useQuery({
    queryKey: [...filesKey(serverId), "search", dir, q],
    queryFn: ({ signal }) => api.get<FileList>(filesPath(serverId, "/search"), { signal, query: { path: dir, query: q, limit: SEARCH_LIMIT } }),
    enabled: q.trim() !== "",
  });
}

/** fileOps are the calls that change a volume; changed runs after each,
 * whether it worked or not (a failed batch may have done part of its
 * work). */
export function fileOps(api: Api, serverId: string, changed: () => void = () => undefined) {
  const post = <T>(suffix: string, body: unknown) => api.post<T>(filesPath(serverId, suffix), body).finally(changed);
  return {
    mkdir: (path: string) => post<FileInfo>("/mkdir", { path }),
    rename: (from: string, to: string) => post<void>("/rename", { from, to }),
    /** copy puts the copy at to, or beside from under a free name when to is empty. */
    copy: (from: string, to?: string) => post<FileInfo>("/copy", { from, to: to || undefined }),
    remove: (paths: string[]) => post<void>("/delete", { paths }),
    chmod: (path: string, mode: string) => post<void>("/chmod", { path, mode }),
    compress: (directory: string, paths: string[], format: ArchiveFormat, name?: string) =>
      post<FileInfo>("/compress", { directory, paths, format, name: name || undefined }),
    decompress: (path: string, destination?: string) => post<void>("/decompress", { path, destination: destination || undefined }),
    pull: (url: string, directory: string, filename?: string) => post<FileInfo>("/pull", { url, directory, filename: filename || undefined }),
    /** write replaces path's bytes whole (or creates the file). */
    write: (path: string, body: Blob) =>
      api.request<FileInfo>("PUT", filesPath(serverId, "/content"), body, { query: { path } }).finally(changed),
    stat: (path: string, signal?: AbortSignal) => api.get<FileInfo>(filesPath(serverId, "/stat"), { query: { path }, signal }),
  };
}

export type FileOps = ReturnType<typeof fileOps>;

/** useFileOps is fileOps refreshing the server's listings and searches
 * after every change. */
export function useFileOps(serverId: string): FileOps {
  const api = useApi();
  const qc = useQueryClient();
  return useMemo(() => fileOps(api, serverId, () => void qc.invalidateQueries({ queryKey: filesKey(serverId) })), [api, qc, serverId]);
}

/** transferErrorText says why an upload or download failed, in words an
 * operator acts on: too large, out of disk, or the API's own message. */
export function transferErrorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 413) {
      // The core's own limit says "request body exceeds N bytes".
      const n = /exceeds (\d+) bytes/.exec(e.message);
      return n ? `Too large: the panel takes at most ${bytes(Number(n[1]))} per upload.` : `Too large: ${e.message}`;
    }
    if (e.status === 507 || e.code === "over_quota") return `Not enough disk space: ${e.message}`;
  }
  return errorText(e);
}
