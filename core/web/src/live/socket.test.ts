import { describe, expect, it, vi } from "vitest";
import { Api, type Session } from "../api/client";
import type { LiveMessage } from "./types";
import { BACKOFF_CAP_MS, LiveSocket, STABLE_MS, backoffDelay, parseMessage, socketURL } from "./socket";
import { FakeSocket } from "./testing";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

// harness wires a LiveSocket to fakes: a ticket endpoint answering with
// ticketStatus, sockets the test drives, timers the test fires, and a
// clock it moves.
function harness(o: { ticketStatus?: () => number } = {}) {
  let clock = 1_000_000;
  const expires = new Date(clock + 600_000).toISOString();
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const calls: string[] = [];
  let tickets = 0;
  let refreshes = 0;
  const fetchFn = (async (input: RequestInfo | URL) => {
    const url = String(input);
    calls.push(url);
    if (url.endsWith("/api/auth/refresh")) {
      refreshes++;
      return json(200, { data: { token: "fresh" + refreshes, refresh_token: "r2", expires_at: new Date(clock + 900_000).toISOString() } });
    }
    if (url.endsWith("/ws/ticket")) {
      const status = o.ticketStatus?.() ?? 201;
      if (status === 403) return json(403, { error: { code: "forbidden", message: "missing permission server.read" } });
      if (status === 404) return json(404, { error: { code: "not_found", message: "server not found" } });
      if (status >= 400) return json(status, { error: { code: "internal", message: "internal error" } });
      tickets++;
      return json(201, { data: { ticket: "tk" + tickets, expires_at: expires } });
    }
    return json(404, { error: { code: "not_found", message: "no route" } });
  }) as typeof fetch;
  const api = new Api({ fetch: fetchFn, storage: localStorage, now: () => clock });
  const session: Session = { token: "t1", refresh_token: "r1", expires_at: expires };
  api.setSession(session);
  const live = new LiveSocket(api, "srv-1", {
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    setTimer: (fn, ms) => {
      const t = { fn, ms, cancelled: false };
      timers.push(t);
      return () => {
        t.cancelled = true;
      };
    },
    random: () => 0,
    now: () => clock,
    page: { protocol: "https:", host: "panel.example.com" },
  });
  const states: string[] = [];
  live.onStateChange(() => states.push(live.state));
  return {
    api,
    live,
    sockets,
    timers,
    calls,
    states,
    last: () => sockets[sockets.length - 1],
    pending: () => timers.filter((t) => !t.cancelled),
    fire: () => {
      const t = timers.filter((t) => !t.cancelled).shift()!;
      t.cancelled = true;
      t.fn();
    },
    advance: (ms: number) => {
      clock += ms;
    },
    tickets: () => tickets,
    refreshes: () => refreshes,
  };
}

// settle lets the ticket request's promise chain run.
const settle = () => new Promise((r) => setTimeout(r, 0));

describe("backoffDelay", () => {
  it("doubles from 1 s up to the 30 s cap", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 20].map((n) => backoffDelay(n, 0))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it("shortens each delay by at most 30 % at random, never beyond the cap", () => {
    for (const n of [0, 3, 10]) {
      const full = Math.min(BACKOFF_CAP_MS, 1000 * 2 ** n);
      expect(backoffDelay(n, 0.999)).toBeGreaterThanOrEqual(full * 0.7);
      expect(backoffDelay(n, 0.999)).toBeLessThan(backoffDelay(n, 0));
      expect(backoffDelay(n, 0.5)).toBeLessThanOrEqual(BACKOFF_CAP_MS);
    }
  });
});

describe("socketURL and parseMessage", () => {
  it("uses wss on an https page and the API base when set", () => {
    expect(socketURL("", "a b", "t/1", { protocol: "https:", host: "p.example:8443" })).toBe("wss://p.example:8443/api/servers/a%20b/ws?ticket=t%2F1");
    expect(socketURL("", "s", "t", { protocol: "http:", host: "localhost:5173" })).toBe("ws://localhost:5173/api/servers/s/ws?ticket=t");
    expect(socketURL("https://core.example/", "s", "t")).toBe("wss://core.example/api/servers/s/ws?ticket=t");
  });

  it("drops frames that are not typed JSON objects", () => {
    expect(parseMessage('{"type":"status","state":"running"}')).toEqual({ type: "status", state: "running" });
    expect(parseMessage("not json")).toBeNull();
    expect(parseMessage('{"state":"running"}')).toBeNull();
    expect(parseMessage("null")).toBeNull();
    expect(parseMessage(new ArrayBuffer(2))).toBeNull();
  });
});

describe("LiveSocket", () => {
  it("opens with a ticket and asks for the latest stats, not the log", async () => {
    const h = harness();
    h.live.start();
    expect(h.live.state).toBe("connecting");
    await settle();
    expect(h.calls).toContain("/api/servers/srv-1/ws/ticket");
    expect(h.last().url).toBe("wss://panel.example.com/api/servers/srv-1/ws?ticket=tk1");
    h.last().open();
    expect(h.live.state).toBe("open");
    expect(h.last().sent).toEqual([{ type: "request_stats" }]);
    expect(h.states).toEqual(["connecting", "open"]);
  });

  it("hands every message to its subscribers until they unsubscribe", async () => {
    const h = harness();
    h.live.start();
    await settle();
    h.last().open();
    const got: LiveMessage[] = [];
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const off = h.live.subscribe((m) => got.push(m));
    h.live.subscribe(() => {
      throw new Error("a broken subscriber");
    });
    h.last().receive({ type: "console_output", lines: ["hello"] });
    h.last().receive("garbage");
    off();
    h.last().receive({ type: "console_output", lines: ["unseen"] });
    expect(got).toEqual([{ type: "console_output", lines: ["hello"] }]);
    expect(logged).toHaveBeenCalledWith("live subscriber failed", expect.any(Error));
    logged.mockRestore();
  });

  it("reconnects with growing delays, then catches the console up", async () => {
    const h = harness();
    h.live.start();
    await settle();
    h.last().open();
    h.last().drop(1006);
    expect(h.live.state).toBe("reconnecting");
    expect(h.live.reason).toMatch(/lost/);
    expect(h.pending().map((t) => t.ms)).toEqual([1000]);

    h.fire();
    await settle();
    h.last().drop(1006); // refused before it opened
    expect(h.pending().map((t) => t.ms)).toEqual([2000]);

    h.fire();
    await settle();
    h.last().open();
    expect(h.live.state).toBe("open");
    expect(h.last().sent).toEqual([{ type: "request_stats" }, { type: "request_logs", lines: 500 }]);
    expect(h.tickets()).toBe(3); // a ticket is good for one socket only
  });

  it("does not ask for the log after a reconnect when told not to", async () => {
    const h = harness();
    h.live.logsOnReconnect = false;
    h.live.start();
    await settle();
    h.last().open();
    h.last().drop(1006);
    h.fire();
    await settle();
    h.last().open();
    expect(h.last().sent).toEqual([{ type: "request_stats" }]);
  });

  it("starts the backoff over after a connection that lasted", async () => {
    const h = harness();
    h.live.start();
    await settle();
    h.last().open();
    h.last().drop(1006);
    h.fire();
    await settle();
    h.last().open();
    h.advance(STABLE_MS);
    h.last().drop(1001, "the panel is restarting; reconnect shortly");
    expect(h.live.reason).toBe("the panel is restarting; reconnect shortly.");
    expect(h.pending().map((t) => t.ms)).toEqual([1000]);
  });

  it("gives up when access is revoked (4003)", async () => {
    const h = harness();
    h.live.start();
    await settle();
    h.last().open();
    h.last().drop(4003, "access to this server was revoked");
    expect(h.live.state).toBe("closed");
    expect(h.live.reason).toBe("Access to this server was revoked.");
    expect(h.pending()).toEqual([]);
  });

  it("reconnects at once with a fresh ticket when the token expired (4001) or the node moved (4004)", async () => {
    const h = harness();
    h.live.start();
    await settle();
    h.last().open();
    h.last().drop(4001, "the access token expired; reconnect with a fresh one");
    expect(h.live.state).toBe("reconnecting");
    await settle();
    expect(h.pending()).toEqual([]);
    expect(h.tickets()).toBe(2);
    h.last().open();
    h.last().drop(4004, "the server moved to another node; reconnect");
    expect(h.live.reason).toMatch(/moved to another node/);
    await settle();
    expect(h.pending()).toEqual([]);
    expect(h.tickets()).toBe(3);
  });

  it("backs off when 4004 keeps coming", async () => {
    const h = harness();
    h.live.start();
    await settle();
    for (let i = 0; i < 3; i++) {
      h.last().open();
      h.last().drop(4004);
      await settle();
    }
    expect(h.pending()).toEqual([]);
    h.last().open();
    h.last().drop(4004);
    expect(h.pending().map((t) => t.ms)).toEqual([1000]);
  });

  it("gives up readably when the API refuses the ticket", async () => {
    const forbidden = harness({ ticketStatus: () => 403 });
    forbidden.live.start();
    await settle();
    expect(forbidden.live.state).toBe("closed");
    expect(forbidden.live.reason).toBe("The panel refused the live connection: missing permission server.read");
    expect(forbidden.sockets).toEqual([]);

    const gone = harness({ ticketStatus: () => 404 });
    gone.live.start();
    await settle();
    expect(gone.live.state).toBe("closed");
    expect(gone.live.reason).toBe("This server no longer exists.");
  });

  it("retries with backoff when the ticket request fails otherwise", async () => {
    let status = 500;
    const h = harness({ ticketStatus: () => status });
    h.live.start();
    await settle();
    expect(h.live.state).toBe("reconnecting");
    expect(h.live.reason).toMatch(/internal error/);
    expect(h.pending().map((t) => t.ms)).toEqual([1000]);
    status = 201;
    h.fire();
    await settle();
    h.last().open();
    expect(h.live.state).toBe("open");
  });

  it("answers token_expiring with a fresh token and keeps the socket", async () => {
    const h = harness();
    h.live.start();
    await settle();
    const ws = h.last();
    ws.open();
    ws.receive({ type: "token_expiring", expires_at: new Date(h.api.expiresAt()!).toISOString(), seconds: 60 });
    await settle();
    expect(h.refreshes()).toBe(1);
    expect(ws.sent).toContainEqual({ type: "auth", token: "fresh1" });
    expect(ws.closedWith).toBeUndefined();
    expect(h.sockets).toHaveLength(1);
  });

  it("answers token_expiring with the client's newer token without refreshing", async () => {
    const h = harness();
    h.live.start();
    await settle();
    const ws = h.last();
    ws.open();
    const older = new Date(h.api.expiresAt()! - 300_000).toISOString();
    ws.receive({ type: "token_expiring", expires_at: older, seconds: 60 });
    await settle();
    expect(h.refreshes()).toBe(0);
    expect(ws.sent).toContainEqual({ type: "auth", token: "t1" });
  });

  it("closes for good on stop, and send reports a socket that is not open", async () => {
    const h = harness();
    h.live.start();
    await settle();
    const ws = h.last();
    expect(h.live.send({ type: "request_logs" })).toBe(false);
    ws.open();
    expect(h.live.send({ type: "send_command", command: "say hi" })).toBe(true);
    h.live.stop();
    expect(ws.closedWith).toEqual({ code: 1000, reason: "page closed" });
    expect(h.live.state).toBe("closed");
    expect(h.live.send({ type: "request_logs" })).toBe(false);
    expect(h.pending()).toEqual([]);
    expect(h.sockets).toHaveLength(1);
  });

  it("stops a connection whose ticket is still on its way", async () => {
    const h = harness();
    h.live.start();
    h.live.stop();
    await settle();
    expect(h.sockets).toEqual([]);
    expect(h.live.state).toBe("closed");
  });

  it("retries at once when asked during a backoff wait", async () => {
    const h = harness();
    h.live.start();
    await settle();
    h.last().drop(1006);
    expect(h.pending()).toHaveLength(1);
    h.live.retryNow();
    expect(h.pending()).toEqual([]);
    await settle();
    expect(h.sockets).toHaveLength(2);
  });
});
