package configfiles

import (
	"errors"
	"strings"

	"catalyst.dev/sdk/wire"
)

// text is a file as lines, for the line-based parsers: it remembers the
// file's line ending (CRLF where the file uses it) and whether the last
// line ended with one, so that lines nobody changed come out as they were.
type text struct {
	lines []string
	eol   string
	// open: the last line has no line ending.
	open bool
}

func splitText(content []byte) *text {
	s := string(content)
	t := &text{eol: "\n"}
	if strings.Contains(s, "\r\n") {
		t.eol = "\r\n"
	}
	if s == "" {
		return t
	}
	t.open = !strings.HasSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\n")
	for _, l := range strings.Split(s, "\n") {
		t.lines = append(t.lines, strings.TrimSuffix(l, "\r"))
	}
	return t
}

// bytes joins the lines again; lines added after the last one end with
// a line ending even where the old last line had none.
func (t *text) bytes(added bool) []byte {
	if len(t.lines) == 0 {
		return nil
	}
	s := strings.Join(t.lines, t.eol)
	if !t.open || added {
		s += t.eol
	}
	return []byte(s)
}

// insert puts lines at index i.
func (t *text) insert(i int, lines ...string) {
	t.lines = append(t.lines[:i], append(lines, t.lines[i:]...)...)
}

var errEmptyMatch = errors.New("the match is empty")

// rewriteLines is the file parser: every line that starts with Match,
// after its indentation, is replaced by Value as a whole (indentation
// included: Value is the new line). Nothing is appended when no line
// matches. Replacements apply in order, each to the result of the one
// before.
func rewriteLines(content []byte, repl []wire.ConfigReplace) ([]byte, bool, []skip, error) {
	t := splitText(content)
	var skipped []skip
	for _, r := range repl {
		if r.Match == "" {
			skipped = append(skipped, skip{r.Match, errEmptyMatch})
			continue
		}
		for i, l := range t.lines {
			if strings.HasPrefix(strings.TrimLeft(l, " \t"), r.Match) {
				t.lines[i] = r.Value
			}
		}
	}
	out := t.bytes(false)
	return out, string(out) != string(content), skipped, nil
}
