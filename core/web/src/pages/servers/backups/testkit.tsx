// Test helpers for the server tabs: a fake panel API answering from a
// table of routes, a fake server socket the test pushes messages into,
// and a render that wraps a tab in every provider it needs.
import type { ReactElement } from "react";
import { act, render } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter } from "react-router";
import { Api } from "../../../api/client";
import { ApiProvider } from "../../../api/context";
import type { Account, Server } from "../../../api/types";
import { AuthProvider } from "../../../auth/auth";
import { ToastProvider } from "../../../ui/toast";
import type { ConnectionState, LiveConnection, LiveMessage } from "../../../live/types";
import { ServerContext } from "../context";

// jsdom has no ResizeObserver; Radix measures controls with one.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

/** A route answers a call: data (wrapped as {"data": …}), an error
 * envelope, or a Response made by hand. */
export type Answer = { status?: number; data?: unknown; error?: { code: string; message: string; field?: string } } | Response;
export type Handler = (call: Call) => Answer | Promise<Answer>;

/** FakePanel routes "METHOD /path" to handlers and records every call. */
export class FakePanel {
  readonly calls: Call[] = [];
  private routes = new Map<string, Handler>();

  on(route: string, h: Handler | Answer): this {
    this.routes.set(route, typeof h === "function" ? h : () => h);
    return this;
  }

  /** called returns the calls to route ("METHOD /path"). */
  called(route: string): Call[] {
    return this.calls.filter((c) => `${c.method} ${c.path}` === route);
  }

  fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input), "http://panel.test");
    const method = (init?.method ?? "GET").toUpperCase();
    let body: unknown = init?.body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body);
      } catch {
        // a raw body stays a string
      }
    }
    const call: Call = { method, path: url.pathname, query: url.searchParams, body };
    this.calls.push(call);
    const h = this.routes.get(`${method} ${url.pathname}`);
    if (!h) return json(404, { error: { code: "not_found", message: `no fake route for ${method} ${url.pathname}` } });
    const a = await h(call);
    if (a instanceof Response) return a;
    if (a.error) return json(a.status ?? 422, { error: a.error });
    if (a.status === 204) return new Response(null, { status: 204 });
    return json(a.status ?? 200, { data: a.data ?? null });
  };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** FakeLive is a server socket whose messages the test sends. */
export class FakeLive implements LiveConnection {
  state: ConnectionState = "open";
  private subs = new Set<(m: LiveMessage) => void>();
  subscribe(fn: (m: LiveMessage) => void) {
    this.subs.add(fn);
    return () => {
      this.subs.delete(fn);
    };
  }
  send() {
    return true;
  }
  /** emit delivers m to every subscriber, inside act. */
  emit(m: LiveMessage) {
    act(() => {
      for (const fn of this.subs) fn(m);
    });
  }
}

export const ALL_SERVER_PERMISSIONS = [
  "server.read", "server.update", "server.delete", "server.start", "server.stop", "server.console",
  "file.read", "file.read-content", "file.write", "file.delete", "file.archive", "file.sftp",
  "backup.create", "backup.restore", "backup.delete", "backup.download",
  "schedule.manage", "subuser.manage", "alert.manage",
  "startup.read", "startup.update", "startup.image",
];

export function makeServer(over: Partial<Server> = {}): Server {
  return {
    id: "srv1",
    short_id: "abcd1234",
    name: "Survival",
    description: "The main world",
    owner_id: "u1",
    node_id: "n1",
    template_id: "t1",
    state: "stopped",
    state_reason: "",
    memory_mb: 2048,
    cpu_percent: 200,
    disk_mb: 10240,
    pids_limit: 2048,
    image: "ghcr.io/catalyst/java:21",
    environment: {},
    restart: { mode: "on_crash", max_restarts: 5, window_seconds: 600, backoff_ms: 1000, clean_exit_is_crash: false },
    crash_count: 0,
    last_exit_code: null,
    last_oom_killed: false,
    crashed_at: null,
    backup_limit: null,
    allocations: [{ ip: "10.0.0.5", port: 25565, primary: true }],
    permissions: ALL_SERVER_PERMISSIONS,
    created_at: "2025-01-01T00:00:00Z",
    ...over,
  };
}

export function makeAccount(over: Partial<Account> = {}): Account {
  return { id: "u1", email: "owner@example.com", username: "owner", admin: false, totp_enabled: false, created_at: "2025-01-01T00:00:00Z", ...over };
}

export interface RenderTabOptions {
  server?: Server;
  account?: Account;
  panel?: FakePanel;
  live?: FakeLive;
  path?: string;
}

/** renderTab renders ui as a tab of the server view, signed in, against
 * the fake panel. */
export function renderTab(ui: ReactElement, o: RenderTabOptions = {}) {
  const server = o.server ?? makeServer();
  const account = o.account ?? makeAccount();
  const panel = o.panel ?? new FakePanel();
  const live = o.live ?? new FakeLive();
  panel.on("GET /api/account", { data: account });
  const api = new Api({ fetch: panel.fetch, storage: localStorage });
  api.setSession({ token: "t", refresh_token: "r", expires_at: new Date(Date.now() + 3_600_000).toISOString() });
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  qc.setQueryData(["server", server.id], server);
  const result = render(
    <ApiProvider api={api}>
      <QueryClientProvider client={qc}>
        <ToastProvider>
          <MemoryRouter initialEntries={[o.path ?? `/servers/${server.id}`]}>
            <AuthProvider>
              <ServerContext.Provider value={{ server, live }}>{ui}</ServerContext.Provider>
            </AuthProvider>
          </MemoryRouter>
        </ToastProvider>
      </QueryClientProvider>
    </ApiProvider>,
  );
  return { ...result, panel, live, qc, api, server };
}
