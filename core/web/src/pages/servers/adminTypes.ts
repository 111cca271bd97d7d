// What the server pages use of the administrators' node and template
// answers (api.nodeView, store.Template); the admin pages have the rest.

export interface NodeSummary {
  id: string;
  name: string;
  fqdn: string;
  online: boolean;
  maintenance: boolean;
  agent: { resources: { cpu_cores: number } } | null;
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

export interface TemplateSummary {
  id: string;
  name: string;
  description: string;
  images: { label: string; image: string }[];
  variables: TemplateVariable[];
}
