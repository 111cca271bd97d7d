import { describe, expect, it } from "vitest";
import { rfc3339 } from "../admin/auditQuery";
import { groupPermissions, groupState, keyBody } from "./scopes";

describe("API key scopes", () => {
  it("groups permissions by family in catalogue order", () => {
    expect(groupPermissions(["server.read", "file.read", "server.start", "file.write"])).toEqual([
      { family: "server", perms: ["server.read", "server.start"] },
      { family: "file", perms: ["file.read", "file.write"] },
    ]);
  });

  it("says whether a family is chosen whole, in part or not at all", () => {
    const g = { family: "file", perms: ["file.read", "file.write"] };
    expect(groupState(g, [])).toBe(false);
    expect(groupState(g, ["file.read"])).toBe("indeterminate");
    expect(groupState(g, ["file.write", "file.read", "server.read"])).toBe(true);
  });

  it("sends no scopes for a key with all the user's permissions", () => {
    expect(keyBody({ name: " ci ", access: "all", scopes: ["file.read"], allowedIps: "", expires: "" })).toEqual({ body: { name: "ci" } });
  });

  it("refuses a limited key without permissions rather than send an empty list", () => {
    expect(keyBody({ name: "ci", access: "some", scopes: [], allowedIps: "", expires: "" })).toMatchObject({ field: "scopes" });
    expect(keyBody({ name: "  ", access: "all", scopes: [], allowedIps: "", expires: "" })).toMatchObject({ field: "name" });
  });

  it("sends scopes, addresses and the expiry in UTC", () => {
    const r = keyBody({ name: "ci", access: "some", scopes: ["file.read"], allowedIps: "10.0.0.0/8, 192.0.2.1", expires: "2030-05-01T12:00" });
    expect(r).toEqual({
      body: { name: "ci", scopes: ["file.read"], allowed_ips: ["10.0.0.0/8", "192.0.2.1"], expires_at: rfc3339(new Date(2030, 4, 1, 12, 0)) },
    });
  });
});
