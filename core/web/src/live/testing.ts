// Fakes for tests of the live connection and the pages on it: a WebSocket
// under the real connection, and a connection in place of it.

import { act } from "@testing-library/react";
import type { LiveSocketOptions, SocketLike } from "./socket";
import type { ConnectionState, LiveConnection, LiveMessage } from "./types";

export class FakeSocket implements SocketLike {
  readyState = 0;
  /** What the page sent, decoded. */
  sent: unknown[] = [];
  closedWith?: { code?: number; reason?: string };
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly url: string;

  constructor(url: string) {
    this.url = url;
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code?: number, reason?: string) {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  // What the core does:
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(m: unknown) {
    this.onmessage?.({ data: typeof m === "string" ? m : JSON.stringify(m) });
  }
  drop(code: number, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

/** fakeSockets returns socket options whose sockets are kept in list, and
 * whose reconnect timers never fire by themselves. */
export function fakeSockets(): { options: LiveSocketOptions; list: FakeSocket[]; last: () => FakeSocket | undefined } {
  const list: FakeSocket[] = [];
  return {
    list,
    last: () => list[list.length - 1],
    options: {
      createSocket: (url) => {
        const s = new FakeSocket(url);
        list.push(s);
        return s;
      },
      setTimer: () => () => undefined,
      random: () => 0,
      page: { protocol: "http:", host: "panel.test" },
    },
  };
}

/** FakeLive is a server's live connection whose messages the test sends. */
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
