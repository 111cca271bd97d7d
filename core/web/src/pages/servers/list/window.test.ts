import { describe, expect, it } from "vitest";
import { windowOf } from "./window";

describe("windowOf", () => {
  it("renders the rows in view and a few around them", () => {
    // 500 rows 50 px apart, the viewport 600 px high, scrolled 1000 px in.
    const w = windowOf(500, 50, 0, 1000, 600, 5);
    expect(w).toEqual({ start: 15, end: 37, before: 750, after: 463 * 50 });
  });

  it("starts at the top and ends at the bottom", () => {
    expect(windowOf(500, 50, 0, 0, 600, 5)).toEqual({ start: 0, end: 17, before: 0, after: 483 * 50 });
    expect(windowOf(500, 50, 0, 500 * 50 - 600, 600, 5)).toEqual({ start: 483, end: 500, before: 483 * 50, after: 0 });
  });

  it("keeps a short list whole", () => {
    expect(windowOf(3, 50, 0, 0, 600, 5)).toEqual({ start: 0, end: 3, before: 0, after: 0 });
  });

  it("takes a list below the viewport's top (offset negative) as starting at row 0", () => {
    expect(windowOf(100, 50, 0, -300, 600, 2)).toEqual({ start: 0, end: 8, before: 0, after: 92 * 50 });
  });

  it("leaves a gap's room beside each spacer in a flex column", () => {
    // Cards 140 px high, 10 px apart: the spacers plus the gaps flex adds
    // beside them put row 20 where it would be.
    const w = windowOf(100, 150, 10, 3000, 600, 0);
    expect(w.start).toBe(20);
    expect(w.before + 10).toBe(20 * 150);
    expect(w.after + 10).toBe((100 - w.end) * 150);
  });
});
