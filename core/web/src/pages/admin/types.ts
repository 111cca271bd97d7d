// Shapes of the admin API's answers, as the Go handlers write them
// (core/internal/api: nodes_handlers.go, metrics_handlers.go,
// templates_handlers.go, template_import_handlers.go, alerts_handlers.go,
// admin_handlers.go; store models in core/internal/store).

export interface AgentResources {
  hostname: string;
  os: string;
  arch: string;
  cpu_cores: number;
  memory_bytes: number;
  disk_bytes: number;
  disk_free_bytes: number;
  runtime: string;
}

export interface NodeView {
  id: string;
  name: string;
  fqdn: string;
  memory_mb: number;
  memory_overallocate: number;
  disk_mb: number;
  disk_overallocate: number;
  maintenance: boolean;
  enrolled: boolean;
  agent_version: string;
  last_seen_at: string | null;
  created_at: string;
  /** The agent is connected; agent describes it then. */
  online: boolean;
  agent: { version: string; capabilities: string[]; resources: AgentResources; connected_at: string } | null;
}

/** nodeCreate of nodes_handlers.go. */
/** What the server pages read of a node (ServerList, CreateServer,
 * TransferCard); tests give them no more. */
export type NodeSummary = Pick<NodeView, "id" | "name" | "fqdn" | "online" | "maintenance"> & {
  agent: { resources: Pick<AgentResources, "cpu_cores"> } | null;
};

export interface NodeCreate {
  name: string;
  fqdn: string;
  memory_mb: number;
  disk_mb: number;
  memory_overallocate?: number;
  disk_overallocate?: number;
}

export interface NodeCreated {
  node: NodeView;
  deploy_token: string;
  agent_command: string;
}

/** wire.NodeHealth. */
export interface NodeHealth {
  at: string;
  cpu_percent: number;
  cpu_cores: number;
  memory_used_bytes: number;
  memory_total_bytes: number;
  disk_used_bytes: number;
  disk_total_bytes: number;
  load1: number;
  load5: number;
  load15: number;
  containers: number;
}

export interface NodeStats {
  node_id: string;
  online: boolean;
  sample: NodeHealth | null;
}

/** store.NodeMetricPoint. */
export interface NodeMetricPoint {
  at: string;
  samples: number;
  cpu_percent: number;
  memory_used_bytes: number;
  memory_used_max_bytes: number;
  memory_total_bytes: number;
  disk_used_bytes: number;
  disk_total_bytes: number;
  load1: number;
  load5: number;
  load15: number;
  containers: number;
}

export interface NodeHistory {
  node_id: string;
  from: string;
  to: string;
  step_seconds: number;
  points: NodeMetricPoint[];
}

export interface AllocationRecord {
  id: string;
  node_id: string;
  ip: string;
  port: number;
  server_id: string | null;
  primary: boolean;
  created_at: string;
}

export interface ImportResult {
  images: string[];
}

// --- templates ---

export interface TemplateImage {
  label: string;
  image: string;
}

export interface TemplateVariable {
  name: string;
  env_name: string;
  description?: string;
  default: string;
  user_viewable: boolean;
  user_editable: boolean;
  rules?: string;
}

export interface TemplateConfigFile {
  path: string;
  parser: string;
  replace: { match: string; value: string }[];
}

/** templates.Spec: what creating a template takes. */
export interface TemplateSpec {
  name: string;
  description: string;
  author: string;
  images: TemplateImage[];
  startup: string;
  stop_command: string;
  startup_done: string[];
  install_image: string;
  install_entrypoint: string;
  install_script: string;
  variables: TemplateVariable[];
  config_files: TemplateConfigFile[];
  features: string[];
  denylist: string[];
}

/** store.Template. */
export interface Template extends TemplateSpec {
  id: string;
  source: string;
  source_ref: string;
  source_version: string;
  created_at: string;
  updated_at: string;
}

/** What creating a server reads of a template. */
export type TemplateSummary = Pick<Template, "id" | "name" | "description" | "images" | "variables">;

export interface TemplateImported {
  template: Template;
  warnings: string[];
  created: boolean;
}

export interface TemplateSource {
  name: string;
  version: string;
  health: string;
  templates: number | null;
  error?: string;
}

export interface SourceTemplate {
  ref: string;
  name: string;
  description: string;
  version: string;
  template_id?: string;
  imported_version?: string;
  imported: boolean;
  update_available: boolean;
}

// --- alerts ---

export interface AlertRule {
  id: string;
  server_id: string | null;
  name: string;
  type: string;
  threshold: number;
  for_seconds: number;
  severity: string;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

/** alerts.RuleSpec: on update, absent fields keep their value. */
export interface RuleSpec {
  name?: string;
  type?: string;
  threshold?: number;
  for_seconds?: number;
  severity?: string;
  enabled?: boolean;
}

export interface Alert {
  id: string;
  rule_id: string | null;
  rule_name: string;
  target: string;
  server_id: string | null;
  node_id: string | null;
  type: string;
  severity: string;
  status: "open" | "resolved";
  title: string;
  body: string;
  value: string;
  occurrences: number;
  opened_at: string;
  last_seen_at: string;
  resolved_at: string | null;
  resolved_by: string;
}

export interface SinkView {
  sink: string;
  pending: number;
  delivered: number;
  failed: number;
  last_error: string;
  last_error_at: string | null;
  last_delivered_at: string | null;
  configured: boolean;
}

export interface Delivery {
  id: string;
  sink: string;
  webhook_id?: string;
  event: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  next_attempt_at: string;
  last_error: string;
  last_error_at: string | null;
  last_attempt_at: string | null;
  delivered_at: string | null;
  created_at: string;
}

// --- users, audit, plugins ---

export interface UserPage<U> {
  users: U[];
  /** The cursor ("after") of the next page; empty at the end. */
  next: string;
}

export interface AuditEntry {
  id: string;
  created_at: string;
  actor_id: string | null;
  actor_type: string;
  ip: string;
  action: string;
  target_type: string;
  target_id: string;
  server_id: string | null;
  outcome: "success" | "failure" | "denied" | string;
  metadata: Record<string, unknown>;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** The cursor ("before") of the next page; empty at the end. */
  next: string;
}

/** host.Status of a plugin. */
export interface PluginStatus {
  name: string;
  kind: string;
  version: string;
  api_version: string;
  path: string;
  health: string;
  restarts: number;
  pid?: number;
  started_at?: string;
  last_error?: string;
}

export interface SSHKey {
  id: string;
  name: string;
  public_key: string;
  fingerprint: string;
  created_at: string;
}
