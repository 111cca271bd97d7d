import { describe, expect, it } from "vitest";
import { check, choices, hints, parseRules } from "./rules";

const ok = (rules: string, v: string) => check(parseRules(rules), v);

describe("variable rules", () => {
  it("splits rules at bars but not inside a regex pattern", () => {
    expect(parseRules("required|string|max:20")).toEqual([{ name: "required" }, { name: "string" }, { name: "max", arg: "20" }]);
    expect(parseRules("required|regex:/^(a|b)$/i|max:3")).toEqual([{ name: "required" }, { name: "regex", arg: "/^(a|b)$/i" }, { name: "max", arg: "3" }]);
    expect(parseRules("Required||IN:x,y")).toEqual([{ name: "required" }, { name: "in", arg: "x,y" }]);
    expect(parseRules("")).toEqual([]);
  });

  it("words the rules as hints", () => {
    expect(hints(parseRules("required|integer|between:1,100"))).toEqual(["Required", "A whole number", "From 1 to 100"]);
    expect(hints(parseRules("string|max:16"))).toEqual(["At most 16 characters"]);
    expect(hints(parseRules("in:survival,creative"))).toEqual(["One of: survival, creative"]);
  });

  it("checks as the core does: lengths for text, values for numbers", () => {
    expect(ok("required|string|max:5", "")).toBe("is required");
    expect(ok("string|max:5", "  ")).toBeNull();
    expect(ok("string|max:5", "abcdef")).toBe("must be at most 5 characters");
    expect(ok("string|min:1", "")).toBeNull();
    expect(ok("integer|between:1,100", "150")).toBe("must be between 1 and 100");
    expect(ok("integer|between:1,100", "50")).toBeNull();
    expect(ok("integer", "5.5")).toBe("must be an integer");
    expect(ok("numeric|min:0.5", "0.25")).toBe("must be at least 0.5");
    expect(ok("max:1", "ab")).toBe("must be at most 1 character");
    expect(ok("boolean", "yes")).toBe("must be true, false, 1 or 0");
    expect(ok("in:a,b", "c")).toBe("must be one of: a, b");
    expect(ok("alpha_dash", "my-world_1")).toBeNull();
    expect(ok("alpha_dash", "my world")).toBe("must contain only letters, digits, dashes and underscores");
    expect(ok("digits:4", "123")).toBe("must be 4 digits");
    expect(ok("url", "https://example.com/x")).toBeNull();
    expect(ok("url", "example.com")).toBe("must be a URL");
    expect(ok("starts_with:http://,https://", "ftp://x")).toBe("must start with one of: http://, https://");
    expect(ok("regex:/^[a-z]+$/i", "Hello")).toBeNull();
    expect(ok("regex:/^[a-z]+$/", "Hello")).toBe("must match the pattern ^[a-z]+$");
    expect(ok("not_regex:/bad/", "so bad")).toBe("must not match the pattern bad");
    // A flag JavaScript has no match for: left to the core.
    expect(ok("regex:/^a+$/U", "b")).toBeNull();
    expect(ok("exists:users", "x")).toBeNull();
  });

  it("offers choices for in and boolean rules", () => {
    expect(choices(parseRules("required|in:peaceful,easy,normal,hard"))).toEqual(["peaceful", "easy", "normal", "hard"]);
    expect(choices(parseRules("boolean"))).toEqual(["true", "false"]);
    expect(choices(parseRules("string|max:3"))).toBeNull();
  });
});
