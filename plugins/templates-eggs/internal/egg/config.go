package egg

import (
	"encoding/json"
	"regexp"
	"strings"

	"catalyst.dev/sdk/plugin"
)

// parsers are the config-file parsers Catalyst's agent has.
var parsers = []string{"properties", "yaml", "json", "ini", "file"}

// config reads the config section: files to rewrite, when the server is
// up, how to stop it.
func (c *converter) config(raw json.RawMessage, t *plugin.Template) error {
	if isNull(raw) {
		return nil
	}
	cfg, err := decodeObject(raw, "config")
	if err != nil {
		return err
	}
	for _, m := range cfg {
		switch m.Key {
		case "files":
			t.ConfigFiles, err = c.files(m.Value)
		case "startup":
			t.DonePatterns, err = c.done(m.Value)
		case "stop":
			var stop string
			err = decodeField("config.stop", m.Value, &stop, "a string")
			t.Stop = c.stop(stop)
		case "logs":
			err = c.logs(m.Value)
		case "extends":
			if !isNull(m.Value) {
				c.warn("config.extends: the egg takes its configuration from another egg (%s), which is not imported; check the stop command, done patterns and config files", describe(m.Value))
			}
		default:
			c.warn("config.%s is not used", m.Key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// files reads config.files: {path: {parser, find: {match: value}}}.
func (c *converter) files(raw json.RawMessage) ([]plugin.ConfigFile, error) {
	files, err := nested("config.files", raw)
	if err != nil {
		return nil, err
	}
	var out []plugin.ConfigFile
	for _, f := range files {
		spec, err := decodeObject(f.Value, "config.files."+f.Key)
		if err != nil {
			return nil, err
		}
		cf := plugin.ConfigFile{Path: f.Key}
		var find object
		for _, m := range spec {
			switch m.Key {
			case "parser":
				err = decodeField("config.files."+f.Key+".parser", m.Value, &cf.Parser, "a string")
			case "find":
				if !isNull(m.Value) {
					find, err = decodeObject(m.Value, "config.files."+f.Key+".find")
				}
			default:
				c.warn("config file %s: %s is not used", f.Key, m.Key)
			}
			if err != nil {
				return nil, err
			}
		}
		if !c.knownParser(cf) {
			continue
		}
		cf.Replace = c.replacements(cf.Path, find)
		if len(cf.Replace) > 0 {
			out = append(out, cf)
		}
	}
	return out, nil
}

func (c *converter) knownParser(cf plugin.ConfigFile) bool {
	for _, p := range parsers {
		if cf.Parser == p {
			return true
		}
	}
	if cf.Parser == "xml" {
		c.warn("config file %s: Catalyst has no xml parser; the file is not rewritten", cf.Path)
	} else {
		c.warn("config file %s: parser %q is unknown (known: %s); the file is not rewritten", cf.Path, cf.Parser, strings.Join(parsers, ", "))
	}
	return false
}

// replacements converts the find entries of one file, in file order.
// Values that are strings, numbers or booleans convert; Pterodactyl's
// conditional values ({"regex:…": value} and the like) do not.
func (c *converter) replacements(file string, find object) []plugin.Replacement {
	var out []plugin.Replacement
	for _, m := range find {
		v, ok := scalarText(m.Value)
		if !ok {
			c.warn("config file %s: %s is %s (a conditional or computed value), which cannot be converted; it is not set", file, m.Key, jsonKind(m.Value))
			continue
		}
		out = append(out, plugin.Replacement{Match: m.Key, Value: c.value(v, "config file "+file+": "+m.Key)})
	}
	return out
}

// done reads config.startup: its done strings become the done patterns.
// A "regex:" pattern is kept when Go can compile it.
func (c *converter) done(raw json.RawMessage) ([]string, error) {
	startup, err := nested("config.startup", raw)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range startup {
		switch m.Key {
		case "done":
			var one string
			if isNull(m.Value) {
				continue
			}
			if err := json.Unmarshal(m.Value, &one); err == nil {
				out = []string{one}
			} else if err := decodeField("config.startup.done", m.Value, &out, "a string or an array of strings"); err != nil {
				return nil, err
			}
		case "userInteraction", "user_interaction":
			var list []string
			if json.Unmarshal(m.Value, &list) != nil || len(list) > 0 {
				c.warn("config.startup.%s is not used (Pterodactyl ignores it too)", m.Key)
			}
		case "strip_ansi":
			if string(m.Value) != "false" {
				c.warn("config.startup.strip_ansi is not used: done patterns are matched against the console output as it is")
			}
		default:
			c.warn("config.startup.%s is not used", m.Key)
		}
	}
	return c.checkDone(out), nil
}

func (c *converter) checkDone(in []string) []string {
	var out []string
	for _, p := range in {
		if p == "" {
			c.warn("config.startup.done: an empty pattern would match any line; it was dropped")
			continue
		}
		if expr, ok := strings.CutPrefix(p, "regex:"); ok {
			if _, err := regexp.Compile(expr); err != nil {
				c.warn("config.startup.done %q: the regular expression cannot be used (%v); it was dropped", p, err)
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// stop converts config.stop. A leading "^" names a signal: "^C" (and
// the "^^C" some eggs write, and "^SIGINT") is SIGINT, which Catalyst
// writes "^C"; SIGTERM is Catalyst's default (empty). Other signals
// cannot be chosen: they stop with SIGTERM, with a warning.
func (c *converter) stop(s string) string {
	if !strings.HasPrefix(s, "^") {
		return s
	}
	switch strings.TrimPrefix(strings.ToUpper(strings.TrimLeft(s, "^")), "SIG") {
	case "C", "INT":
		return "^C"
	case "TERM":
		return ""
	}
	c.warn("config.stop %q: Catalyst cannot send that signal; the server is stopped with SIGTERM", s)
	return ""
}

// logs reads config.logs, which Pterodactyl's panel no longer uses
// either: Catalyst keeps the console log itself.
func (c *converter) logs(raw json.RawMessage) error {
	logs, err := nested("config.logs", raw)
	if err != nil {
		return err
	}
	if len(logs) > 0 {
		c.warn("config.logs is not used: the console log is kept by Catalyst")
	}
	return nil
}

// describe is a short rendering of a JSON value for a warning.
func describe(raw json.RawMessage) string {
	s := strings.Join(strings.Fields(string(raw)), " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
