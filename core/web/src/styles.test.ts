import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// The stylesheet is one file that several areas append to. A rule left
// open swallows every rule after it without a word from the build, so
// this checks that each section starts at the top level and the braces
// balance.
describe("styles.css", () => {
  // Vitest runs in core/web.
  const css = readFileSync(join(process.cwd(), "src/styles.css"), "utf8").replace(/\/\*[\s\S]*?\*\//g, (c) => (c.startsWith("/* ----") ? c : ""));
  it("opens and closes every block, and starts each section at the top level", () => {
    let depth = 0;
    const sections: string[] = [];
    css.split("\n").forEach((line, i) => {
      if (line.startsWith("/* ----")) {
        expect(depth, `section "${line}" at line ${i + 1} starts inside a block`).toBe(0);
        sections.push(line);
      }
      for (const ch of line) {
        if (ch === "{") depth++;
        if (ch === "}") depth--;
        expect(depth, `line ${i + 1} closes a block that was never opened`).toBeGreaterThanOrEqual(0);
      }
    });
    expect(depth, "blocks left open at the end").toBe(0);
    expect(sections.length).toBeGreaterThan(3);
  });
});
