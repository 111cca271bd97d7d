// Which power actions a server's state allows and which permission each
// needs, as core/internal/servers/states.go and the power route say.

import { can, type Server, type ServerState } from "../../api/types";

export type PowerAction = "start" | "stop" | "restart" | "kill";

export const POWER_ACTIONS: PowerAction[] = ["start", "stop", "restart", "kill"];

const FROM: Record<PowerAction, ServerState[]> = {
  start: ["stopped", "crashed"],
  stop: ["starting", "running"],
  restart: ["starting", "running"],
  kill: ["starting", "running", "stopping"],
};

const PERM: Record<PowerAction, string> = {
  start: "server.start",
  restart: "server.start",
  stop: "server.stop",
  kill: "server.stop",
};

/** powerCheck says whether the caller may run action now, and if not,
 * why (for the button's title). */
export function powerCheck(s: Server, action: PowerAction): { allowed: boolean; why?: string } {
  if (!can(s, PERM[action])) return { allowed: false, why: `You need the ${PERM[action]} permission.` };
  if (!FROM[action].includes(s.state)) return { allowed: false, why: `Not possible while the server is ${s.state.replace("_", " ")}.` };
  return { allowed: true };
}

/** acceptsCommands says whether a console command can reach the server
 * in state (the core sends them while starting or running). */
export function acceptsCommands(state: ServerState): boolean {
  return state === "starting" || state === "running";
}
