import type { Server } from "../../api/types";

/** primaryAddress is the server's primary ip:port (IPv6 in brackets), or
 * "" without an allocation. */
export function primaryAddress(s: Pick<Server, "allocations">): string {
  const a = s.allocations.find((x) => x.primary) ?? s.allocations[0];
  if (!a) return "";
  return a.ip.includes(":") ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
}
