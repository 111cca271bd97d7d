// A fake core for the admin and account pages' tests: routes answer from
// handlers the test gives, every call is recorded, and pages render with
// the providers they use (query client, API, auth, toasts, router).

import { useState, type ReactElement, type ReactNode } from "react";
import { render } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";
import { Api } from "../../api/client";
import { ApiProvider } from "../../api/context";
import type { Account } from "../../api/types";
import { AuthProvider } from "../../auth/auth";
import { ToastProvider } from "../../ui/toast";

// Radix measures some controls (checkboxes) with ResizeObserver, which
// jsdom lacks; nothing here depends on the sizes.
if (!("ResizeObserver" in globalThis)) {
  globalThis.ResizeObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
}

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The JSON body decoded, or the body as sent (FormData, Blob). */
  body: unknown;
}

export interface Reply {
  status?: number;
  data?: unknown;
  error?: { code: string; message: string; field?: string };
}

type Handler = (call: Call, params: Record<string, string>) => Reply | Promise<Reply>;

/** Routes map "METHOD /api/path/:param" to a handler or, for a fixed
 * answer, to its data. */
export type Routes = Record<string, Handler | object | null>;

/** ok, noContent and refuse are handlers with a fixed answer. */
export const ok =
  (data: unknown, status = 200): Handler =>
  () => ({ status, data });
export const noContent = (): Handler => () => ({ status: 204 });
export const refuse =
  (status: number, code: string, message: string, field?: string): Handler =>
  () => ({ status, error: { code, message, field } });

export const adminAccount: Account = {
  id: "u-admin",
  email: "admin@example.com",
  username: "admin",
  admin: true,
  totp_enabled: false,
  created_at: "2026-01-01T00:00:00Z",
};

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

/** fakeCore is an Api whose fetch answers from routes; GET /api/account
 * answers the admin account unless routes say otherwise. */
export function fakeCore(routes: Routes) {
  const calls: Call[] = [];
  const all: Routes = { "GET /api/account": adminAccount, ...routes };
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const u = new URL(String(input), "http://panel.test");
    const method = init?.method ?? "GET";
    let body: unknown = init?.body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body);
      } catch {
        // kept as sent
      }
    }
    const call: Call = { method, path: u.pathname, query: u.searchParams, body };
    calls.push(call);
    for (const [key, h] of Object.entries(all)) {
      const [m, pattern] = key.split(" ");
      const params = m === method ? match(pattern, u.pathname) : null;
      if (!params) continue;
      const r: Reply = typeof h === "function" ? await (h as Handler)(call, params) : { data: h };
      const status = r.status ?? 200;
      if (status === 204) return new Response(null, { status });
      const payload = r.error ? { error: r.error } : { data: r.data };
      return new Response(JSON.stringify(payload), { status, headers: { "Content-Type": "application/json" } });
    }
    return new Response(JSON.stringify({ error: { code: "not_found", message: `the fake core has no ${method} ${u.pathname}` } }), { status: 404 });
  }) as typeof fetch;
  const api = new Api({ fetch: fetchFn, storage: localStorage });
  api.setSession({ token: "t", refresh_token: "r", expires_at: "2999-01-01T00:00:00Z" });
  return {
    api,
    calls,
    /** callsTo lists the calls of one method and path. */
    callsTo: (method: string, path: string) => calls.filter((c) => c.method === method && c.path === path),
  };
}

/** Where renders the router's current location, for tests that follow
 * navigation and search parameters. */
function Where() {
  const l = useLocation();
  return (
    <output data-testid="location" hidden>
      {l.pathname + l.search}
    </output>
  );
}

export function Providers({ api, children, path = "/", at }: { api: Api; children: ReactNode; path?: string; at?: string }) {
  const [qc] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } } }));
  return (
    <ApiProvider api={api}>
      <QueryClientProvider client={qc}>
        <ToastProvider>
          <MemoryRouter initialEntries={[at ?? path]}>
            <AuthProvider>
              <Routes>
                <Route path={path} element={children} />
                <Route path="*" element={<p>elsewhere</p>} />
              </Routes>
              <Where />
            </AuthProvider>
          </MemoryRouter>
        </ToastProvider>
      </QueryClientProvider>
    </ApiProvider>
  );
}

/** renderPage renders ui at the route pattern path, opened at the URL at
 * (path itself by default). */
export function renderPage(ui: ReactElement, api: Api, opts: { path?: string; at?: string } = {}) {
  return render(
    <Providers api={api} path={opts.path} at={opts.at}>
      {ui}
    </Providers>,
  );
}

/** location is the router's path and search as Where shows them. */
export function location(container: ParentNode = document): string {
  return container.querySelector("[data-testid=location]")?.textContent ?? "";
}
