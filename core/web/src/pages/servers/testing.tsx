// Test helpers for the server pages: an Api on a fake fetch that routes
// calls to a handler, and a render with every provider the pages need.

import type { ReactNode } from "react";
import { render } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";
import { Api } from "../../api/client";
import { ApiProvider } from "../../api/context";
import type { Account, Server } from "../../api/types";
import { AuthProvider } from "../../auth/auth";
import { ThemeProvider } from "../../ui/theme";
import { ToastProvider } from "../../ui/toast";

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

/** A handler's answer: data (200 unless status says otherwise), an
 * error envelope, or undefined for a 404. */
export type FakeAnswer = { status?: number; data?: unknown; error?: { code: string; message: string; field?: string } } | undefined;

export function fakeApi(handler: (r: FakeRequest) => FakeAnswer | Promise<FakeAnswer>, account: Account = adminAccount) {
  const calls: FakeRequest[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const u = new URL(String(input), "http://panel.test");
    const raw = init?.body;
    const req: FakeRequest = { method: init?.method ?? "GET", path: u.pathname, query: u.searchParams, body: typeof raw === "string" ? JSON.parse(raw) : raw };
    calls.push(req);
    const answer = req.path === "/api/account" ? { data: account } : await handler(req);
    if (!answer) return new Response(JSON.stringify({ error: { code: "not_found", message: `no route ${req.method} ${req.path}` } }), { status: 404 });
    if (answer.status === 204) return new Response(null, { status: 204 });
    const status = answer.status ?? (answer.error ? 422 : 200);
    const body = answer.error ? { error: answer.error } : { data: answer.data };
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
  const api = new Api({ fetch: fetchFn, storage: localStorage });
  api.setSession({ token: "t", refresh_token: "r", expires_at: new Date(Date.now() + 3_600_000).toISOString() });
  return { api, calls };
}

export const adminAccount: Account = {
  id: "u-admin",
  email: "admin@example.com",
  username: "admin",
  admin: true,
  totp_enabled: false,
  created_at: "2025-01-01T00:00:00Z",
};

export const userAccount: Account = { ...adminAccount, id: "u-user", email: "user@example.com", username: "user", admin: false };

function Where() {
  const l = useLocation();
  return <div data-testid="location">{l.pathname}</div>;
}

/** renderWith renders routes at route with the app's providers; the
 * current path is in the element with test id "location". */
export function renderWith(api: Api, routes: ReactNode, route: string) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const view = render(
    <ApiProvider api={api}>
      <QueryClientProvider client={qc}>
        <ThemeProvider>
          <ToastProvider>
            <MemoryRouter initialEntries={[route]}>
              <AuthProvider>
                <Routes>{routes}</Routes>
                <Where />
              </AuthProvider>
            </MemoryRouter>
          </ToastProvider>
        </ThemeProvider>
      </QueryClientProvider>
    </ApiProvider>,
  );
  return { ...view, qc };
}

export { Route };

let serial = 0;

/** server builds a Server with the given fields. */
export function server(over: Partial<Server> = {}): Server {
  serial++;
  const id = over.id ?? `srv-${String(serial).padStart(8, "0")}`;
  return {
    id,
    short_id: id.slice(-8),
    name: `Server ${serial}`,
    description: "",
    owner_id: "u-admin",
    node_id: "node-1",
    template_id: "tpl-1",
    state: "running",
    state_reason: "",
    memory_mb: 1024,
    cpu_percent: 100,
    disk_mb: 5120,
    pids_limit: 2048,
    image: "img",
    environment: {},
    restart: { mode: "on_crash", max_restarts: 5, window_seconds: 600, backoff_ms: 1000, clean_exit_is_crash: false },
    crash_count: 0,
    last_exit_code: null,
    last_oom_killed: false,
    crashed_at: null,
    backup_limit: null,
    allocations: [{ ip: "10.0.0.5", port: 25565, primary: true }],
    permissions: ["*"],
    created_at: "2025-01-01T00:00:00Z",
    ...over,
  };
}
