package configfiles

import (
	"errors"
	"strings"

	"catalyst.dev/sdk/wire"
)

// rewriteINI is the ini parser. Match is "section.key", split at its last
// dot, since section names may hold dots ("[/Script/Engine.GameSession]")
// and keys rarely do; a Match without a dot names a key before the first
// section. Every "key = value" (or "key: value") line of that key in that
// section (in each of its blocks, when it has several) gets Value, its key
// and separator kept as written. A missing key is added after the last
// entry of its section, a missing section at the end of the file. Names
// are compared as written; comments (";" and "#"), blank lines and order
// stay.
func rewriteINI(content []byte, repl []wire.ConfigReplace) ([]byte, []skip, error) {
	t := splitText(content)
	var skipped []skip
	for _, r := range repl {
		section, key := "", r.Match
		if i := strings.LastIndexByte(r.Match, '.'); i >= 0 {
			section, key = r.Match[:i], r.Match[i+1:]
		}
		if key == "" {
			skipped = append(skipped, skip{r.Match, errNoKey})
			continue
		}
		setINI(t, section, key, r.Value)
	}
	return t.bytes(), skipped, nil
}

var errNoKey = errors.New("it names no key after the section's dot")

// iniLine is what a line of an ini file is.
type iniLine struct {
	// section is the name of a header line ("[name]"); header says it is
	// one.
	section string
	header  bool
	// key and prefix (the line up to where its value starts) are an
	// entry's; key is "" for other lines.
	key    string
	prefix string
}

func parseINILine(line string) iniLine {
	s := strings.TrimSpace(line)
	switch {
	case s == "" || s[0] == ';' || s[0] == '#':
		return iniLine{}
	case s[0] == '[':
		if end := strings.IndexByte(s, ']'); end > 0 {
			return iniLine{header: true, section: strings.TrimSpace(s[1:end])}
		}
		return iniLine{}
	}
	sep := strings.IndexByte(line, '=')
	if sep < 0 {
		sep = strings.IndexByte(line, ':')
	}
	if sep < 0 {
		return iniLine{}
	}
	key := strings.TrimSpace(line[:sep])
	if key == "" {
		return iniLine{}
	}
	rest := line[sep+1:]
	valueAt := sep + 1 + len(rest) - len(strings.TrimLeft(rest, " \t"))
	prefix := line[:valueAt]
	if strings.TrimSpace(rest) == "" {
		// "key =" with nothing after: one space after the separator when
		// there is one before it.
		prefix = line[:sep+1]
		if sep > 0 && (line[sep-1] == ' ' || line[sep-1] == '\t') {
			prefix += " "
		}
	}
	return iniLine{key: key, prefix: prefix}
}

// setINI sets key in section on every line that has it, or adds it.
func setINI(t *text, section, key, value string) {
	cur := ""
	found := false
	// Where a missing key goes: after the section's last entry (or its
	// header), in its last block.
	insertAt := -1
	firstHeader := -1
	for i, l := range t.lines {
		p := parseINILine(l)
		switch {
		case p.header:
			cur = p.section
			if firstHeader < 0 {
				firstHeader = i
			}
			if cur == section {
				insertAt = i + 1
			}
		case p.key != "" && cur == section:
			insertAt = i + 1
			if p.key == key {
				t.lines[i] = p.prefix + value
				found = true
			}
		}
	}
	if found {
		return
	}
	line := key + iniSeparator(t) + value
	switch {
	case insertAt >= 0:
	case section != "":
		if n := len(t.lines); n > 0 && strings.TrimSpace(t.lines[n-1]) != "" {
			t.insert(n, "")
		}
		t.insert(len(t.lines), "["+section+"]", line)
		return
	case firstHeader >= 0:
		// No entry before the first section yet: the new one goes just
		// before it.
		insertAt = firstHeader
	default:
		insertAt = len(t.lines)
	}
	t.insert(insertAt, line)
}

// iniSeparator is how the file's first entry separates key and value
// ("=", " = ", ":" …); "=" for a file without entries.
func iniSeparator(t *text) string {
	for _, l := range t.lines {
		p := parseINILine(l)
		if p.key == "" {
			continue
		}
		k := strings.TrimRight(p.prefix, " \t")
		sep := k[len(k)-1:]
		if len(k) >= 2 && (k[len(k)-2] == ' ' || k[len(k)-2] == '\t') {
			sep = " " + sep
		}
		if len(k) < len(p.prefix) {
			sep += " "
		}
		return sep
	}
	return "="
}
