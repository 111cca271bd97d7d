import { createContext, useContext, useEffect, useRef } from "react";
import type { Server } from "../../api/types";
import type { LiveConnection, LiveMessage } from "../../live/types";

/** What the server view gives its tabs. */
export interface ServerContextValue {
  server: Server;
  /** The server's WebSocket, shared by every tab. */
  live: LiveConnection;
}

export const ServerContext = createContext<ServerContextValue | null>(null);

export function useServer(): ServerContextValue {
  const v = useContext(ServerContext);
  if (!v) throw new Error("useServer outside the server view");
  return v;
}

/** useLive calls handler with each message of the server's socket whose
 * type is one of types. */
export function useLive(types: LiveMessage["type"][], handler: (m: LiveMessage) => void) {
  const { live } = useServer();
  const ref = useRef(handler);
  ref.current = handler;
  const key = types.join(",");
  useEffect(() => {
    const want = new Set(key.split(","));
    return live.subscribe((m) => {
      if (want.has(m.type)) ref.current(m);
    });
  }, [live, key]);
}
