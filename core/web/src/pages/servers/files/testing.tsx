// Test helpers of the file manager: an in-memory volume answering the
// file API as the core does (the same routes, query names, envelopes and
// error codes) on the fake panel of src/test, an XMLHttpRequest stand-in
// for uploads, and a render of the Files tab. Only tests import this.
import { configure } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { makeServer } from "../../../test/fixtures";
import { type Call, FakePanel, ok, renderWithPanel } from "../../../test/panel";
import type { FileInfo } from "./api";
import FilesTab from "./FilesTab";
import { symbolic } from "./mode";
import { baseName, join, normalize, parent } from "./paths";

// findBy… and waitFor wait for the fake API and React; on a busy machine
// that can take longer than the default second. A ceiling, not a measure.
configure({ asyncUtilTimeout: 8000 });

interface Node {
  dir: boolean;
  data: Uint8Array;
  mode: number;
  modified: number;
}

/** A call to a file route; route is what follows …/files: "", "/stat",
 * "/content", … */
export interface Request extends Call {
  route: string;
}

const json = (status: number, body: unknown) => new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const fail = (status: number, code: string, message: string) => json(status, { error: { code, message, request_id: "req-test" } });

/** FakeVolume is a server's files in memory behind the file API. */
export class FakeVolume {
  readonly nodes = new Map<string, Node>();
  readonly requests: Request[] = [];
  /** Answers a request instead of the volume when it returns a Response. */
  intercept?: (r: Request) => Response | undefined;
  /** The largest upload accepted (the core answers 413 past it). */
  uploadLimit = Infinity;
  private clock = Date.parse("2025-03-01T12:00:00Z");

  /** files maps paths to contents; null makes a folder. */
  constructor(files: Record<string, string | Uint8Array | null> = {}) {
    this.nodes.set("/", { dir: true, data: new Uint8Array(), mode: 0o755, modified: this.clock });
    for (const [p, v] of Object.entries(files)) {
      if (v === null) this.mkdirs(p);
      else this.write(p, typeof v === "string" ? new TextEncoder().encode(v) : v);
    }
  }

  private tick() {
    this.clock += 60_000;
    return this.clock;
  }

  mkdirs(p: string) {
    const n = normalize(p);
    if (n === "/") return;
    this.mkdirs(parent(n));
    if (!this.nodes.has(n)) this.nodes.set(n, { dir: true, data: new Uint8Array(), mode: 0o755, modified: this.tick() });
  }

  write(p: string, data: Uint8Array) {
    const n = normalize(p);
    this.mkdirs(parent(n));
    const old = this.nodes.get(n);
    this.nodes.set(n, { dir: false, data, mode: old?.mode ?? 0o644, modified: this.tick() });
  }

  /** text is a file's contents as a string. */
  text(p: string): string | undefined {
    const node = this.nodes.get(normalize(p));
    return node && !node.dir ? new TextDecoder().decode(node.data) : undefined;
  }

  has(p: string) {
    return this.nodes.has(normalize(p));
  }

  info(p: string): FileInfo {
    const n = normalize(p);
    const node = this.nodes.get(n)!;
    const name = baseName(n);
    const ext = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1) : "";
    return {
      name,
      path: n,
      size: node.dir ? 4096 : node.data.length,
      mode: node.mode.toString(8).padStart(4, "0"),
      mode_string: symbolic(node.mode, node.dir),
      is_dir: node.dir,
      is_symlink: false,
      modified: new Date(node.modified).toISOString(),
      mime_type: node.dir ? "inode/directory" : ext === "txt" || ext === "properties" || ext === "yml" ? "text/plain" : ext === "json" ? "application/json" : "application/octet-stream",
    };
  }

  private children(dir: string): string[] {
    const d = normalize(dir);
    return [...this.nodes.keys()].filter((k) => k !== "/" && parent(k) === d);
  }

  private under(dir: string): string[] {
    const d = normalize(dir);
    return [...this.nodes.keys()].filter((k) => k !== d && (d === "/" || k.startsWith(d + "/")));
  }

  private missing(p: string) {
    return fail(404, "not_found", `${normalize(p)}: no such file or directory`);
  }

  /** tickets counts the download tickets handed out. */
  tickets = 0;

  /** mount has panel answer the server's file routes and download
   * tickets from this volume. */
  mount(panel: FakePanel): FakePanel {
    // Downloads follow a ticketed link (src/api/download.ts).
    panel.on("POST /api/servers/:id/ws/ticket", () => {
      this.tickets++;
      return ok({ ticket: "tk" + this.tickets, expires_at: "" }, 201);
    });
    return panel.otherwise((call) => this.handle(call));
  }

  private handle(call: Call): Promise<Response> | Response | undefined {
    const m = /^\/api\/servers\/[^/]+\/files(\/[a-z]+)?$/.exec(call.path);
    if (!m) return undefined;
    const req: Request = { ...call, route: m[1] ?? "" };
    this.requests.push(req);
    return this.intercept?.(req) ?? this.serve(req);
  }

  /** calls are the requests made to one route, in order. */
  calls(method: string, route: string): Request[] {
    return this.requests.filter((r) => r.method === method && r.route === route);
  }

  private async serve(r: Request): Promise<Response> {
    const q = r.query;
    const b = r.body as Record<string, unknown>;
    const path = normalize(q.get("path") ?? "/");
    switch (`${r.method} ${r.route}`) {
      case "GET ": {
        const node = this.nodes.get(path);
        if (!node) return this.missing(path);
        if (!node.dir) return fail(400, "invalid", `${path} is not a directory`);
        const sort = q.get("sort") || "name";
        const desc = q.get("order") === "desc";
        const infos = this.children(path).map((p) => this.info(p));
        const key = (i: FileInfo) => (sort === "size" ? i.size : sort === "modified" ? Date.parse(i.modified) : i.name);
        infos.sort((a, c) => {
          if (a.is_dir !== c.is_dir) return a.is_dir ? -1 : 1;
          const [x, y] = [key(a), key(c)];
          const cmp = x < y ? -1 : x > y ? 1 : 0;
          return desc ? -cmp : cmp;
        });
        const offset = Number(q.get("offset") || 0);
        const limit = Number(q.get("limit") || 1000);
        return json(200, { data: { path, entries: infos.slice(offset, offset + limit), total: infos.length, offset } });
      }
      case "GET /search": {
        const needle = (q.get("query") ?? "").toLowerCase();
        const hits = this.under(path)
          .filter((p) => baseName(p).toLowerCase().includes(needle))
          .sort()
          .map((p) => this.info(p));
        return json(200, { data: { path, entries: hits, total: hits.length, offset: 0 } });
      }
      case "GET /stat":
        return this.nodes.has(path) ? json(200, { data: this.info(path) }) : this.missing(path);
      case "GET /content":
      case "GET /download": {
        const node = this.nodes.get(path);
        if (!node) return this.missing(path);
        if (node.dir) return fail(400, "invalid", `${path} is a directory`);
        const h: Record<string, string> = { "Content-Type": "application/octet-stream", "Content-Length": String(node.data.length) };
        if (r.route === "/download") h["Content-Disposition"] = `attachment; filename="${baseName(path)}"`;
        return new Response(node.data.slice(), { status: 200, headers: h });
      }
      case "PUT /content": {
        const blob = r.body as Blob;
        this.write(path, new Uint8Array(await blob.arrayBuffer()));
        return json(200, { data: this.info(path) });
      }
      case "POST /mkdir": {
        const p = normalize(String(b.path));
        if (this.nodes.has(p)) return fail(409, "exists", `${p}: it already exists`);
        this.mkdirs(p);
        return json(200, { data: this.info(p) });
      }
      case "POST /rename": {
        const [from, to] = [normalize(String(b.from)), normalize(String(b.to))];
        if (!this.nodes.has(from)) return this.missing(from);
        if (this.nodes.has(to)) return fail(409, "exists", `${to}: it already exists`);
        this.mkdirs(parent(to));
        for (const p of [from, ...this.under(from)]) {
          const node = this.nodes.get(p)!;
          this.nodes.delete(p);
          this.nodes.set(to + p.slice(from.length), node);
        }
        return json(204, null);
      }
      case "POST /copy": {
        const from = normalize(String(b.from));
        const node = this.nodes.get(from);
        if (!node) return this.missing(from);
        let to = b.to ? normalize(String(b.to)) : "";
        if (!to) {
          const name = baseName(from);
          const dot = name.lastIndexOf(".");
          const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
          to = join(parent(from), `${stem} copy${ext}`);
        }
        if (this.nodes.has(to)) return fail(409, "exists", `${to}: it already exists`);
        this.mkdirs(parent(to));
        this.nodes.set(to, { ...node, modified: this.tick() });
        return json(200, { data: this.info(to) });
      }
      case "POST /delete": {
        for (const p of (b.paths as string[]).map(normalize)) {
          if (!this.nodes.has(p)) return this.missing(p);
          for (const k of [p, ...this.under(p)]) this.nodes.delete(k);
        }
        return json(204, null);
      }
      case "POST /chmod": {
        const p = normalize(String(b.path));
        const node = this.nodes.get(p);
        if (!node) return this.missing(p);
        node.mode = parseInt(String(b.mode), 8);
        return json(204, null);
      }
      case "POST /compress": {
        const format = String(b.format);
        let name = String(b.name ?? "") || "archive-2025-03-01T120000";
        if (!name.endsWith("." + format)) name += "." + format;
        const dst = join(String(b.directory), name);
        if (this.nodes.has(dst)) return fail(409, "exists", `${dst}: it already exists`);
        this.write(dst, new TextEncoder().encode(`archive of ${(b.paths as string[]).join(",")}`));
        return json(200, { data: this.info(dst) });
      }
      case "POST /decompress": {
        const p = normalize(String(b.path));
        if (!this.nodes.has(p)) return this.missing(p);
        this.write(join(String(b.destination ?? parent(p)), "extracted.txt"), new TextEncoder().encode("from " + p));
        return json(204, null);
      }
      case "POST /pull": {
        const u = new URL(String(b.url));
        const name = String(b.filename ?? "") || baseName(u.pathname) || "download";
        const dst = join(String(b.directory), name);
        this.write(dst, new TextEncoder().encode("pulled from " + u.href));
        return json(200, { data: this.info(dst) });
      }
    }
    return fail(405, "method_not_allowed", `${r.method} ${r.route} is not a file route`);
  }

  /** upload serves POST …/files/upload as the core does. */
  async upload(url: string, form: FormData): Promise<{ status: number; body: string }> {
    const u = new URL(url, "http://panel.test");
    const dir = normalize(u.searchParams.get("path") ?? "/");
    this.requests.push({ method: "POST", path: u.pathname, route: "/upload", query: u.searchParams, body: form });
    const files = form.getAll("files") as File[];
    const size = files.reduce((n, f) => n + f.size, 0);
    if (size > this.uploadLimit) {
      return { status: 413, body: JSON.stringify({ error: { code: "body_too_large", message: `request body exceeds ${this.uploadLimit} bytes` } }) };
    }
    const out: FileInfo[] = [];
    for (const f of files) {
      const p = join(dir, f.name);
      this.write(p, new Uint8Array(await f.arrayBuffer()));
      out.push(this.info(p));
    }
    return { status: 200, body: JSON.stringify({ data: out }) };
  }
}

/** installUploads replaces XMLHttpRequest with one that hands uploads to
 * volume; while gate is pending, each upload stops halfway (progress
 * reported, no answer yet). */
export function installUploads(volume: FakeVolume, gate: { wait?: Promise<void> } = {}) {
  class FakeXHR {
    upload: { onprogress: ((ev: ProgressEvent) => void) | null } = { onprogress: null };
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    onabort: (() => void) | null = null;
    status = 0;
    statusText = "";
    responseText = "";
    private url = "";
    private aborted = false;
    open(_method: string, url: string) {
      this.url = url;
    }
    setRequestHeader() {}
    getResponseHeader(name: string) {
      return name.toLowerCase() === "content-type" ? "application/json" : null;
    }
    abort() {
      this.aborted = true;
      this.onabort?.();
    }
    send(body: FormData) {
      const total = (body.getAll("files") as File[]).reduce((n, f) => n + f.size, 0);
      void (async () => {
        await Promise.resolve();
        this.upload.onprogress?.({ loaded: Math.floor(total / 2), total, lengthComputable: true } as ProgressEvent);
        await gate.wait;
        if (this.aborted) return;
        const res = await volume.upload(this.url, body);
        this.upload.onprogress?.({ loaded: total, total, lengthComputable: true } as ProgressEvent);
        this.status = res.status;
        this.responseText = res.body;
        this.onload?.();
      })();
    }
  }
  const original = globalThis.XMLHttpRequest;
  globalThis.XMLHttpRequest = FakeXHR as unknown as typeof XMLHttpRequest;
  return () => {
    globalThis.XMLHttpRequest = original;
  };
}

export const SERVER_ID = "srv-1";

/** renderFiles shows the Files tab at url (under /servers/srv-1/files)
 * against volume, as a caller holding permissions. */
export function renderFiles(volume: FakeVolume, { url = `/servers/${SERVER_ID}/files/`, permissions = ["*"] }: { url?: string; permissions?: string[] } = {}) {
  const user = userEvent.setup();
  const view = renderWithPanel(<FilesTab />, { panel: volume.mount(new FakePanel()), server: makeServer({ id: SERVER_ID, short_id: "srv1", name: "Test server", permissions }), path: "/servers/:id/files/*", at: url });
  return { ...view, user };
}
