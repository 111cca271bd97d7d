// A fake panel for the pages' tests: an API whose routes answer from what
// the test gives, a log of every call, and a render that wraps a page in
// every provider the app gives it (API, query client, theme, toasts,
// router, auth, and for a server tab the server view's context). Only
// tests import this.

import type { ReactElement } from "react";
import { render } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";
import { Api } from "../api/client";
import { ApiProvider } from "../api/context";
import type { Account, Server } from "../api/types";
import { AuthProvider } from "../auth/auth";
import { FakeLive } from "../live/testing";
import { ServerContext } from "../pages/servers/context";
import { ThemeProvider } from "../ui/theme";
import { ToastProvider } from "../ui/toast";
import { adminAccount, makeAccount, makeServer } from "./fixtures";

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The JSON body decoded, or the body as sent (FormData, Blob). */
  body: unknown;
}

/** An answer is data (sent as {"data": …}, 200 unless status says
 * otherwise), an error envelope (422 unless status says otherwise), or a
 * Response made by hand. */
export type Answer = { status?: number; data?: unknown; error?: { code: string; message: string; field?: string } } | Response;

/** A handler answers a call; params are the route's :names. Undefined
 * answers 404, as for a route the panel does not have. */
export type Handler = (call: Call, params: Record<string, string>) => Answer | undefined | Promise<Answer | undefined>;

/** Routes map "METHOD /api/path/:param" to a handler or a fixed answer. */
export type Routes = Record<string, Handler | Answer>;

export const ok = (data: unknown, status = 200): Answer => ({ status, data });
export const noContent = (): Answer => ({ status: 204 });
export const refuse = (status: number, code: string, message: string, field?: string): Answer => ({ status, error: { code, message, field } });

function match(pattern: string, path: string): Record<string, string> | null {
  const a = pattern.split("/");
  const b = path.split("/");
  if (a.length !== b.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(":")) params[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return null;
  }
  return params;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** FakePanel is the core's API as far as a test needs it. A route given
 * again replaces the first; a literal path wins over a pattern. */
export class FakePanel {
  readonly calls: Call[] = [];
  private routes = new Map<string, Handler>();
  private fallback?: Handler;

  constructor(routes: Routes = {}) {
    for (const [route, h] of Object.entries(routes)) this.on(route, h);
  }

  on(route: string, h: Handler | Answer): this {
    this.routes.set(route, typeof h === "function" ? h : () => h);
    return this;
  }

  /** otherwise answers the calls no route takes. */
  otherwise(h: Handler): this {
    this.fallback = h;
    return this;
  }

  has(route: string): boolean {
    return this.routes.has(route);
  }

  /** called returns the calls to route ("METHOD /path"), in order. */
  called(route: string): Call[] {
    return this.calls.filter((c) => `${c.method} ${c.path}` === route);
  }

  private find(method: string, path: string): [Handler, Record<string, string>] | undefined {
    const exact = this.routes.get(`${method} ${path}`);
    if (exact) return [exact, {}];
    for (const [route, h] of this.routes) {
      const [m, pattern] = route.split(" ");
      const params = m === method ? match(pattern, path) : null;
      if (params) return [h, params];
    }
    return this.fallback && [this.fallback, {}];
  }

  fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input), "http://panel.test");
    const method = (init?.method ?? "GET").toUpperCase();
    let body: unknown = init?.body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body);
      } catch {
        // kept as sent
      }
    }
    const call: Call = { method, path: url.pathname, query: url.searchParams, body };
    this.calls.push(call);
    const found = this.find(method, url.pathname);
    const a = found && (await found[0](call, found[1]));
    if (!a) return json(404, { error: { code: "not_found", message: `the fake panel has no ${method} ${url.pathname}` } });
    if (a instanceof Response) return a;
    if (a.error) return json(a.status ?? 422, { error: a.error });
    if (a.status === 204) return new Response(null, { status: 204 });
    return json(a.status ?? 200, { data: a.data ?? null });
  };
}

/** signedIn is an Api on panel with a session that does not expire. */
function signedIn(panel: FakePanel): Api {
  const api = new Api({ fetch: panel.fetch, storage: localStorage });
  api.setSession({ token: "t", refresh_token: "r", expires_at: "2999-01-01T00:00:00Z" });
  return api;
}

/** Where shows the router's path and search, for where(). */
function Where() {
  const l = useLocation();
  return (
    <output data-testid="location" hidden>
      {l.pathname + l.search}
    </output>
  );
}

/** where is the router's current path and search. */
export function where(): string {
  return document.querySelector("[data-testid=location]")?.textContent ?? "";
}

export interface PanelOptions {
  panel?: FakePanel;
  /** Who is signed in, unless the panel has its own GET /api/account;
   * an administrator by default. */
  account?: Account;
  /** A route pattern to render ui at; anything else shows "elsewhere".
   * Without one, ui is rendered as it is (a <Routes> of its own, say). */
  path?: string;
  /** The URL the router opens at: path, or "/", by default. */
  at?: string;
  /** Renders ui as a tab of this server's view, the server cached as the
   * view would have loaded it. */
  server?: Server;
  live?: FakeLive;
}

/** renderWithPanel renders ui signed in against a fake panel. */
export function renderWithPanel(ui: ReactElement, o: PanelOptions = {}) {
  const panel = o.panel ?? new FakePanel();
  if (!panel.has("GET /api/account")) panel.on("GET /api/account", ok(o.account ?? adminAccount));
  const api = signedIn(panel);
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const live = o.live ?? new FakeLive();
  let page = o.path ? (
    <Routes>
      <Route path={o.path} element={ui} />
      <Route path="*" element={<p>elsewhere</p>} />
    </Routes>
  ) : (
    ui
  );
  if (o.server) {
    qc.setQueryData(["server", o.server.id], o.server);
    page = <ServerContext.Provider value={{ server: o.server, live }}>{page}</ServerContext.Provider>;
  }
  const result = render(
    <ApiProvider api={api}>
      <QueryClientProvider client={qc}>
        <ThemeProvider>
          <ToastProvider>
            <MemoryRouter initialEntries={[o.at ?? o.path ?? "/"]}>
              <AuthProvider>
                {page}
                <Where />
              </AuthProvider>
            </MemoryRouter>
          </ToastProvider>
        </ThemeProvider>
      </QueryClientProvider>
    </ApiProvider>,
  );
  return { ...result, panel, api, qc, live, where };
}

/** renderTab renders ui as a tab of the server view (makeServer's server
 * by default), signed in as its owner unless account says otherwise. */
export function renderTab(ui: ReactElement, o: PanelOptions = {}) {
  const server = o.server ?? makeServer();
  return { ...renderWithPanel(ui, { ...o, server, account: o.account ?? makeAccount(), at: o.at ?? `/servers/${server.id}` }), server };
}
