// The server view for tests of it and of the tabs that need the whole
// view (its socket, its header): ServerView at /servers/:id on the fake
// panel of src/test, its live connection on fake sockets. Only tests
// import this.

import type { ReactNode } from "react";
import { Route, Routes } from "react-router";
import type { Account, Server } from "../../api/types";
import { LiveOptions } from "../../live/socket";
import { fakeSockets } from "../../live/testing";
import { FakePanel, ok, renderWithPanel } from "../../test/panel";
import ServerView from "./ServerView";

export interface ServerViewOptions {
  /** The tab routes under the view ("console", "stats", …). */
  tabs: ReactNode;
  /** The tab the router opens at. */
  tab: string;
  panel?: FakePanel;
  account?: Account;
}

/** renderServerView opens srv's view at a tab; null opens the view of a
 * server the panel does not have. The panel answers the server (as it is
 * when asked) and socket tickets, besides its own routes. */
export function renderServerView(srv: Server | null, o: ServerViewOptions) {
  const sockets = fakeSockets();
  const panel = o.panel ?? new FakePanel();
  if (srv) panel.on(`GET /api/servers/${srv.id}`, () => ok(srv));
  panel.on("POST /api/servers/:id/ws/ticket", () => ok({ ticket: "tk", expires_at: new Date().toISOString() }, 201));
  const view = renderWithPanel(
    <Routes>
      <Route
        path="/servers/:id"
        element={
          <LiveOptions.Provider value={sockets.options}>
            <ServerView />
          </LiveOptions.Provider>
        }
      >
        {o.tabs}
      </Route>
    </Routes>,
    { panel, account: o.account, at: `/servers/${srv?.id ?? "missing"}/${o.tab}` },
  );
  return { ...view, sockets };
}
