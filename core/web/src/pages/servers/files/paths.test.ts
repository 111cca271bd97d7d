import { describe, expect, it } from "vitest";
import { baseName, canEdit, dirFromSplat, extension, filesHref, isArchive, join, normalize, parent, relativeTo, segments, validName } from "./paths";

describe("volume paths", () => {
  it.each([
    ["", "/"],
    ["/", "/"],
    ["config", "/config"],
    ["//config//plugins/", "/config/plugins"],
    ["/a/./b/../c", "/a/c"],
    ["/../../etc", "/etc"],
  ])("normalize(%j) is %j", (p, want) => {
    expect(normalize(p)).toBe(want);
  });

  it("joins, splits and climbs", () => {
    expect(join("/", "server.properties")).toBe("/server.properties");
    expect(join("/config/", "a.yml")).toBe("/config/a.yml");
    expect(parent("/config/a.yml")).toBe("/config");
    expect(parent("/a.yml")).toBe("/");
    expect(parent("/")).toBe("/");
    expect(baseName("/config/a.yml")).toBe("a.yml");
    expect(baseName("/")).toBe("");
  });

  it("lists breadcrumb segments with their paths", () => {
    expect(segments("/")).toEqual([]);
    expect(segments("/world/region")).toEqual([
      { name: "world", path: "/world" },
      { name: "region", path: "/world/region" },
    ]);
  });

  it("shows search hits relative to the directory searched", () => {
    expect(relativeTo("/config", "/config/plugins/x.yml")).toBe("plugins/x.yml");
    expect(relativeTo("/", "/logs/latest.log")).toBe("logs/latest.log");
    expect(relativeTo("/config", "/other/x")).toBe("/other/x");
  });

  it("refuses names that are not one file name", () => {
    expect(validName("notes.txt")).toBeUndefined();
    expect(validName("  ")).toMatch(/Enter a name/);
    expect(validName("a/b")).toMatch(/“\/”/);
    expect(validName("..")).toMatch(/not a file name/);
    expect(validName("a\nb")).toMatch(/control characters/);
  });
});

describe("files addresses", () => {
  const base = "/servers/abc/files";
  it("encodes each segment so odd names survive the round trip", () => {
    expect(filesHref(base, "/")).toBe("/servers/abc/files/");
    expect(filesHref(base, "/my world/#1 ?x%")).toBe("/servers/abc/files/my%20world/%231%20%3Fx%25");
  });

  it("names the file open in the editor in the query", () => {
    expect(filesHref(base, "/config", { name: "a b.yml" })).toBe("/servers/abc/files/config?edit=a+b.yml");
    expect(filesHref(base, "/", { name: "new.txt", isNew: true })).toBe("/servers/abc/files/?edit=new.txt&new=1");
  });

  it("reads the directory from the route's splat", () => {
    expect(dirFromSplat(undefined)).toBe("/");
    expect(dirFromSplat("")).toBe("/");
    expect(dirFromSplat("world/region/")).toBe("/world/region");
  });
});

describe("file kinds", () => {
  it("keeps archives' double extensions", () => {
    expect(extension("world.tar.gz")).toBe("tar.gz");
    expect(extension("Server.PROPERTIES")).toBe("properties");
    expect(extension("Makefile")).toBe("");
    expect(extension(".env")).toBe("");
  });

  it("knows the archives the agent extracts", () => {
    for (const n of ["a.zip", "a.tar", "a.tar.gz", "a.tgz", "a.tar.xz"]) expect(isArchive(n), n).toBe(true);
    for (const n of ["a.jar", "a.gz", "a.txt"]) expect(isArchive(n), n).toBe(false);
  });

  const file = (name: string, mime_type: string, size = 100) => ({ name, mime_type, size, is_dir: false });
  it.each([
    [file("server.properties", "text/plain"), true],
    [file("ops.json", "application/json"), true],
    [file("bukkit.yml", "application/yaml"), true],
    [file("start", "application/octet-stream"), true],
    [file("Dockerfile", ""), true],
    [file("notes.weird", "text/x-weird"), true],
    [file("server.jar", "application/java-archive"), false],
    [file("icon.png", "image/png"), false],
    [file("r.0.0.mca", "application/octet-stream"), false],
    [file("blob.xyz", "application/octet-stream"), false],
    [file("latest.log", "text/plain", 5 * 1024 * 1024), false],
  ])("canEdit(%o) is %s", (f, want) => {
    expect(canEdit(f)).toBe(want);
  });

  it("never edits a directory", () => {
    expect(canEdit({ name: "config", mime_type: "inode/directory", size: 4096, is_dir: true })).toBe(false);
  });
});
