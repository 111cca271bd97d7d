import { describe, expect, it } from "vitest";
import { Api, ApiError, errorText, type Session } from "./client";

function session(token: string, inMs: number, now: number): Session {
  return { token, refresh_token: "r-" + token, expires_at: new Date(now + inMs).toISOString() };
}

// failure is the ApiError a call that must fail threw.
function failure(p: Promise<unknown>): Promise<ApiError> {
  return p.then(
    () => {
      throw new Error("the call succeeded");
    },
    (e: unknown) => e as ApiError,
  );
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

// A fake API: the refresh endpoint hands out t2, and calls succeed only
// with the token in `valid`.
function harness(now = 1_000_000) {
  const calls: { url: string; auth?: string; body?: string }[] = [];
  let valid = "t1";
  let refreshes = 0;
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const auth = (init?.headers as Record<string, string>)?.Authorization;
    calls.push({ url, auth, body: init?.body as string | undefined });
    if (url.endsWith("/api/auth/refresh")) {
      refreshes++;
      valid = "t2";
      return json(200, { data: session("t2", 900_000, now) });
    }
    if (auth !== "Bearer " + valid) return json(401, { error: { code: "invalid_token", message: "token expired" } });
    if (url.includes("/missing")) return json(404, { error: { code: "not_found", message: "no such resource", request_id: "req-1" } });
    if (url.includes("/bad")) return json(422, { error: { code: "invalid", message: "must be 1..100", field: "memory_mb" } });
    return json(200, { data: { ok: true, url } });
  }) as typeof fetch;
  const api = new Api({ fetch: fetchFn, storage: localStorage, now: () => now });
  return { api, calls, now, refreshes: () => refreshes };
}

describe("Api", () => {
  it("unwraps data and sends the access token", async () => {
    const h = harness();
    h.api.setSession(session("t1", 600_000, h.now));
    const got = await h.api.get<{ ok: boolean }>("/api/servers", { query: { q: "mc", empty: "", none: undefined } });
    expect(got.ok).toBe(true);
    expect(h.calls[0].url).toBe("/api/servers?q=mc");
    expect(h.calls[0].auth).toBe("Bearer t1");
  });

  it("turns the error envelope into an ApiError", async () => {
    const h = harness();
    h.api.setSession(session("t1", 600_000, h.now));
    const err = await failure(h.api.get("/api/missing"));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(404);
    expect(err.code).toBe("not_found");
    expect(err.requestId).toBe("req-1");
    const field = await failure(h.api.patch("/api/bad", {}));
    expect(errorText(field)).toBe("memory_mb: must be 1..100");
    // Beside its field, a message without the name the core puts first.
    expect(new ApiError(422, "invalid_field", "tasks[1].payload: is one of start, stop", "tasks[1].payload").fieldMessage).toBe("is one of start, stop");
    expect(new ApiError(422, "invalid_field", "is required", "name").fieldMessage).toBe("is required");
  });

  it("refreshes a token about to expire before using it", async () => {
    const h = harness();
    h.api.setSession(session("t1", 30_000, h.now));
    await h.api.get("/api/servers");
    expect(h.refreshes()).toBe(1);
    expect(h.calls.at(-1)?.auth).toBe("Bearer t2");
    expect(JSON.parse(localStorage.getItem("catalyst.session")!).token).toBe("t2");
  });

  it("refreshes once and retries when a call answers invalid_token", async () => {
    const h = harness();
    // The token looks fresh, but the core no longer takes it.
    h.api.setSession({ ...session("t0", 600_000, h.now), refresh_token: "r" });
    const [a, b] = await Promise.all([h.api.get<{ ok: boolean }>("/api/a"), h.api.get<{ ok: boolean }>("/api/b")]);
    expect(a.ok && b.ok).toBe(true);
    expect(h.refreshes()).toBe(1);
  });

  it("signs out when the refresh token is refused", async () => {
    const now = 1_000_000;
    const api = new Api({
      fetch: (async () => json(401, { error: { code: "invalid_refresh_token", message: "the refresh token is not valid" } })) as typeof fetch,
      storage: localStorage,
      now: () => now,
    });
    const seen: (Session | null)[] = [];
    api.setSession(session("t1", 10_000, now));
    api.onSession((s) => seen.push(s));
    const err = await failure(api.get("/api/servers"));
    expect(err.code).toBe("invalid_refresh_token");
    expect(api.signedIn).toBe(false);
    expect(seen).toEqual([null]);
    expect(localStorage.getItem("catalyst.session")).toBeNull();
  });

  it("reports an unreachable panel readably", async () => {
    const api = new Api({ fetch: (async () => Promise.reject(new TypeError("Failed to fetch"))) as typeof fetch, storage: localStorage });
    const err = await failure(api.post("/api/auth/login", {}, { anonymous: true }));
    expect(err.code).toBe("unreachable");
    expect(errorText(err)).toMatch(/cannot be reached/);
  });
});
