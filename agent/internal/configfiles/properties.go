package configfiles

import (
	"strconv"
	"strings"

	"catalyst.dev/sdk/wire"
)

// rewriteProperties is the properties parser, for files in the format of
// java.util.Properties (server.properties): every entry whose key is
// Match gets Value, keeping its key and separator as written ("key=v",
// "key: v", "key v"); an entry continued over several lines becomes one.
// A key no entry has is appended as "key=value". Comments, blank lines and
// order stay. Values are escaped as Properties.store does (backslashes,
// leading blanks, line breaks); other characters are written as UTF-8,
// which Minecraft and other modern readers expect.
func rewriteProperties(content []byte, repl []wire.ConfigReplace) ([]byte, []skip, error) {
	t := splitText(content)
	for _, r := range repl {
		found := false
		for i := 0; i < len(t.lines); {
			n := logicalLen(t.lines, i)
			e, ok := parseEntry(t.lines[i : i+n])
			if ok && e.key == r.Match {
				t.lines = append(t.lines[:i+1], t.lines[i+n:]...)
				t.lines[i] = e.prefix + escapeProperty(r.Value, false)
				found = true
				n = 1
			}
			i += n
		}
		if !found {
			t.insert(len(t.lines), escapeProperty(r.Match, true)+"="+escapeProperty(r.Value, false))
		}
	}
	return t.bytes(), nil, nil
}

// propBlank is the whitespace Properties skips around keys and separators.
func propBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

// continues says whether a line goes on on the next one: it ends with an
// odd number of backslashes.
func continues(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// isComment says whether line is a comment or blank; those never
// continue.
func isComment(line string) bool {
	s := strings.TrimLeft(line, " \t\f")
	return s == "" || s[0] == '#' || s[0] == '!'
}

// logicalLen is how many physical lines the entry starting at lines[i]
// spans.
func logicalLen(lines []string, i int) int {
	if isComment(lines[i]) {
		return 1
	}
	n := 1
	for i+n-1 < len(lines)-1 && continues(lines[i+n-1]) {
		n++
	}
	return n
}

// entry is a key-value line of a properties file.
type entry struct {
	key string
	// prefix is the line's text up to where its value starts (indent, key,
	// separator), to be kept when the value changes.
	prefix string
}

// parseEntry reads the entry on lines (one logical line); ok is false for
// comments and blank lines.
func parseEntry(lines []string) (entry, bool) {
	first := lines[0]
	if isComment(first) {
		return entry{}, false
	}
	// The logical line: continuations lose their backslash and their
	// leading blanks. Offsets into the first line stay valid in it.
	firstLen := len(first)
	if len(lines) > 1 {
		firstLen--
	}
	var b strings.Builder
	b.WriteString(first[:firstLen])
	for j, l := range lines[1:] {
		l = strings.TrimLeft(l, " \t\f")
		if j < len(lines)-2 {
			l = l[:len(l)-1]
		}
		b.WriteString(l)
	}
	s := b.String()

	i := 0
	for i < len(s) && propBlank(s[i]) {
		i++
	}
	keyStart := i
	for i < len(s) {
		c := s[i]
		if c == '\\' {
			i += 2
			continue
		}
		if c == '=' || c == ':' || propBlank(c) {
			break
		}
		i++
	}
	i = min(i, len(s))
	keyEnd := i
	for i < len(s) && propBlank(s[i]) {
		i++
	}
	if i < len(s) && (s[i] == '=' || s[i] == ':') {
		i++
		for i < len(s) && propBlank(s[i]) {
			i++
		}
	}
	e := entry{key: unescapeProperty(s[keyStart:keyEnd])}
	switch {
	case i == keyEnd:
		// No separator ("key" alone): one is needed before a value.
		e.prefix = s[:keyEnd] + "="
	case i <= firstLen:
		e.prefix = s[:i]
	default:
		// The value started on a continuation line.
		e.prefix = s[:keyEnd] + "="
	}
	return e, true
}

// unescapeProperty resolves a key's escapes as Properties.load does.
func unescapeProperty(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i == len(s)-1 {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+4 < len(s) {
				if r, err := strconv.ParseUint(s[i+1:i+5], 16, 16); err == nil {
					b.WriteRune(rune(r))
					i += 4
					continue
				}
			}
			b.WriteByte('u')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// escapeProperty escapes s for a properties file, as a key (separators
// and blanks escaped everywhere, comment marks at the start) or a value
// (blanks only at the start).
func escapeProperty(s string, key bool) string {
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\f':
			b.WriteString(`\f`)
		case ' ':
			if i == 0 || key {
				b.WriteString(`\ `)
			} else {
				b.WriteByte(' ')
			}
		case '=', ':':
			if key {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case '#', '!':
			if key && i == 0 {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
