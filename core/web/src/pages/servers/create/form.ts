// The create-server form's logic: defaults, the order nodes are offered
// in, checks made before asking the API, and the request it sends.

import type { NodeSummary, TemplateSummary, TemplateVariable } from "../../admin/types";

export interface CreateForm {
  name: string;
  description: string;
  templateId: string;
  image: string;
  nodeId: string;
  /** An email or user name; "" for the caller. */
  owner: string;
  memoryMb: string;
  cpuPercent: string;
  diskMb: string;
  environment: Record<string, string>;
}

export const DEFAULT_RESOURCES = { memoryMb: "2048", cpuPercent: "200", diskMb: "10240" };

/** Form keys of the fields that can carry an error; a variable's is
 * "environment.<ENV_NAME>", as the API names it. */
export type FieldKey = "name" | "description" | "templateId" | "image" | "nodeId" | "owner" | "memoryMb" | "cpuPercent" | "diskMb" | `environment.${string}`;

const API_FIELDS: Record<string, FieldKey> = {
  name: "name",
  description: "description",
  template_id: "templateId",
  image: "image",
  node_id: "nodeId",
  // No free allocation is the node's problem, as the user sees it.
  allocation_id: "nodeId",
  owner_id: "owner",
  memory_mb: "memoryMb",
  cpu_percent: "cpuPercent",
  disk_mb: "diskMb",
};

/** fieldFor maps the API's error field to the form's, or undefined when
 * the form has no such field. */
export function fieldFor(apiField: string | undefined): FieldKey | undefined {
  if (!apiField) return undefined;
  if (apiField.startsWith("environment.")) return apiField as FieldKey;
  return API_FIELDS[apiField];
}

/** orderNodes lists nodes ready for a server first (online, not in
 * maintenance), then the others, each by name. */
export function orderNodes(nodes: NodeSummary[]): NodeSummary[] {
  const rank = (n: NodeSummary) => (n.online && !n.maintenance ? 0 : n.online ? 1 : 2);
  return [...nodes].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

export function nodeStatus(n: NodeSummary): string {
  if (n.maintenance) return "maintenance";
  return n.online ? "online" : "offline";
}

/** editableVariables are the template variables the caller may set. */
export function editableVariables(t: TemplateSummary | undefined, admin: boolean): TemplateVariable[] {
  return (t?.variables ?? []).filter((v) => admin || v.user_editable);
}

/** templateDefaults are the values a template's variables start with. */
export function templateDefaults(t: TemplateSummary | undefined, admin: boolean): Record<string, string> {
  return Object.fromEntries(editableVariables(t, admin).map((v) => [v.env_name, v.default]));
}

/** check finds what the API would refuse without asking it. */
export function check(f: CreateForm): Partial<Record<FieldKey, string>> {
  const errors: Partial<Record<FieldKey, string>> = {};
  if (!f.name.trim()) errors.name = "Enter a name for the server.";
  if (!f.templateId) errors.templateId = "Choose a template.";
  if (!f.nodeId) errors.nodeId = "Choose a node.";
  const positive = (v: string) => /^\d+$/.test(v.trim()) && Number(v) > 0;
  if (!positive(f.memoryMb)) errors.memoryMb = "Enter a whole number of MiB, more than 0.";
  if (!positive(f.cpuPercent)) errors.cpuPercent = "Enter a whole percentage, more than 0 (100 is one core).";
  if (!positive(f.diskMb)) errors.diskMb = "Enter a whole number of MiB, more than 0.";
  return errors;
}

/** serverCreate is the body of POST /api/servers (api.serverCreate). */
export interface ServerCreateRequest {
  name: string;
  description: string;
  owner_id?: string;
  node_id: string;
  template_id: string;
  image?: string;
  memory_mb: number;
  cpu_percent: number;
  disk_mb: number;
  environment: Record<string, string>;
}

export function toRequest(f: CreateForm, ownerId: string | undefined): ServerCreateRequest {
  return {
    name: f.name.trim(),
    description: f.description.trim(),
    owner_id: ownerId,
    node_id: f.nodeId,
    template_id: f.templateId,
    image: f.image || undefined,
    memory_mb: Number(f.memoryMb),
    cpu_percent: Number(f.cpuPercent),
    disk_mb: Number(f.diskMb),
    environment: f.environment,
  };
}
