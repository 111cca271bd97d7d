package servers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
)

// placeholder is {{NAME}} in a startup line, spaces allowed inside.
var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// Substitute replaces every {{NAME}} in s with env[NAME]; a name with no
// value becomes empty, as an unset variable does in a shell.
func Substitute(s string, env map[string]string) string {
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		return env[placeholder.FindStringSubmatch(m)[1]]
	})
}

// SplitArgs splits a command line into words the way a POSIX shell does,
// without running one: blanks separate words, '…' is literal, "…" keeps
// blanks and honours \" \\ \$ and \`, and a backslash outside quotes
// escapes the next character. Nothing is expanded.
func SplitArgs(line string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   rune // 0, '\'' or '"'
		escaped bool
	)
	for _, r := range line {
		switch {
		case escaped:
			if quote == '"' && !strings.ContainsRune("\"\\$`", r) {
				cur.WriteRune('\\')
			}
			cur.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case quote == '"':
			switch r {
			case '"':
				quote = 0
			case '\\':
				escaped = true
			default:
				cur.WriteRune(r)
			}
		case r == '\\':
			escaped, inWord = true, true
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	switch {
	case quote != 0:
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, line)
	case escaped:
		return nil, fmt.Errorf("trailing backslash in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// ReservedEnv are the variables Environment sets for every server from
// what the core decides; a template may use them in its startup line and
// config files but not declare them.
var ReservedEnv = []string{"SERVER_MEMORY", "SERVER_IP", "SERVER_PORT"}

// Environment is a server's environment: its template's defaults, the
// server's own values over them, then what the core decides (ReservedEnv),
// which nobody can override.
func Environment(srv *store.Server, tmpl *store.Template) map[string]string {
	env := map[string]string{}
	for _, v := range tmpl.Variables {
		env[v.EnvName] = v.Default
	}
	for k, v := range srv.Environment {
		env[k] = v
	}
	env["SERVER_MEMORY"] = strconv.FormatInt(srv.MemoryMB, 10)
	if as := primaryFirst(srv.Allocations); len(as) > 0 {
		env["SERVER_IP"] = as[0].IP
		env["SERVER_PORT"] = strconv.Itoa(as[0].Port)
	}
	return env
}

// RunConfig builds what the agent needs to run srv. The startup line is
// split into words before substitution, so a value with blanks or quotes
// stays one argument and cannot change the command's shape.
func RunConfig(srv *store.Server, tmpl *store.Template, stopTimeout time.Duration) (wire.ServerConfig, error) {
	env := Environment(srv, tmpl)
	words, err := SplitArgs(srv.Startup)
	if err != nil {
		return wire.ServerConfig{}, fmt.Errorf("startup command: %w", err)
	}
	for i, w := range words {
		words[i] = Substitute(w, env)
	}
	cfg := wire.ServerConfig{
		ID: srv.ID, Image: srv.Image, Argv: words, Startup: Substitute(srv.Startup, env), Env: env,
		MemoryMB: srv.MemoryMB, CPUPercent: srv.CPUPercent, DiskMB: srv.DiskMB, PidsLimit: srv.PidsLimit,
		Ports: []wire.Port{}, StopCommand: tmpl.StopCommand, StopTimeout: wire.Duration(stopTimeout),
		StartupDone: tmpl.StartupDone, Restart: PolicyOf(srv).wire(), Denylist: tmpl.Denylist,
	}
	if cfg.StartupDone == nil {
		cfg.StartupDone = []string{}
	}
	for _, cf := range tmpl.ConfigFiles {
		f := wire.ConfigFile{Path: cf.Path, Parser: cf.Parser, Replace: make([]wire.ConfigReplace, 0, len(cf.Replace))}
		for _, r := range cf.Replace {
			f.Replace = append(f.Replace, wire.ConfigReplace{Match: r.Match, Value: Substitute(r.Value, env)})
		}
		cfg.ConfigFiles = append(cfg.ConfigFiles, f)
	}
	for _, a := range primaryFirst(srv.Allocations) {
		cfg.Ports = append(cfg.Ports, wire.Port{IP: a.IP, Port: a.Port})
	}
	return cfg, nil
}

// InstallRequest builds the install of srv from its template.
func InstallRequest(srv *store.Server, tmpl *store.Template, stopTimeout time.Duration) (wire.InstallRequest, error) {
	cfg, err := RunConfig(srv, tmpl, stopTimeout)
	if err != nil {
		return wire.InstallRequest{}, err
	}
	req := wire.InstallRequest{Config: cfg, Image: tmpl.InstallImage, Entrypoint: tmpl.InstallEntrypoint,
		Script: tmpl.InstallScript, Env: cfg.Env}
	if req.Image == "" {
		req.Image = srv.Image
	}
	if req.Entrypoint == "" && req.Script != "" {
		req.Entrypoint = "/bin/sh"
	}
	return req, nil
}

func primaryFirst(as []*store.Allocation) []*store.Allocation {
	out := make([]*store.Allocation, 0, len(as))
	for _, a := range as {
		if a.Primary {
			out = append(out, a)
		}
	}
	for _, a := range as {
		if !a.Primary {
			out = append(out, a)
		}
	}
	return out
}
