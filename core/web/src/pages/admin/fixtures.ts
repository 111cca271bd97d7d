// Records the admin pages' tests share.

import type { NodeView, Template } from "./types";

export const sampleTemplate: Template = {
  id: "t1",
  name: "Minecraft",
  description: "Java edition",
  author: "ops@example.com",
  images: [{ label: "Java 21", image: "ghcr.io/example/java:21" }],
  startup: "java -Xmx{{SERVER_MEMORY}}M -jar {{SERVER_JARFILE}}",
  stop_command: "stop",
  startup_done: [")! For help, type "],
  install_image: "debian:bookworm-slim",
  install_entrypoint: "/bin/sh",
  install_script: "echo install",
  variables: [{ name: "Jar file", env_name: "SERVER_JARFILE", default: "server.jar", user_viewable: true, user_editable: true, rules: "required|string" }],
  config_files: [{ path: "server.properties", parser: "properties", replace: [{ match: "server-port", value: "{{SERVER_PORT}}" }] }],
  features: ["eula"],
  denylist: [],
  source: "",
  source_ref: "",
  source_version: "",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-02T00:00:00Z",
};

/** sampleNode is node-1, enrolled and offline, with over's fields. */
export function sampleNode(over: Partial<NodeView> = {}): NodeView {
  return {
    id: "n1",
    name: "node-1",
    fqdn: "node1.example.com",
    memory_mb: 8192,
    memory_overallocate: 0,
    disk_mb: 102400,
    disk_overallocate: 0,
    maintenance: false,
    enrolled: true,
    agent_version: "1.0.0",
    last_seen_at: null,
    created_at: "2026-01-01T00:00:00Z",
    online: false,
    agent: null,
    ...over,
  };
}
