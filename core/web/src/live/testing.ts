// A fake WebSocket for tests of the live connection and the pages on it.

import type { LiveSocketOptions, SocketLike } from "./socket";

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
