package egg

import (
	"regexp"
	"strings"
)

var (
	// placeholder is an egg placeholder: {{VARIABLE}} in startup lines,
	// {{server.build.default.port}} or {{env.VARIABLE}} in config values.
	placeholder = regexp.MustCompile(`\{\{\s*([\w.-]+)\s*\}\}`)
	envName     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// shellSyntax is what makes a startup line need a shell: expansions,
	// command lists, pipes, redirections, subshells, globs, line breaks.
	shellSyntax = regexp.MustCompile("[$`;&|<>()*?\\n]|^\\s*[A-Za-z_][A-Za-z0-9_]*=")
)

// serverValues are the egg placeholders for values the core sets.
var serverValues = map[string]string{
	"server.build.default.port": "SERVER_PORT",
	"server.build.default.ip":   "SERVER_IP",
	"server.build.memory":       "SERVER_MEMORY",
}

// target is what one egg placeholder becomes: a Catalyst variable, a
// fixed text, or (neither set) itself, unchanged.
type target struct {
	variable string
	text     string
}

// resolve maps the placeholder {{name}}; where says where it was found,
// for the warnings.
func (c *converter) resolve(name, where string) target {
	if v, ok := serverValues[name]; ok {
		return target{variable: v}
	}
	switch name {
	case "config.docker.interface", "config.docker.network.interface":
		c.warn("%s: {{%s}} (the node's Docker interface in Pterodactyl) became 0.0.0.0, every interface of the server's container", where, name)
		return target{text: "0.0.0.0"}
	}
	if envName.MatchString(name) {
		return target{variable: name}
	}
	for _, prefix := range []string{"server.build.env.", "env."} {
		if v, ok := strings.CutPrefix(name, prefix); ok && envName.MatchString(v) {
			return target{variable: v}
		}
	}
	c.warn("%s: placeholder {{%s}} has no Catalyst equivalent and was left as written", where, name)
	return target{}
}

// value converts the placeholders of a config value to Catalyst's.
func (c *converter) value(s, where string) string {
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		switch t := c.resolve(placeholder.FindStringSubmatch(m)[1], where); {
		case t.variable != "":
			return "{{" + t.variable + "}}"
		case t.text != "":
			return t.text
		}
		return m
	})
}

// startup converts an egg's startup line. Pterodactyl's images run it
// through a shell; Catalyst splits it into words and runs it directly,
// which gives the same command unless the line uses shell syntax. Such a
// line becomes /bin/sh -c "…" with each {{X}} written ${X}: the server's
// environment holds every variable, so the shell expands the value where
// the placeholder was but never reads it as shell syntax (a value cannot
// inject a command, as it could once pasted into the line).
func (c *converter) startup(line string) string {
	line = strings.TrimSpace(strings.ReplaceAll(line, "\r\n", "\n"))
	if !shellSyntax.MatchString(line) {
		return c.value(line, "startup")
	}
	return shellCommand(c.shellLine(line))
}

// shellLine rewrites the placeholders of line for a shell, following its
// quoting: inside single quotes, where nothing expands, the quote is
// closed around the variable.
func (c *converter) shellLine(line string) string {
	var (
		b    strings.Builder
		q    quoting
		last int
	)
	for _, loc := range placeholder.FindAllStringSubmatchIndex(line, -1) {
		q.feed(line[last:loc[0]])
		b.WriteString(line[last:loc[0]])
		last = loc[1]
		t := c.resolve(line[loc[2]:loc[3]], "startup")
		switch {
		case t.variable != "" && q.quote == '\'':
			b.WriteString(`'"${` + t.variable + `}"'`)
		case t.variable != "":
			b.WriteString("${" + t.variable + "}")
		case t.text != "":
			b.WriteString(t.text)
			q.feed(t.text)
		default:
			b.WriteString(line[loc[0]:loc[1]])
			q.feed(line[loc[0]:loc[1]])
		}
	}
	b.WriteString(line[last:])
	return b.String()
}

// quoting follows a POSIX shell's quotes through a line.
type quoting struct {
	quote   byte // 0, '\'' or '"'
	escaped bool
}

func (q *quoting) feed(s string) {
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case q.escaped:
			q.escaped = false
		case q.quote == '\'':
			if ch == '\'' {
				q.quote = 0
			}
		case ch == '\\':
			q.escaped = true
		case q.quote == '"':
			if ch == '"' {
				q.quote = 0
			}
		case ch == '\'' || ch == '"':
			q.quote = ch
		}
	}
}

// shellQuoter escapes what a double-quoted word keeps special when the
// core splits the startup line (servers.SplitArgs honours \" \\ \$ \`).
var shellQuoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`, "`", "\\`")

// shellCommand is the startup line that runs script with /bin/sh.
func shellCommand(script string) string {
	return `/bin/sh -c "` + shellQuoter.Replace(script) + `"`
}
