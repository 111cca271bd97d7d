import { describe, expect, it } from "vitest";
import { languageFor, loadLanguage, type LanguageId } from "./languages";

describe("editor languages", () => {
  it.each([
    ["server.properties", "properties"],
    ["en_us.lang", "properties"],
    ["settings.ini", "properties"],
    ["server.cfg", "properties"],
    [".env", "properties"],
    ["config.toml", "toml"],
    ["bukkit.yml", "yaml"],
    ["docker-compose.YAML", "yaml"],
    ["ops.json", "json"],
    ["pack.mcmeta", "json"],
    ["start.sh", "shell"],
    ["init.lua", "lua"],
    ["index.html", "html"],
    ["plugin.xml", "xml"],
    ["script.ts", "typescript"],
    ["main.js", "javascript"],
    ["Dockerfile", "dockerfile"],
    ["nginx.conf", "nginx"],
    ["latest.log", "text"],
    ["eula", "text"],
  ])("%s is %s", (name, want) => {
    expect(languageFor(name)).toBe(want);
  });

  const ids: LanguageId[] = [
    "json", "yaml", "javascript", "typescript", "html", "xml", "css", "properties", "toml",
    "shell", "powershell", "lua", "python", "sql", "nginx", "dockerfile", "diff",
  ];
  it.each(ids)("loads a grammar for %s", async (id) => {
    expect(await loadLanguage(id)).toBeTruthy();
  });

  it("has no grammar for plain text", async () => {
    expect(await loadLanguage("text")).toBeNull();
  });
});
