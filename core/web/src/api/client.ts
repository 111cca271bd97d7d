// The REST client of the core's API: every answer is {"data": …} or
// {"error": {"code", "message", "field", "request_id"}}. Credentials are a
// short-lived access token and a refresh token kept in storage; the client
// refreshes the access token before it expires and once more when a call
// answers invalid_token, so callers never see an expiry.

export interface Session {
  token: string;
  refresh_token: string;
  expires_at: string;
}

/** ApiError is an error answer of the API, or a failure to reach it. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  readonly requestId?: string;

  constructor(status: number, code: string, message: string, field?: string, requestId?: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
    this.requestId = requestId;
  }

  /** fieldMessage is the message without the "field: " the API starts a
   * field error with, for showing beside that field. */
  get fieldMessage(): string {
    return this.field && this.message.startsWith(this.field + ": ") ? this.message.slice(this.field.length + 2) : this.message;
  }
}

/** errorText is what the UI shows for any thrown value. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    return e.field && !e.message.includes(e.field) ? `${e.field}: ${e.message}` : e.message;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

const SESSION_KEY = "catalyst.session";
// Refresh when the access token has less than this left.
const REFRESH_MARGIN_MS = 60_000;

export interface ApiOptions {
  /** The origin the API lives on; "" for the page's own. */
  base?: string;
  fetch?: typeof fetch;
  storage?: Storage;
  now?: () => number;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Query parameters; undefined and "" values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  /** Send without credentials (login, refresh). */
  anonymous?: boolean;
}

export interface UploadOptions {
  signal?: AbortSignal;
  query?: Record<string, string | number | boolean | undefined>;
  /** Called with bytes sent and the total as the body goes out. */
  onProgress?: (sent: number, total: number) => void;
  contentType?: string;
}

type Listener = (s: Session | null) => void;

export class Api {
  readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly storage: Storage;
  private readonly now: () => number;
  private session: Session | null;
  private refreshing: Promise<Session> | null = null;
  private listeners = new Set<Listener>();

  constructor(o: ApiOptions = {}) {
    this.base = o.base ?? "";
    this.fetchFn = o.fetch ?? ((...args) => fetch(...args));
    this.storage = o.storage ?? localStorage;
    this.now = o.now ?? Date.now;
    this.session = readSession(this.storage);
  }

  get signedIn(): boolean {
    return this.session !== null;
  }

  /** onSession calls fn whenever the session starts, changes or ends. */
  onSession(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  setSession(s: Session | null) {
    this.session = s;
    if (s) this.storage.setItem(SESSION_KEY, JSON.stringify(s));
    else this.storage.removeItem(SESSION_KEY);
    for (const fn of this.listeners) fn(s);
  }

  /** login starts a session; a two-factor account needs totpCode too
   * (the API answers two_factor_required without it). */
  async login(email: string, password: string, totpCode?: string): Promise<void> {
    const s = await this.request<Session>("POST", "/api/auth/login", { email, password, totp_code: totpCode || undefined }, { anonymous: true });
    this.setSession(s);
  }

  async logout(): Promise<void> {
    const s = this.session;
    this.setSession(null);
    if (s) {
      await this.request("POST", "/api/auth/logout", { refresh_token: s.refresh_token }, { anonymous: true }).catch(() => undefined);
    }
  }

  /** token is a valid access token, refreshed first when it is about to
   * expire; for the WebSocket's auth message. */
  async token(): Promise<string> {
    const s = this.session;
    if (!s) throw new ApiError(401, "signed_out", "You are signed out.");
    if (Date.parse(s.expires_at) - this.now() > REFRESH_MARGIN_MS) return s.token;
    return (await this.refresh()).token;
  }

  /** expiresAt is when the current access token expires (ms), or null. */
  expiresAt(): number | null {
    return this.session ? Date.parse(this.session.expires_at) : null;
  }

  /** refresh spends the refresh token; concurrent callers share one call. */
  refresh(): Promise<Session> {
    if (this.refreshing) return this.refreshing;
    const s = this.session;
    if (!s) return Promise.reject(new ApiError(401, "signed_out", "You are signed out."));
    this.refreshing = this.request<Session>("POST", "/api/auth/refresh", { refresh_token: s.refresh_token }, { anonymous: true })
      .then((next) => {
        this.setSession(next);
        return next;
      })
      .catch((e) => {
        if (e instanceof ApiError && e.status === 401) this.setSession(null);
        throw e;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  url(path: string, query?: RequestOptions["query"]): string {
    let u = this.base + path;
    if (query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v !== undefined && v !== "") q.set(k, String(v));
      }
      const qs = q.toString();
      if (qs) u += (u.includes("?") ? "&" : "?") + qs;
    }
    return u;
  }

  get<T>(path: string, o?: RequestOptions) {
    return this.request<T>("GET", path, undefined, o);
  }
  post<T>(path: string, body?: unknown, o?: RequestOptions) {
    return this.request<T>("POST", path, body, o);
  }
  put<T>(path: string, body?: unknown, o?: RequestOptions) {
    return this.request<T>("PUT", path, body, o);
  }
  patch<T>(path: string, body?: unknown, o?: RequestOptions) {
    return this.request<T>("PATCH", path, body, o);
  }
  del<T = void>(path: string, o?: RequestOptions) {
    return this.request<T>("DELETE", path, undefined, o);
  }

  /** request sends one call; body is JSON unless it is a Blob or FormData. */
  async request<T>(method: string, path: string, body?: unknown, o: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, body, o);
    return decode<T>(res);
  }

  /** raw sends one call with credentials and returns the Response as is
   * (file contents); an error answer still throws ApiError. */
  async raw(method: string, path: string, body?: BodyInit, o: RequestOptions = {}): Promise<Response> {
    const res = await this.send(method, path, body, o);
    if (!res.ok) await decode(res);
    return res;
  }

  private async send(method: string, path: string, body: unknown, o: RequestOptions, retried = false): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json" };
    let payload: BodyInit | undefined;
    if (body instanceof Blob || body instanceof FormData || typeof body === "string") {
      payload = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    if (!o.anonymous) {
      headers.Authorization = "Bearer " + (await this.token());
    }
    let res: Response;
    try {
      res = await this.fetchFn(this.url(path, o.query), { method, headers, body: payload, signal: o.signal });
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") throw e;
      throw new ApiError(0, "unreachable", "The panel cannot be reached; check your connection.");
    }
    if (res.status === 401 && !o.anonymous && !retried) {
      const code = await peekCode(res);
      if (code === "invalid_token") {
        await this.refresh();
        return this.send(method, path, body, o, true);
      }
    }
    return res;
  }

  /** upload sends a body with progress (fetch cannot report it). */
  async upload<T>(method: string, path: string, body: Blob | FormData, o: UploadOptions = {}): Promise<T> {
    const token = await this.token();
    return new Promise<T>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, this.url(path, o.query));
      xhr.setRequestHeader("Authorization", "Bearer " + token);
      xhr.setRequestHeader("Accept", "application/json");
      if (o.contentType) xhr.setRequestHeader("Content-Type", o.contentType);
      xhr.upload.onprogress = (ev) => o.onProgress?.(ev.loaded, ev.lengthComputable ? ev.total : 0);
      xhr.onerror = () => reject(new ApiError(0, "unreachable", "The upload was cut off; check your connection."));
      xhr.onabort = () => reject(new DOMException("upload cancelled", "AbortError"));
      xhr.onload = () => {
        const res = new Response(xhr.status === 204 ? null : xhr.responseText, {
          status: xhr.status,
          headers: { "Content-Type": xhr.getResponseHeader("Content-Type") ?? "application/json" },
        });
        decode<T>(res).then(resolve, reject);
      };
      o.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
      xhr.send(body);
    });
  }
}

function readSession(storage: Storage): Session | null {
  try {
    const raw = storage.getItem(SESSION_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return s && typeof s.token === "string" && typeof s.refresh_token === "string" ? s : null;
  } catch {
    return null;
  }
}

async function peekCode(res: Response): Promise<string> {
  try {
    const body = await res.clone().json();
    return body?.error?.code ?? "";
  } catch {
    return "";
  }
}

async function decode<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string; field?: string; request_id?: string } } | undefined)?.error;
    if (err?.message) throw new ApiError(res.status, err.code ?? "error", err.message, err.field, err.request_id);
    throw new ApiError(res.status, "http_" + res.status, `The panel answered ${res.status} ${res.statusText || ""}`.trim() + ".");
  }
  if (body === undefined) {
    throw new ApiError(res.status, "bad_answer", "The panel's answer was not JSON.");
  }
  return (body as { data: T }).data;
}
