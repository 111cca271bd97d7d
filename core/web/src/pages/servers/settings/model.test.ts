import { describe, expect, it } from "vitest";
import { makeServer } from "../../../test/fixtures";
import { resourceChange, resourceFormOf, sftpCommand } from "./model";

describe("settings model", () => {
  it("writes the sftp command line, bracketing an IPv6 host", () => {
    expect(sftpCommand({ host: "node1.example.com", port: 2022, username: "alice.abcd1234" })).toBe("sftp -P 2022 alice.abcd1234@node1.example.com");
    expect(sftpCommand({ host: "2001:db8::5", port: 22, username: "bob.x" })).toBe("sftp -P 22 bob.x@[2001:db8::5]");
  });

  it("sends only the resources that changed", () => {
    const s = makeServer({ memory_mb: 2048, cpu_percent: 200, disk_mb: 10240, backup_limit: null });
    const f = resourceFormOf(s);
    expect(resourceChange(s, f)).toEqual({ change: {} });
    expect(resourceChange(s, { ...f, memory_mb: " 4096 ", backup_limit: "3" })).toEqual({ change: { memory_mb: 4096, backup_limit: 3 } });
    expect(resourceChange(makeServer({ backup_limit: 3 }), { ...resourceFormOf(makeServer({ backup_limit: 3 })), backup_limit: "" })).toEqual({ change: { backup_limit: -1 } });
    expect(resourceChange(s, { ...f, cpu_percent: "1.5" })).toEqual({ field: "cpu_percent", message: "must be a whole number" });
    expect(resourceChange(s, { ...f, backup_limit: "x" })).toMatchObject({ field: "backup_limit" });
  });
});
