// A template variable's rules ("required|integer|between:1,100", the
// notation of sdk/varrules) read in the browser, for hints beside the
// field and a check before saving. The core checks again and has the last
// word: a rule this reading does not know is left to it.

export interface Rule {
  name: string;
  arg?: string;
}

/** parseRules splits a rule string at "|", except inside the delimited
 * pattern of a regex or not_regex rule. */
export function parseRules(s: string): Rule[] {
  const out: Rule[] = [];
  let rest = s;
  while (rest.length > 0) {
    let end = rest.indexOf("|", regexRuleLength(rest));
    if (end < 0) end = rest.length;
    const tok = rest.slice(0, end).trim();
    if (tok) {
      const i = tok.indexOf(":");
      out.push(i < 0 ? { name: tok.toLowerCase() } : { name: tok.slice(0, i).trim().toLowerCase(), arg: tok.slice(i + 1) });
    }
    rest = rest.slice(end + 1);
  }
  return out;
}

// regexRuleLength is the length of a regex rule with a closed pattern at
// the start of s (flags included), or 0.
function regexRuleLength(s: string): number {
  const i = s.indexOf(":");
  if (i < 0) return 0;
  const name = s.slice(0, i).trim().toLowerCase();
  if (name !== "regex" && name !== "not_regex") return 0;
  const arg = s.slice(i + 1);
  const close = closingDelimiter(arg);
  if (close < 0) return 0;
  let n = close + 1;
  while (n < arg.length && /[a-zA-Z]/.test(arg[n])) n++;
  return i + 1 + n;
}

function closingDelimiter(arg: string): number {
  if (!arg || /[a-zA-Z0-9\\\s]/.test(arg[0])) return -1;
  const open = arg[0];
  const closer = { "(": ")", "[": "]", "{": "}", "<": ">" }[open] ?? open;
  let depth = 0;
  for (let i = 1; i < arg.length; i++) {
    const c = arg[i];
    if (c === "\\") i++;
    else if (c === closer && depth === 0) return i;
    else if (c === closer) depth--;
    else if (c === open && open !== closer) depth++;
  }
  return -1;
}

const has = (rs: Rule[], name: string) => rs.some((r) => r.name === name);
const nums = (r: Rule) => (r.arg ?? "").split(",").map((x) => x.trim());
const list = (r: Rule) => (r.arg ?? "").split(",").map((x) => x.trim().replace(/^"(.*)"$/, "$1"));

/** choices are the values a select may offer: an "in" rule's list, or
 * true/false for a boolean. */
export function choices(rs: Rule[]): string[] | null {
  const inRule = rs.find((r) => r.name === "in");
  if (inRule) return list(inRule);
  if (has(rs, "boolean")) return ["true", "false"];
  return null;
}

/** hints describe the rules in words, for the field's hint. */
export function hints(rs: Rule[]): string[] {
  const numeric = has(rs, "integer") || has(rs, "numeric");
  const unit = numeric ? "" : " characters";
  const out: string[] = [];
  for (const r of rs) {
    const n = nums(r);
    switch (r.name) {
      case "required":
        out.push("Required");
        break;
      case "integer":
        out.push("A whole number");
        break;
      case "numeric":
        out.push("A number");
        break;
      case "boolean":
        out.push("true or false");
        break;
      case "min":
        out.push(`At least ${n[0]}${unit}`);
        break;
      case "max":
        out.push(`At most ${n[0]}${unit}`);
        break;
      case "between":
        out.push(`From ${n[0]} to ${n[1]}${unit}`);
        break;
      case "size":
        out.push(numeric ? `Exactly ${n[0]}` : `Exactly ${n[0]} characters`);
        break;
      case "in":
        out.push(`One of: ${list(r).join(", ")}`);
        break;
      case "not_in":
        out.push(`Not: ${list(r).join(", ")}`);
        break;
      case "alpha":
        out.push("Letters only");
        break;
      case "alpha_num":
        out.push("Letters and digits only");
        break;
      case "alpha_dash":
        out.push("Letters, digits, dashes and underscores");
        break;
      case "digits":
        out.push(`${n[0]} digits`);
        break;
      case "digits_between":
        out.push(`${n[0]} to ${n[1]} digits`);
        break;
      case "url":
        out.push("A URL");
        break;
      case "ip":
        out.push("An IP address");
        break;
      case "regex":
        out.push(`Matches ${r.arg}`);
        break;
      case "not_regex":
        out.push(`Does not match ${r.arg}`);
        break;
      case "starts_with":
        out.push(`Starts with ${list(r).join(" or ")}`);
        break;
      case "ends_with":
        out.push(`Ends with ${list(r).join(" or ")}`);
        break;
    }
  }
  return out;
}

const INTEGER = /^[+-]?[0-9]+$/;
const NUMERIC = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
const DIGITS = /^[0-9]+$/;

/** check gives the first rule value breaks, worded as the core words it
 * ("must be at most 20 characters"), or null when it passes every rule
 * this reading knows. */
export function check(rs: Rule[], value: string): string | null {
  if (value.trim() === "") return has(rs, "required") ? "is required" : null;
  const numeric = has(rs, "integer") || has(rs, "numeric");
  const t = value.trim();
  const asNumber = numeric && NUMERIC.test(t);
  const size = asNumber ? Number(t) : [...value].length;
  const unit = (bound: string) => (asNumber ? "" : bound === "1" ? " character" : " characters");
  for (const r of rs) {
    const n = nums(r);
    switch (r.name) {
      case "integer":
        if (!INTEGER.test(value)) return "must be an integer";
        break;
      case "numeric":
        if (!NUMERIC.test(value)) return "must be a number";
        break;
      case "boolean":
        if (!["true", "false", "1", "0"].includes(value)) return "must be true, false, 1 or 0";
        break;
      case "min":
        if (size < Number(n[0])) return `must be at least ${n[0]}${unit(n[0])}`;
        break;
      case "max":
        if (size > Number(n[0])) return `must be at most ${n[0]}${unit(n[0])}`;
        break;
      case "between":
        if (size < Number(n[0]) || size > Number(n[1])) return `must be between ${n[0]} and ${n[1]}${unit(n[1])}`;
        break;
      case "size":
        if (size !== Number(n[0])) return asNumber ? `must be ${n[0]}` : `must be exactly ${n[0]}${unit(n[0])}`;
        break;
      case "in":
        if (!list(r).includes(value)) return `must be one of: ${list(r).join(", ")}`;
        break;
      case "not_in":
        if (list(r).includes(value)) return `must not be ${value}`;
        break;
      case "alpha":
        if (!/^[\p{L}\p{M}]+$/u.test(value)) return "must contain only letters";
        break;
      case "alpha_num":
        if (!/^[\p{L}\p{M}\p{N}]+$/u.test(value)) return "must contain only letters and digits";
        break;
      case "alpha_dash":
        if (!/^[\p{L}\p{M}\p{N}_-]+$/u.test(value)) return "must contain only letters, digits, dashes and underscores";
        break;
      case "digits":
        if (!DIGITS.test(value) || value.length !== Number(n[0])) return `must be ${n[0]} digits`;
        break;
      case "digits_between":
        if (!DIGITS.test(value) || value.length < Number(n[0]) || value.length > Number(n[1])) return `must be between ${n[0]} and ${n[1]} digits`;
        break;
      case "url":
        if (!isURL(value)) return "must be a URL";
        break;
      case "starts_with":
        if (!list(r).some((p) => value.startsWith(p))) return `must start with ${oneOf(list(r))}`;
        break;
      case "ends_with":
        if (!list(r).some((p) => value.endsWith(p))) return `must end with ${oneOf(list(r))}`;
        break;
      case "regex":
      case "not_regex": {
        const re = jsRegex(r.arg ?? "");
        if (!re) break; // a pattern JavaScript reads differently: the core decides
        const hit = re.re.test(value);
        if (r.name === "regex" && !hit) return `must match the pattern ${re.pattern}`;
        if (r.name === "not_regex" && hit) return `must not match the pattern ${re.pattern}`;
        break;
      }
    }
  }
  return null;
}

function oneOf(l: string[]): string {
  return l.length === 1 ? l[0] : "one of: " + l.join(", ");
}

function isURL(v: string): boolean {
  if (/\s/.test(v)) return false;
  try {
    const u = new URL(v);
    return !!u.protocol && !!u.host;
  } catch {
    return false;
  }
}

// jsRegex reads a PHP-style /pattern/flags; null when JavaScript cannot
// read it the same way.
function jsRegex(arg: string): { re: RegExp; pattern: string } | null {
  const end = closingDelimiter(arg);
  if (end < 0) return null;
  const pattern = arg.slice(1, end);
  const flags = arg.slice(end + 1);
  if (/[^imsuD]/.test(flags)) return null;
  try {
    return { re: new RegExp(pattern, [...new Set(flags.replace(/[uD]/g, ""))].join("") + "u"), pattern };
  } catch {
    return null;
  }
}
