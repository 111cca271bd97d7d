// Package templates checks server templates: how to install and run one
// kind of game server. The store keeps them; this package decides what a
// valid one is.
package templates

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
)

var (
	// envNameRE is a POSIX environment variable name in upper case.
	envNameRE = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	nameRE    = regexp.MustCompile(`^[^\x00-\x1f\x7f]{1,64}$`)
)

// Limits on a template's parts.
const (
	maxImages    = 32
	maxVariables = 64
	maxScript    = 256 << 10
	maxLine      = 4096
	maxDenylist  = 256
)

func invalid(field, format string, args ...any) error {
	return &accounts.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Normalize trims what people type around values.
func Normalize(t *store.Template) {
	t.Name = strings.TrimSpace(t.Name)
	t.Startup = strings.TrimSpace(t.Startup)
	for i := range t.Images {
		t.Images[i] = strings.TrimSpace(t.Images[i])
	}
	for i := range t.Variables {
		t.Variables[i].EnvName = strings.TrimSpace(t.Variables[i].EnvName)
	}
	for i := range t.Denylist {
		t.Denylist[i] = strings.TrimSpace(t.Denylist[i])
	}
}

// Validate reports the first problem with t as a field error.
func Validate(t *store.Template) error {
	switch {
	case !nameRE.MatchString(t.Name):
		return invalid("name", "must be 1-64 characters, without control characters")
	case len(t.Description) > 4096 || !utf8.ValidString(t.Description):
		return invalid("description", "must be at most 4096 bytes of text")
	case len(t.Images) == 0:
		return invalid("images", "name at least one image, such as ghcr.io/example/java:21")
	case len(t.Images) > maxImages:
		return invalid("images", "at most %d images", maxImages)
	case t.Startup == "":
		return invalid("startup", "is required: the command line that runs the game")
	case len(t.Startup) > maxLine:
		return invalid("startup", "must be at most %d bytes", maxLine)
	case len(t.InstallScript) > maxScript:
		return invalid("install_script", "must be at most %d bytes", maxScript)
	case len(t.Variables) > maxVariables:
		return invalid("variables", "at most %d variables", maxVariables)
	case len(t.Denylist) > maxDenylist:
		return invalid("denylist", "at most %d patterns", maxDenylist)
	}
	for _, pat := range t.Denylist {
		// The agent matches with path.Match, which never matches a
		// malformed pattern: refuse it rather than hide nothing.
		if _, err := path.Match(pat, ""); err != nil || strings.Trim(pat, "/") == "" || len(pat) > maxLine {
			return invalid("denylist", "%q is not a file pattern like \"*.jar\" or \"config/secret.yml\"", pat)
		}
	}
	for _, img := range t.Images {
		if img == "" || len(img) > 512 || strings.ContainsAny(img, " \t\r\n") {
			return invalid("images", "%q is not an image reference", img)
		}
	}
	if _, err := servers.SplitArgs(t.Startup); err != nil {
		return invalid("startup", "%v", err)
	}
	if strings.ContainsAny(t.StopCommand, "\r\n") || len(t.StopCommand) > maxLine {
		return invalid("stop_command", "must be one line")
	}
	seen := map[string]bool{}
	for _, v := range t.Variables {
		switch {
		case !envNameRE.MatchString(v.EnvName):
			return invalid("variables", "env_name %q must match ^[A-Z_][A-Z0-9_]*$", v.EnvName)
		case strings.HasPrefix(v.EnvName, "SERVER_"):
			return invalid("variables", "env_name %q: SERVER_* variables are set by the core", v.EnvName)
		case seen[v.EnvName]:
			return invalid("variables", "env_name %q is declared twice", v.EnvName)
		case strings.TrimSpace(v.Name) == "":
			return invalid("variables", "variable %s needs a name", v.EnvName)
		case len(v.Default) > 4096 || !utf8.ValidString(v.Default):
			return invalid("variables", "default of %s must be text of at most 4096 bytes", v.EnvName)
		case v.UserEditable && !v.UserViewable:
			return invalid("variables", "%s is user_editable but not user_viewable", v.EnvName)
		}
		seen[v.EnvName] = true
	}
	return nil
}
