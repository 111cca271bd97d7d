// Which syntax the editor highlights a file with, told by its name. The
// mapping is plain data so it can be tested without loading CodeMirror;
// loadLanguage imports the one grammar a file needs on demand.
import type { StreamParser } from "@codemirror/language";
import type { Extension } from "@codemirror/state";
import { extension } from "./paths";

export type LanguageId =
  | "json"
  | "yaml"
  | "javascript"
  | "typescript"
  | "html"
  | "xml"
  | "css"
  | "properties"
  | "toml"
  | "shell"
  | "powershell"
  | "lua"
  | "python"
  | "sql"
  | "nginx"
  | "dockerfile"
  | "diff"
  | "text";

const BY_EXTENSION: Record<string, LanguageId> = {
  json: "json",
  json5: "json",
  jsonc: "json",
  mcmeta: "json",
  yml: "yaml",
  yaml: "yaml",
  js: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  ts: "typescript",
  html: "html",
  htm: "html",
  xml: "xml",
  css: "css",
  // Minecraft's server.properties, language files and most game configs
  // are key=value with # comments and [sections]: the properties mode
  // covers ini as well.
  properties: "properties",
  lang: "properties",
  ini: "properties",
  cfg: "properties",
  conf: "properties",
  env: "properties",
  toml: "toml",
  sh: "shell",
  bash: "shell",
  zsh: "shell",
  ps1: "powershell",
  lua: "lua",
  py: "python",
  sql: "sql",
  diff: "diff",
  patch: "diff",
};

const BY_NAME: Record<string, LanguageId> = {
  dockerfile: "dockerfile",
  "nginx.conf": "nginx",
  ".env": "properties",
};

/** languageFor is the syntax of a file named name; "text" when none fits. */
export function languageFor(name: string): LanguageId {
  const lower = name.toLowerCase();
  return BY_NAME[lower] ?? BY_EXTENSION[extension(lower)] ?? "text";
}

/** loadLanguage imports the grammar of id; text has none. */
export async function loadLanguage(id: LanguageId): Promise<Extension | null> {
  const legacy = async (load: () => Promise<StreamParser<unknown>>) => {
    const [{ StreamLanguage }, parser] = await Promise.all([import("@codemirror/language"), load()]);
    return StreamLanguage.define(parser);
  };
  switch (id) {
    case "json":
      return (await import("@codemirror/lang-json")).json();
    case "yaml":
      return (await import("@codemirror/lang-yaml")).yaml();
    case "javascript":
      return (await import("@codemirror/lang-javascript")).javascript();
    case "typescript":
      return (await import("@codemirror/lang-javascript")).javascript({ typescript: true });
    case "html":
      return (await import("@codemirror/lang-html")).html();
    case "xml":
      return legacy(async () => (await import("@codemirror/legacy-modes/mode/xml")).xml);
    case "css":
      return legacy(async () => (await import("@codemirror/legacy-modes/mode/css")).css);
    case "properties":
      return legacy(async () => (await import("@codemirror/legacy-modes/mode/properties")).properties);
    case "toml":
      return legacy(async () => (await import("@codemirror/legacy-modes/mode/toml")).toml);
    case "shell":
      return legacy(async () => (await import("@codemirror/legacy-modes/mode/shell")).shell);
    case "powershell":
      return legacy(async () => (await import("@codemirror/legacy-modes/mode/powershell")).powerShell);
    case "lua":
      return legacy(async () => (await import("@codemirror/legacy-modes/mode/lua")).lua);
    case "python":
      return legacy(async () => (await import("@codemirror/legacy-modes/mode/python")).python);
    case "sql":
      return legacy(async () => (await import("@codemirror/legacy-modes/mode/sql")).standardSQL);
    case "nginx":
      return legacy(async () => (await import("@codemirror/legacy-modes/mode/nginx")).nginx);
    case "dockerfile":
      return legacy(async () => (await import("@codemirror/legacy-modes/mode/dockerfile")).dockerFile);
    case "diff":
      return legacy(async () => (await import("@codemirror/legacy-modes/mode/diff")).diff);
    case "text":
      return null;
  }
}
