// The template editor's form: a template turned into what the inputs hold
// and back into the PATCH body (templatePatch in templates_handlers.go),
// and where a field error of the API belongs.

import type { Template, TemplateConfigFile, TemplateImage, TemplateSpec, TemplateVariable } from "./types";

export interface VariableRow extends Required<TemplateVariable> {
  /** A stable React key; not sent. */
  key: string;
}

export interface ImageRow extends TemplateImage {
  key: string;
}

export interface TemplateForm {
  name: string;
  description: string;
  author: string;
  startup: string;
  stop_command: string;
  /** One console pattern per line. */
  startup_done: string;
  install_image: string;
  install_entrypoint: string;
  install_script: string;
  images: ImageRow[];
  variables: VariableRow[];
  /** config_files as JSON text, edited by hand. */
  config_files: string;
  /** One per line. */
  features: string;
  denylist: string;
}

let nextKey = 0;
const newKey = () => `k${++nextKey}`;

export function emptyVariable(): VariableRow {
  return { key: newKey(), name: "", env_name: "", description: "", default: "", user_viewable: true, user_editable: false, rules: "" };
}

export function emptyImage(): ImageRow {
  return { key: newKey(), label: "", image: "" };
}

export function toForm(t: Template): TemplateForm {
  return {
    name: t.name,
    description: t.description,
    author: t.author,
    startup: t.startup,
    stop_command: t.stop_command,
    startup_done: (t.startup_done ?? []).join("\n"),
    install_image: t.install_image,
    install_entrypoint: t.install_entrypoint,
    install_script: t.install_script,
    images: (t.images ?? []).map((im) => ({ ...im, key: newKey() })),
    variables: (t.variables ?? []).map((v) => ({
      key: newKey(),
      name: v.name,
      env_name: v.env_name,
      description: v.description ?? "",
      default: v.default,
      user_viewable: v.user_viewable,
      user_editable: v.user_editable,
      rules: v.rules ?? "",
    })),
    config_files: JSON.stringify(t.config_files ?? [], null, 2),
    features: (t.features ?? []).join("\n"),
    denylist: (t.denylist ?? []).join("\n"),
  };
}

const lines = (s: string) =>
  s
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

// Console patterns are substrings: spaces around one are part of it.
const patterns = (s: string) =>
  s
    .split("\n")
    .map((l) => l.replace(/\r$/, ""))
    .filter((l) => l.trim() !== "");

/** A problem found before sending, named like the API names its fields. */
export interface FormProblem {
  field: string;
  message: string;
}

/** toPatch is the form as the PATCH body, or the first problem the
 * browser can tell (the core checks everything again). */
export function toPatch(f: TemplateForm): { patch: TemplateSpec } | { problem: FormProblem } {
  let configFiles: unknown;
  try {
    configFiles = JSON.parse(f.config_files.trim() || "[]");
  } catch (e) {
    return { problem: { field: "config_files", message: `is not valid JSON: ${(e as Error).message}` } };
  }
  if (!Array.isArray(configFiles)) {
    return { problem: { field: "config_files", message: 'must be a JSON list: [{"path": …, "parser": …, "replace": [{"match": …, "value": …}]}]' } };
  }
  return {
    patch: {
      name: f.name,
      description: f.description,
      author: f.author,
      startup: f.startup,
      stop_command: f.stop_command,
      startup_done: patterns(f.startup_done),
      install_image: f.install_image.trim(),
      install_entrypoint: f.install_entrypoint,
      install_script: f.install_script,
      images: f.images.map(({ label, image }) => ({ label, image })),
      variables: f.variables.map(({ key: _key, ...v }) => v),
      config_files: configFiles as TemplateConfigFile[],
      features: lines(f.features),
      denylist: lines(f.denylist),
    },
  };
}

/** FieldPlace is where an API field error belongs: a top-level field, or
 * one field of one row of a list ("variables[2].rules"). */
export interface FieldPlace {
  field: string;
  index?: number;
  sub?: string;
}

export function placeOf(field: string): FieldPlace {
  const m = /^([a-z_]+)\[(\d+)\](?:\.([a-z_]+))?/.exec(field);
  if (!m) return { field };
  return { field: m[1], index: Number(m[2]), sub: m[3] };
}
