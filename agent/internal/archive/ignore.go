package archive

import (
	"fmt"
	"path"
	"strings"
)

// ignoreRule is one pattern of an ignore list.
type ignoreRule struct {
	negate  bool // "!pattern": include again
	dirOnly bool // "pattern/": directories only
	// anchored patterns (a slash before the end) match the whole path
	// from the top; the others match an entry's name at any depth.
	anchored bool
	elems    []string // the pattern's path elements; "**" spans any number
}

// ignoreList decides which paths a backup leaves out, as gitignore
// does: the last rule that matches a path decides.
type ignoreList struct {
	rules []ignoreRule
}

// add parses one line of patterns and adds its rule.
func (l *ignoreList) add(line string) error {
	r, ok, err := parseIgnoreRule(line)
	if err != nil {
		return fmt.Errorf("pattern %q: %w", strings.TrimSpace(line), err)
	}
	if ok {
		l.rules = append(l.rules, r)
	}
	return nil
}

// parseIgnoreRule parses one line; ok is false for blank lines and
// comments.
func parseIgnoreRule(line string) (r ignoreRule, ok bool, err error) {
	line = strings.TrimSuffix(line, "\r")
	line = trimTrailingSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return r, false, nil
	}
	if strings.HasPrefix(line, "!") {
		r.negate = true
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		r.dirOnly = true
		line = strings.TrimRight(line, "/")
	}
	if strings.Contains(line, "/") {
		r.anchored = true
		line = strings.TrimLeft(line, "/")
	}
	if line == "" {
		return r, false, fmt.Errorf("matches nothing")
	}
	if strings.IndexByte(line, 0) >= 0 {
		return r, false, fmt.Errorf("holds a NUL byte")
	}
	for e := range strings.SplitSeq(line, "/") {
		if e == "" {
			return r, false, fmt.Errorf("has an empty path element")
		}
		// Match checks the whole pattern's syntax, whatever the name.
		if _, err := path.Match(e, ""); err != nil {
			return r, false, fmt.Errorf("%w (path.Match syntax: * ? [a-z] \\x)", err)
		}
		r.elems = append(r.elems, e)
	}
	return r, true, nil
}

// trimTrailingSpace drops trailing spaces but one escaped by a
// backslash, as git does.
func trimTrailingSpace(s string) string {
	t := strings.TrimRight(s, " \t")
	if len(t) < len(s) && strings.HasSuffix(t, `\`) && !strings.HasSuffix(t, `\\`) {
		return s[:len(t)+1]
	}
	return t
}

// ignored says whether rel, a slash-separated path below the top, is
// left out.
func (l *ignoreList) ignored(rel string, isDir bool) bool {
	out := false
	for i := range l.rules {
		r := &l.rules[i]
		if r.negate != out || (r.dirOnly && !isDir) {
			continue // this rule could not change the answer
		}
		if r.match(rel) {
			out = !r.negate
		}
	}
	return out
}

func (r *ignoreRule) match(rel string) bool {
	if !r.anchored {
		ok, _ := path.Match(r.elems[0], path.Base(rel))
		return ok
	}
	return matchElems(r.elems, strings.Split(rel, "/"))
}

// matchElems matches path elements against pattern elements, "**"
// standing for any number of them (at least one when it ends the
// pattern: "logs/**" is what logs holds, not logs itself).
func matchElems(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for len(pat) > 1 && pat[1] == "**" {
				pat = pat[1:]
			}
			if len(pat) == 1 {
				return len(name) > 0
			}
			for i := range len(name) + 1 {
				if matchElems(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
