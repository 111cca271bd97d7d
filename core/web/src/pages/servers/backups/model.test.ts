import { describe, expect, it } from "vitest";
import { limitInfo, progressPercent, progressText, statusWord, withBackup, type Backup } from "./model";

function backup(id: string, over: Partial<Backup> = {}): Backup {
  return {
    id, name: id, status: "completed", error: "", store: "local", size: 10, sha256: "ab", files: 1, bytes: 10,
    compression: "zstd", locked: false, created_at: "2025-01-01T00:00:00Z", completed_at: null, ...over,
  };
}

describe("backups model", () => {
  it("names each status with its contract word", () => {
    expect(statusWord("creating")).toBe("In progress");
    expect(statusWord("completed")).toBe("Completed");
    expect(statusWord("failed")).toBe("Failed");
  });

  it("replaces a known backup in place and puts a new one first", () => {
    const list = [backup("b2"), backup("b1")];
    const updated = withBackup(list, backup("b1", { status: "failed" }));
    expect(updated.map((b) => [b.id, b.status])).toEqual([["b2", "completed"], ["b1", "failed"]]);
    expect(withBackup(list, backup("b3")).map((b) => b.id)).toEqual(["b3", "b2", "b1"]);
    expect(withBackup(undefined, backup("b1")).map((b) => b.id)).toEqual(["b1"]);
    expect(list.map((b) => b.status)).toEqual(["completed", "completed"]);
  });

  it("counts what the limit counts: failed backups do not", () => {
    const list = [backup("a"), backup("b", { status: "failed" }), backup("c", { status: "creating" })];
    expect(limitInfo(list, 3)).toMatchObject({ used: 2, full: false, blocked: false, text: "2 of 3 backups used" });
    expect(limitInfo(list, 2)).toMatchObject({ full: true, blocked: false });
    expect(limitInfo([backup("a", { locked: true })], 1)).toMatchObject({ full: true, blocked: true });
    expect(limitInfo(list, 0)).toMatchObject({ disabled: true, text: "Backups are turned off for this server." });
    expect(limitInfo(list, null).text).toBe("2 backups · limit: the panel's default");
  });

  it("reports progress as a percentage only when the total is known", () => {
    expect(progressPercent({ bytes: 512, total: 2048 })).toBe(25);
    expect(progressPercent({ bytes: 512, total: 0 })).toBeNull();
    expect(progressText({ bytes: 1536, total: 3072, files: 1 })).toBe("1.5 KiB of 3.0 KiB · 1 file");
    expect(progressText({ bytes: 1536, total: 0, files: 2 })).toBe("1.5 KiB · 2 files");
  });
});
