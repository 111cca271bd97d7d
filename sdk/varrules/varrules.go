// Package varrules validates the values of template variables against
// rule strings such as "required|string|max:20", the notation Pterodactyl
// eggs use (Laravel's validation rules). The core enforces them when a
// server is created or changed; template sources use Split to keep the
// rules Catalyst understands and report the others.
//
// Supported rules: required, nullable, sometimes, string, integer,
// numeric, boolean, min:n, max:n, between:a,b, size:n, in:a,b,…,
// not_in:a,b,…, regex:/…/flags, not_regex:/…/flags, alpha, alpha_num,
// alpha_dash, digits:n, digits_between:a,b, url, ip, starts_with:a,…,
// ends_with:a,….
//
// As in Laravel, min, max, between and size measure a value's length in
// characters, or the value itself when the rules include integer or
// numeric and the value is a number; and a blank value (empty or only
// white space) fails "required" and passes every other rule.
package varrules

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownRule is wrapped by Parse's error for a rule name it does not
// know (as opposed to a known rule with a malformed argument).
var ErrUnknownRule = errors.New("unknown rule")

// Rules is a parsed rule string. The zero value accepts every value.
type Rules struct {
	rules []rule
}

// Parse reads a rule string: rules separated by "|", each a name with an
// optional ":"-argument. Inside a regex or not_regex argument a "|"
// belongs to the pattern until its closing delimiter. Empty rules ("a||b")
// are ignored. An unknown rule or a malformed argument is an error naming
// it.
func Parse(s string) (Rules, error) {
	var rs Rules
	for _, tok := range tokenize(s) {
		r, err := parseRule(tok)
		if err != nil {
			return Rules{}, err
		}
		if r != nil {
			rs.rules = append(rs.rules, *r)
		}
	}
	return rs, nil
}

// Split keeps the rules of s that Parse accepts and returns the others as
// written, so an importer can drop and report them:
// "required|string|exists:users" gives "required|string" and
// ["exists:users"].
func Split(s string) (kept string, unknown []string) {
	var keep []string
	for _, tok := range tokenize(s) {
		r, err := parseRule(tok)
		switch {
		case err != nil:
			unknown = append(unknown, strings.TrimSpace(tok))
		case r != nil:
			keep = append(keep, r.String())
		}
	}
	return strings.Join(keep, "|"), unknown
}

// Required reports whether the rules include "required".
func (r Rules) Required() bool { return r.has("required") }

// String gives the rules back as a rule string, rule names in lower case.
func (r Rules) String() string {
	parts := make([]string, len(r.rules))
	for i, x := range r.rules {
		parts[i] = x.String()
	}
	return strings.Join(parts, "|")
}

// Check validates value; the error reads as a sentence about the value
// ("must be at most 20 characters"), for a field error. Rules are checked
// in order and the first that fails is reported.
func (r Rules) Check(value string) error {
	if strings.TrimSpace(value) == "" {
		if r.Required() {
			return errors.New("is required")
		}
		return nil
	}
	numeric := r.has("integer") || r.has("numeric")
	for _, x := range r.rules {
		if err := x.check(value, numeric); err != nil {
			return err
		}
	}
	return nil
}

func (r Rules) has(name string) bool {
	for _, x := range r.rules {
		if x.name == name {
			return true
		}
	}
	return false
}

// tokenize splits a rule string at "|", except inside the delimited
// pattern of a regex or not_regex rule. A pattern without its closing
// delimiter ends at the next "|", as Laravel would split it; Parse then
// reports it.
func tokenize(s string) []string {
	var toks []string
	for len(s) > 0 {
		end := nextBar(s, regexRuleLen(s))
		toks = append(toks, s[:end])
		if end == len(s) {
			break
		}
		s = s[end+1:]
	}
	return toks
}

// nextBar returns the index of the first "|" in s at or after from, or
// len(s).
func nextBar(s string, from int) int {
	if i := strings.IndexByte(s[from:], '|'); i >= 0 {
		return from + i
	}
	return len(s)
}

// regexRuleLen returns the length of the regex or not_regex rule at the
// start of s, delimiters and flags included, or 0 when s does not start
// with one or its pattern is not closed.
func regexRuleLen(s string) int {
	name, arg, ok := strings.Cut(s, ":")
	if !ok || !isRegexRule(strings.ToLower(strings.TrimSpace(name))) {
		return 0
	}
	n := closingDelimiter(arg)
	if n < 0 {
		return 0
	}
	n++ // past the closing delimiter
	for n < len(arg) && isLetter(arg[n]) {
		n++
	}
	return len(name) + 1 + n
}

func isRegexRule(name string) bool { return name == "regex" || name == "not_regex" }

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// closingDelimiter returns the index in arg of the delimiter that closes
// the pattern opened by arg[0], or -1. As in PHP, a backslash escapes the
// next character, and bracket delimiters ((), [], {}, <>) nest.
func closingDelimiter(arg string) int {
	if arg == "" {
		return -1
	}
	open := arg[0]
	if isLetter(open) || open >= '0' && open <= '9' || open == '\\' || open == ' ' || open == '\t' || open >= 0x80 {
		return -1
	}
	closer := open
	if i := strings.IndexByte("([{<", open); i >= 0 {
		closer = ")]}>"[i]
	}
	depth := 0
	for i := 1; i < len(arg); i++ {
		switch c := arg[i]; {
		case c == '\\':
			i++
		case c == closer && depth == 0:
			return i
		case c == closer:
			depth--
		case c == open && open != closer:
			depth++
		}
	}
	return -1
}

func (x rule) String() string {
	if !x.hasArg {
		return x.name
	}
	return x.name + ":" + x.arg
}

// parseRule parses one token; a blank token is no rule (nil, nil).
func parseRule(tok string) (*rule, error) {
	if strings.TrimSpace(tok) == "" {
		return nil, nil
	}
	name, arg, hasArg := strings.Cut(tok, ":")
	name = strings.ToLower(strings.TrimSpace(name))
	spec, ok := specs[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownRule, name)
	}
	x := &rule{name: name, arg: arg, hasArg: hasArg}
	if err := spec.parse(x); err != nil {
		return nil, fmt.Errorf("rule %q: %w", strings.TrimSpace(tok), err)
	}
	return x, nil
}
