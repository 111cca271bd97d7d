// The browser side of a server's WebSocket (/api/servers/:id/ws). A
// browser cannot set headers on a socket, so each connection first asks
// for a one-use ticket over REST. A dropped socket is opened again with
// exponential backoff and jitter; the core's application close codes say
// when not to (access revoked) or when to reconnect at once (an expired
// token, a server moved to another node). A token about to expire is
// replaced in place, so a long console session is never cut.

import { createContext, useContext, useEffect, useMemo, useSyncExternalStore } from "react";
import { ApiError, errorText, type Api } from "../api/client";
import { useApi } from "../api/context";
import type { ClientMessage, ConnectionState, LiveConnection, LiveMessage } from "./types";

/** The close codes of core/internal/live/messages.go. */
export const CloseTokenExpired = 4001;
export const CloseRevoked = 4003;
export const CloseNodeMoved = 4004;

/** SocketLike is the part of WebSocket the connection uses, so tests can
 * hand it a fake. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

const OPEN = 1;

/** LOG_LINES is how much of the console log a console shows at first and
 * after a reconnect. */
export const LOG_LINES = 500;

export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 30_000;
// A delay is cut by up to this share at random, so the browsers that lost
// one core at the same moment do not all come back at the same moment.
const JITTER = 0.3;
// A connection that lasted this long was a good one: the next drop starts
// the backoff from the beginning again.
export const STABLE_MS = 10_000;
// How many times in a row 4001/4004 reconnect at once before backing off
// (a core that keeps answering them must not be hammered).
const MAX_QUICK = 3;

/** backoffDelay is the wait before reconnect attempt n (0-based): 1 s,
 * 2 s, 4 s … capped at 30 s, each shortened by up to 30 % at random
 * (random is in [0, 1)). */
export function backoffDelay(n: number, random: number): number {
  const full = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(n, 16));
  return Math.round(full * (1 - JITTER * random));
}

/** socketURL is the ws(s) address of a server's socket: base is the API's
 * origin ("" for the page's own). */
export function socketURL(base: string, serverId: string, ticket: string, page: { protocol: string; host: string } = window.location): string {
  const path = `/api/servers/${encodeURIComponent(serverId)}/ws?ticket=${encodeURIComponent(ticket)}`;
  if (base) return base.replace(/^http(s?):/, "ws$1:").replace(/\/$/, "") + path;
  return `${page.protocol === "https:" ? "wss:" : "ws:"}//${page.host}${path}`;
}

/** parseMessage reads one frame; anything but a JSON object with a
 * string type is dropped (null). */
export function parseMessage(data: unknown): LiveMessage | null {
  if (typeof data !== "string") return null;
  try {
    const m = JSON.parse(data);
    return m && typeof m === "object" && typeof m.type === "string" ? (m as LiveMessage) : null;
  } catch {
    return null;
  }
}

function closeReason(code: number, reason: string): string {
  switch (code) {
    case CloseTokenExpired:
      return "Your session's token expired; reconnecting with a fresh one…";
    case CloseNodeMoved:
      return "The server moved to another node; reconnecting…";
    case 1001:
      return reason ? `${reason}.` : "The panel is restarting; reconnecting…";
    case 1009:
      return "A message was too large for the panel; reconnecting…";
    default:
      return "The live connection was lost; reconnecting…";
  }
}

function ticketRefusal(e: ApiError): string {
  switch (e.status) {
    case 401:
      return "You are signed out; sign in again to see the live console.";
    case 404:
      return "This server no longer exists.";
    default:
      return `The panel refused the live connection: ${errorText(e)}`;
  }
}

export interface LiveSocketOptions {
  createSocket?: (url: string) => SocketLike;
  /** setTimer runs fn after ms and returns what cancels it. */
  setTimer?: (fn: () => void, ms: number) => () => void;
  random?: () => number;
  now?: () => number;
  /** Ask for the console log after every reconnect, so the console
   * catches up on what it missed (needs server.console). */
  logsOnReconnect?: boolean;
  /** For the socket's address; the page's location by default. */
  page?: { protocol: string; host: string };
}

export interface LiveSnapshot {
  state: ConnectionState;
  reason?: string;
}

/** LiveSocket is one server's live connection. start() opens it, stop()
 * closes it for good (until start() again); in between it keeps itself
 * connected. */
export class LiveSocket implements LiveConnection {
  logsOnReconnect: boolean;
  private readonly api: Api;
  private readonly serverId: string;
  private readonly createSocket: (url: string) => SocketLike;
  private readonly setTimer: (fn: () => void, ms: number) => () => void;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly page?: { protocol: string; host: string };

  private snap: LiveSnapshot = { state: "closed" };
  private running = false;
  // Each connect() bumps it; callbacks of an older attempt see a
  // different number and do nothing.
  private generation = 0;
  private ws: SocketLike | null = null;
  private cancelTimer: (() => void) | null = null;
  private attempt = 0;
  private quick = 0;
  private openedAt = 0;
  private everOpened = false;
  private listeners = new Set<(m: LiveMessage) => void>();
  private stateListeners = new Set<() => void>();

  constructor(api: Api, serverId: string, o: LiveSocketOptions = {}) {
    this.api = api;
    this.serverId = serverId;
    this.createSocket = o.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    this.setTimer =
      o.setTimer ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
      });
    this.random = o.random ?? Math.random;
    this.now = o.now ?? Date.now;
    this.logsOnReconnect = o.logsOnReconnect ?? true;
    this.page = o.page;
  }

  get state(): ConnectionState {
    return this.snap.state;
  }

  get reason(): string | undefined {
    return this.snap.reason;
  }

  /** snapshot is the state and reason, a new object on every change (for
   * useSyncExternalStore). */
  snapshot = (): LiveSnapshot => this.snap;

  /** onStateChange calls fn after every state change. */
  onStateChange = (fn: () => void): (() => void) => {
    this.stateListeners.add(fn);
    return () => {
      this.stateListeners.delete(fn);
    };
  };

  subscribe(fn: (m: LiveMessage) => void): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  send(m: ClientMessage): boolean {
    if (!this.ws || this.ws.readyState !== OPEN || this.snap.state !== "open") return false;
    this.ws.send(JSON.stringify(m));
    return true;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.quick = 0;
    this.everOpened = false;
    this.setState("connecting");
    void this.connect();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.generation++;
    this.cancelTimer?.();
    this.cancelTimer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      ws.close(1000, "page closed");
    }
    this.setState("closed");
  }

  /** retryNow skips the rest of a backoff wait, or opens a connection that
   * gave up again. */
  retryNow(): void {
    if (!this.running) {
      this.start();
      return;
    }
    if (this.snap.state !== "reconnecting" || !this.cancelTimer) return;
    this.cancelTimer();
    this.cancelTimer = null;
    void this.connect();
  }

  private setState(state: ConnectionState, reason?: string) {
    if (this.snap.state === state && this.snap.reason === reason) return;
    this.snap = { state, reason };
    for (const fn of [...this.stateListeners]) fn();
  }

  private async connect(): Promise<void> {
    const gen = ++this.generation;
    let ticket: string;
    try {
      const t = await this.api.post<{ ticket: string }>(`/api/servers/${encodeURIComponent(this.serverId)}/ws/ticket`);
      ticket = t.ticket;
    } catch (e) {
      if (gen !== this.generation) return;
      if (e instanceof ApiError && (e.status === 401 || e.status === 403 || e.status === 404)) {
        this.giveUp(ticketRefusal(e));
      } else {
        this.retry(`Cannot reach the live feed (${errorText(e)}); retrying…`);
      }
      return;
    }
    if (gen !== this.generation) return;
    const ws = this.createSocket(socketURL(this.api.base, this.serverId, ticket, this.page ?? window.location));
    this.ws = ws;
    ws.onopen = () => {
      if (gen !== this.generation) return;
      this.openedAt = this.now();
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.setState("open");
      this.send({ type: "request_stats" });
      if (reconnected && this.logsOnReconnect) this.send({ type: "request_logs", lines: LOG_LINES });
    };
    ws.onmessage = (ev) => {
      if (gen !== this.generation) return;
      const m = parseMessage(ev.data);
      if (m) this.dispatch(m);
    };
    ws.onerror = () => {
      // A close event always follows; it decides what happens next.
    };
    ws.onclose = (ev) => {
      if (gen !== this.generation) return;
      this.ws = null;
      this.closed(ev.code, ev.reason);
    };
  }

  private closed(code: number, reason: string) {
    if (!this.running) return;
    const lasted = this.openedAt > 0 ? this.now() - this.openedAt : 0;
    this.openedAt = 0;
    if (lasted >= STABLE_MS) {
      this.attempt = 0;
      this.quick = 0;
    }
    if (code === CloseRevoked) {
      this.giveUp(reason ? `${capitalise(reason)}.` : "Your access to this server was revoked.");
      return;
    }
    if ((code === CloseTokenExpired || code === CloseNodeMoved) && this.quick < MAX_QUICK) {
      this.quick++;
      this.setState("reconnecting", closeReason(code, reason));
      void this.connect();
      return;
    }
    this.retry(closeReason(code, reason));
  }

  private retry(reason: string) {
    const delay = backoffDelay(this.attempt++, this.random());
    this.setState("reconnecting", reason);
    this.cancelTimer = this.setTimer(() => {
      this.cancelTimer = null;
      void this.connect();
    }, delay);
  }

  private giveUp(reason: string) {
    this.running = false;
    this.generation++;
    this.setState("closed", reason);
  }

  private dispatch(m: LiveMessage) {
    if (m.type === "token_expiring") void this.reauth(m.expires_at);
    for (const fn of [...this.listeners]) {
      try {
        fn(m);
      } catch (e) {
        // One broken subscriber must not starve the others.
        console.error("live subscriber failed", e);
      }
    }
  }

  // reauth answers token_expiring with a token that outlives the one the
  // socket holds: the API client's, when it has already moved on to a
  // newer one, else a fresh one. Should it fail, the core closes the
  // socket with 4001 at expiry and it reconnects with a new ticket.
  private async reauth(expiresAt: string) {
    const gen = this.generation;
    try {
      const current = this.api.expiresAt();
      const socketExpiry = Date.parse(expiresAt);
      const newer = current !== null && Number.isFinite(socketExpiry) && current > socketExpiry + 1000;
      const token = newer ? await this.api.token() : (await this.api.refresh()).token;
      if (gen === this.generation) this.send({ type: "auth", token });
    } catch {
      // See above: the close and reconnect take over.
    }
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** LiveOptions gives useLiveConnection's sockets their options: tests
 * provide a fake WebSocket here; the app provides nothing. */
export const LiveOptions = createContext<LiveSocketOptions>({});

/** useLiveConnection keeps a server's socket open while the calling
 * component is mounted (and enabled is not false), and re-renders it on
 * every state change. */
export function useLiveConnection(serverId: string, o: { logsOnReconnect?: boolean; enabled?: boolean } = {}) {
  const api = useApi();
  const options = useContext(LiveOptions);
  const connection = useMemo(() => new LiveSocket(api, serverId, options), [api, serverId, options]);
  const logs = o.logsOnReconnect ?? true;
  useEffect(() => {
    connection.logsOnReconnect = logs;
  }, [connection, logs]);
  const enabled = o.enabled ?? true;
  useEffect(() => {
    if (!enabled) return;
    connection.start();
    return () => connection.stop();
  }, [connection, enabled]);
  const snap = useSyncExternalStore(connection.onStateChange, connection.snapshot);
  return { connection, state: snap.state, reason: snap.reason };
}
