package configfiles

import (
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
	// added: insert added lines.
	added bool
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

// bytes joins the lines again; once lines were added, the last one ends
// with a line ending even where the old last line had none.
func (t *text) bytes() []byte {
	if len(t.lines) == 0 {
		return nil
	}
	s := strings.Join(t.lines, t.eol)
	if !t.open || t.added {
		s += t.eol
	}
	return []byte(s)
}

// insert puts lines at index i.
func (t *text) insert(i int, lines ...string) {
	t.lines = append(t.lines[:i], append(lines, t.lines[i:]...)...)
	t.added = true
}

// rewriteLines is the file parser: every line that starts with Match,
// after its indentation, is replaced by Value as a whole (indentation
// included: Value is the new line). Nothing is appended when no line
// matches. Replacements apply in order, each to the result of the one
// before.
func rewriteLines(content []byte, repl []wire.ConfigReplace) ([]byte, []skip, error) {
	t := splitText(content)
	for _, r := range repl {
		for i, l := range t.lines {
			if strings.HasPrefix(strings.TrimLeft(l, " \t"), r.Match) {
				t.lines[i] = r.Value
			}
		}
	}
	return t.bytes(), nil, nil
}
