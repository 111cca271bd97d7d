import { afterEach, describe, expect, it } from "vitest";
import { CommandHistory, HISTORY_MAX } from "./history";

afterEach(() => sessionStorage.clear());

describe("CommandHistory", () => {
  it("walks back and forth and restores what was being typed", () => {
    const h = new CommandHistory("s1");
    h.push("list");
    h.push("say hi");
    expect(h.up("hal")).toBe("say hi");
    expect(h.up("say hi")).toBe("list");
    expect(h.up("list")).toBeUndefined();
    expect(h.down()).toBe("say hi");
    expect(h.down()).toBe("hal");
    expect(h.down()).toBeUndefined();
  });

  it("skips a command that repeats the one before and blank ones", () => {
    const h = new CommandHistory("s1");
    h.push("list");
    h.push("list");
    h.push("   ");
    h.push("save-all");
    h.push("list");
    expect(h.entries).toEqual(["list", "save-all", "list"]);
  });

  it("returns to the prompt after a command is sent", () => {
    const h = new CommandHistory("s1");
    h.push("a");
    h.push("b");
    h.up("");
    h.up("b");
    h.push("a"); // sent again from history
    expect(h.up("")).toBe("a");
    expect(h.up("a")).toBe("b");
  });

  it("keeps the newest 100 per server across instances", () => {
    const h = new CommandHistory("s1");
    for (let i = 0; i < HISTORY_MAX + 5; i++) h.push(`cmd ${i}`);
    const again = new CommandHistory("s1");
    expect(again.entries).toHaveLength(HISTORY_MAX);
    expect(again.entries[0]).toBe("cmd 5");
    expect(again.up("")).toBe(`cmd ${HISTORY_MAX + 4}`);
    expect(new CommandHistory("s2").entries).toEqual([]);
  });

  it("ignores a stored history it cannot read", () => {
    sessionStorage.setItem("catalyst.console-history.s1", "{not json");
    expect(new CommandHistory("s1").entries).toEqual([]);
    sessionStorage.setItem("catalyst.console-history.s1", JSON.stringify(["ok", 3, null]));
    expect(new CommandHistory("s1").entries).toEqual(["ok"]);
  });
});
