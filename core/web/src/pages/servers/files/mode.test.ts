import { describe, expect, it } from "vitest";
import { formatOctal, fromBits, parseOctal, symbolic, toBits } from "./mode";

describe("permission bits", () => {
  it.each([
    ["644", 0o644],
    ["0644", 0o644],
    [" 755 ", 0o755],
    ["4755", 0o4755],
    ["0000", 0],
  ])("parseOctal(%j) reads it", (s, want) => {
    expect(parseOctal(s)).toBe(want);
  });

  it.each(["", "64", "12345", "0648", "rwx", "0x1f"])("parseOctal(%j) refuses it", (s) => {
    expect(parseOctal(s)).toBeNull();
  });

  it("formats the four digits the API takes", () => {
    expect(formatOctal(0o644)).toBe("0644");
    expect(formatOctal(0o4755)).toBe("4755");
    expect(formatOctal(0o7)).toBe("0007");
  });

  it("turns a mode into the nine boxes and back", () => {
    const bits = toBits(0o754);
    expect(bits).toEqual([true, true, true, true, false, true, true, false, false]);
    expect(fromBits(bits)).toBe(0o754);
    for (let m = 0; m <= 0o777; m++) expect(fromBits(toBits(m))).toBe(m);
  });

  it("keeps the special bits the boxes do not show", () => {
    const bits = toBits(0o4755);
    bits[8] = false; // others' execute
    expect(fromBits(bits, 0o4755)).toBe(0o4754);
  });

  it.each([
    [0o644, false, "-rw-r--r--"],
    [0o755, true, "drwxr-xr-x"],
    [0o4755, false, "-rwsr-xr-x"],
    [0o2644, false, "-rw-r-Sr--"],
    [0o1777, true, "drwxrwxrwt"],
    [0o1776, true, "drwxrwxrwT"],
  ])("symbolic(%o) is %s", (m, dir, want) => {
    expect(symbolic(m, dir)).toBe(want);
  });
});
