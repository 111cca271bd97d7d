// Accounts and servers for tests, with defaults a test overrides field by
// field. Only tests import this.

import type { Account, Server } from "../api/types";

export const adminAccount: Account = {
  id: "u-admin",
  email: "admin@example.com",
  username: "admin",
  admin: true,
  totp_enabled: false,
  created_at: "2026-01-01T00:00:00Z",
};

/** makeAccount is a non-admin account, the owner of makeServer's server. */
export function makeAccount(over: Partial<Account> = {}): Account {
  return { id: "u1", email: "owner@example.com", username: "owner", admin: false, totp_enabled: false, created_at: "2025-01-01T00:00:00Z", ...over };
}

/** Every permission a server grants, as the core's catalogue lists them. */
export const ALL_SERVER_PERMISSIONS = [
  "server.read", "server.update", "server.delete", "server.start", "server.stop", "server.console",
  "file.read", "file.read-content", "file.write", "file.delete", "file.archive", "file.sftp",
  "backup.create", "backup.restore", "backup.delete", "backup.download",
  "schedule.manage", "subuser.manage", "alert.manage",
  "startup.read", "startup.update", "startup.image",
];

/** makeServer is server srv1, "Survival", stopped, its caller holding
 * every permission. */
export function makeServer(over: Partial<Server> = {}): Server {
  return {
    id: "srv1",
    short_id: "abcd1234",
    name: "Survival",
    description: "The main world",
    owner_id: "u1",
    node_id: "n1",
    template_id: "t1",
    state: "stopped",
    state_reason: "",
    memory_mb: 2048,
    cpu_percent: 200,
    disk_mb: 10240,
    pids_limit: 2048,
    image: "ghcr.io/catalyst/java:21",
    environment: {},
    restart: { mode: "on_crash", max_restarts: 5, window_seconds: 600, backoff_ms: 1000, clean_exit_is_crash: false },
    crash_count: 0,
    last_exit_code: null,
    last_oom_killed: false,
    crashed_at: null,
    backup_limit: null,
    allocations: [{ ip: "10.0.0.5", port: 25565, primary: true }],
    permissions: ALL_SERVER_PERMISSIONS,
    created_at: "2025-01-01T00:00:00Z",
    ...over,
  };
}

let serial = 0;

/** nextServer is a running server with an id and a name of its own each
 * call (srv-00000001, "Server 1", …): 1 GiB, one core and 5 GiB of disk
 * on node-1. For lists of servers and the server view. */
export function nextServer(over: Partial<Server> = {}): Server {
  serial++;
  const id = over.id ?? `srv-${String(serial).padStart(8, "0")}`;
  return makeServer({ id, short_id: id.slice(-8), name: `Server ${serial}`, description: "", node_id: "node-1", state: "running", memory_mb: 1024, cpu_percent: 100, disk_mb: 5120, ...over });
}
