import { describe as suite, expect, it } from "vitest";
import { DESCRIPTIONS, describe, groupPermissions, groupState, setGroup, summary, toggle } from "./permissions";
import { ALL_SERVER_PERMISSIONS } from "../../../test/fixtures";

const all = () => true;

suite("subuser permissions", () => {
  it("groups the catalogue by area in the catalogue's order, unknown ones under Other", () => {
    const groups = groupPermissions([...ALL_SERVER_PERMISSIONS, "map.view"]);
    expect(groups.map((g) => g.label)).toEqual(["Server", "Console and power", "Files", "Backups", "Schedules", "Startup", "Subusers", "Alerts and webhooks", "Other"]);
    expect(groups.find((g) => g.id === "power")!.permissions).toEqual(["server.start", "server.stop", "server.console"]);
    expect(groups.find((g) => g.id === "files")!.permissions).toEqual(["file.read", "file.read-content", "file.write", "file.delete", "file.archive", "file.sftp"]);
    expect(groups.find((g) => g.id === "other")!.permissions).toEqual(["map.view"]);
    // Every permission lands in exactly one group.
    expect(groups.flatMap((g) => g.permissions).sort()).toEqual([...ALL_SERVER_PERMISSIONS, "map.view"].sort());
  });

  it("leaves out empty areas", () => {
    expect(groupPermissions(["file.read"]).map((g) => g.id)).toEqual(["files"]);
  });

  it("explains every permission of the catalogue in words", () => {
    for (const p of ALL_SERVER_PERMISSIONS) expect(DESCRIPTIONS[p], p).toMatch(/^[A-Z].+\.$/);
    expect(describe("map.view")).toBe("map.view");
  });

  it("selects and clears a whole group, skipping what may not be granted", () => {
    const [files] = groupPermissions(["file.read", "file.write", "file.delete"]);
    const grantable = (p: string) => p !== "file.delete";
    const none = new Set<string>(["backup.create"]);
    expect(groupState(files, none, grantable)).toBe(false);
    const some = toggle(none, "file.read", true);
    expect(groupState(files, some, grantable)).toBe("indeterminate");
    const full = setGroup(files, some, true, grantable);
    expect([...full].sort()).toEqual(["backup.create", "file.read", "file.write"]);
    expect(groupState(files, full, grantable)).toBe(true);
    const cleared = setGroup(files, new Set([...full, "file.delete"]), false, grantable);
    // A permission the granter lacks is neither added nor taken away.
    expect([...cleared].sort()).toEqual(["backup.create", "file.delete"]);
    expect(groupState(files, new Set(), () => false)).toBe(false);
  });

  it("counts what a subuser holds by area", () => {
    const groups = groupPermissions(ALL_SERVER_PERMISSIONS);
    expect(summary(groups, ["file.read", "file.write", "server.read"])).toEqual([
      { label: "Server", held: 1, of: 3 },
      { label: "Files", held: 2, of: 6 },
    ]);
    expect(groupState(groups[0], new Set(["server.read"]), all)).toBe("indeterminate");
  });
});
