// Package templates checks server templates: how to install and run one
// kind of game server. The store keeps them; this package decides what a
// valid one is, and turns what template source plugins offer into one.
package templates

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/varrules"
	"catalyst.dev/sdk/wire"
)

var (
	// envNameRE is a POSIX environment variable name in upper case.
	envNameRE = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	nameRE    = regexp.MustCompile(`^[^\x00-\x1f\x7f]{1,64}$`)
)

// Limits on a template's parts.
const (
	maxImages       = 32
	maxVariables    = 64
	maxScript       = 256 << 10
	maxLine         = 4096
	maxDenylist     = 256
	maxDonePatterns = 16
	maxConfigFiles  = 32
	maxReplace      = 64
	maxFeatures     = 32
	maxLabel        = 64
)

// donePrefixRegex marks a startup-done pattern that is a regular expression.
const donePrefixRegex = "regex:"

func invalid(field, format string, args ...any) error {
	return &accounts.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Spec is a template as an administrator writes it: the body of POST
// /api/admin/templates, and the files in examples/templates.
type Spec struct {
	Name        string                `json:"name"`
	Description string                `json:"description"`
	Author      string                `json:"author"`
	Images      []store.TemplateImage `json:"images"`
	// Startup is the command line, with {{VARIABLE}} placeholders.
	Startup     string `json:"startup"`
	StopCommand string `json:"stop_command"`
	// StartupDone are console substrings that mean the game is up; one
	// prefixed "regex:" is a regular expression.
	StartupDone       []string                   `json:"startup_done"`
	InstallImage      string                     `json:"install_image"`
	InstallEntrypoint string                     `json:"install_entrypoint"`
	InstallScript     string                     `json:"install_script"`
	Variables         []store.TemplateVariable   `json:"variables"`
	ConfigFiles       []store.TemplateConfigFile `json:"config_files"`
	Features          []string                   `json:"features"`
	Denylist          []string                   `json:"denylist"`
}

// Template is the template s describes, not yet stored.
func (s Spec) Template() *store.Template {
	return &store.Template{Name: s.Name, Description: s.Description, Author: s.Author, Images: s.Images,
		Startup: s.Startup, StopCommand: s.StopCommand, StartupDone: s.StartupDone, InstallImage: s.InstallImage,
		InstallEntrypoint: s.InstallEntrypoint, InstallScript: s.InstallScript, Variables: s.Variables,
		ConfigFiles: s.ConfigFiles, Features: s.Features, Denylist: s.Denylist}
}

// Normalize trims what people type around values and labels each image
// that has no label with its reference.
func Normalize(t *store.Template) {
	t.Name = strings.TrimSpace(t.Name)
	t.Startup = strings.TrimSpace(t.Startup)
	for i := range t.Images {
		im := &t.Images[i]
		im.Image, im.Label = strings.TrimSpace(im.Image), strings.TrimSpace(im.Label)
		if im.Label == "" {
			im.Label = im.Image
		}
	}
	for i := range t.Variables {
		t.Variables[i].EnvName = strings.TrimSpace(t.Variables[i].EnvName)
		t.Variables[i].Rules = strings.TrimSpace(t.Variables[i].Rules)
	}
	for i := range t.ConfigFiles {
		cf := &t.ConfigFiles[i]
		cf.Path, cf.Parser = strings.TrimSpace(cf.Path), strings.TrimSpace(cf.Parser)
		if cf.Replace == nil {
			cf.Replace = []store.TemplateReplace{}
		}
	}
	for i := range t.Denylist {
		t.Denylist[i] = strings.TrimSpace(t.Denylist[i])
	}
	for i := range t.Features {
		t.Features[i] = strings.TrimSpace(t.Features[i])
	}
}

// Validate reports the first problem with t as a field error; fields
// inside lists are named by index ("variables[2].rules").
func Validate(t *store.Template) error {
	switch {
	case !nameRE.MatchString(t.Name):
		return invalid("name", "must be 1-64 characters, without control characters")
	case !isText(t.Description, 4096):
		return invalid("description", "must be at most 4096 bytes of text")
	case len(t.Author) > 256 || !oneLine(t.Author):
		return invalid("author", "must be one line of at most 256 bytes")
	case !oneLine(t.StopCommand) || len(t.StopCommand) > maxLine:
		return invalid("stop_command", "must be one line")
	case t.InstallImage != "" && !servers.ValidImageRef(t.InstallImage):
		return invalid("install_image", "%q is not an image reference", t.InstallImage)
	case !oneLine(t.InstallEntrypoint) || len(t.InstallEntrypoint) > maxLine:
		return invalid("install_entrypoint", "must be one line, such as /bin/sh")
	case !isText(t.InstallScript, maxScript):
		return invalid("install_script", "must be at most %d bytes of text", maxScript)
	}
	if err := servers.CheckStartup(t.Startup); err != nil {
		return err
	}
	for _, check := range []func(*store.Template) error{
		validateImages, validateDone, validateVariables, validateConfigFiles, validateDenylist, validateFeatures,
	} {
		if err := check(t); err != nil {
			return err
		}
	}
	return nil
}

func oneLine(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsAny(s, "\r\n\x00")
}

// isText reports whether s is at most max bytes of text: UTF-8 without NUL,
// which the database's text columns refuse.
func isText(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func validateImages(t *store.Template) error {
	switch {
	case len(t.Images) == 0:
		return invalid("images", "name at least one image, such as {\"label\": \"Java 21\", \"image\": \"ghcr.io/example/java:21\"}")
	case len(t.Images) > maxImages:
		return invalid("images", "at most %d images", maxImages)
	}
	labels, refs := map[string]bool{}, map[string]bool{}
	for i, im := range t.Images {
		field := fmt.Sprintf("images[%d]", i)
		switch {
		case !servers.ValidImageRef(im.Image):
			return invalid(field+".image", "%q is not an image reference", im.Image)
		case refs[im.Image]:
			return invalid(field+".image", "%s is listed twice", im.Image)
		case len(im.Label) > maxLabel || !oneLine(im.Label):
			return invalid(field+".label", "must be one line of at most %d bytes", maxLabel)
		case labels[im.Label]:
			return invalid(field+".label", "%q labels another image too; labels tell images apart", im.Label)
		}
		labels[im.Label], refs[im.Image] = true, true
	}
	return nil
}

func validateDone(t *store.Template) error {
	if len(t.StartupDone) > maxDonePatterns {
		return invalid("startup_done", "at most %d patterns", maxDonePatterns)
	}
	for i, p := range t.StartupDone {
		field := fmt.Sprintf("startup_done[%d]", i)
		if p == "" || p == donePrefixRegex || !oneLine(p) || len(p) > maxLine {
			return invalid(field, "must be a non-empty console substring of one line")
		}
		if expr, ok := strings.CutPrefix(p, donePrefixRegex); ok {
			if _, err := regexp.Compile(expr); err != nil {
				return invalid(field, "is not a regular expression: %v", err)
			}
		}
	}
	return nil
}

func validateVariables(t *store.Template) error {
	if len(t.Variables) > maxVariables {
		return invalid("variables", "at most %d variables", maxVariables)
	}
	seen := map[string]bool{}
	for i, v := range t.Variables {
		field := fmt.Sprintf("variables[%d]", i)
		switch {
		case !envNameRE.MatchString(v.EnvName):
			return invalid(field+".env_name", "%q must match ^[A-Z_][A-Z0-9_]*$", v.EnvName)
		case slices.Contains(servers.ReservedEnv, v.EnvName):
			return invalid(field+".env_name", "%s is set by the core for every server (as are %s)", v.EnvName, strings.Join(servers.ReservedEnv, ", "))
		case seen[v.EnvName]:
			return invalid(field+".env_name", "%s is declared twice", v.EnvName)
		case strings.TrimSpace(v.Name) == "" || len(v.Name) > 128 || !oneLine(v.Name):
			return invalid(field+".name", "variable %s needs a name of one line", v.EnvName)
		case !isText(v.Description, 4096):
			return invalid(field+".description", "must be at most 4096 bytes of text")
		case !isText(v.Default, 4096):
			return invalid(field+".default", "must be text of at most %d bytes", 4096)
		case v.UserEditable && !v.UserViewable:
			return invalid(field+".user_editable", "%s is user_editable but not user_viewable", v.EnvName)
		case len(v.Rules) > maxLine:
			return invalid(field+".rules", "must be at most %d bytes", maxLine)
		}
		rules, err := varrules.Parse(v.Rules)
		if err != nil {
			return invalid(field+".rules", "%v", err)
		}
		// An empty default is allowed even when the rules require a
		// value: the server's creator then has to give one.
		if v.Default != "" {
			if err := rules.Check(v.Default); err != nil {
				return invalid(field+".default", "%q does not pass the variable's rules: %v", v.Default, err)
			}
		}
		seen[v.EnvName] = true
	}
	return nil
}

func validateConfigFiles(t *store.Template) error {
	if len(t.ConfigFiles) > maxConfigFiles {
		return invalid("config_files", "at most %d files", maxConfigFiles)
	}
	for i, cf := range t.ConfigFiles {
		field := fmt.Sprintf("config_files[%d]", i)
		switch {
		// fs.ValidPath refuses absolute paths, "..", "." and unclean ones.
		case !fs.ValidPath(cf.Path) || cf.Path == "." || strings.ContainsAny(cf.Path, "\\\x00\r\n") || len(cf.Path) > maxLine:
			return invalid(field+".path", "%q must be a clean path relative to the server's files, such as config/server.yml, without ..", cf.Path)
		case !slices.Contains(wire.Parsers, cf.Parser):
			return invalid(field+".parser", "%q must be one of %s", cf.Parser, strings.Join(wire.Parsers, ", "))
		case len(cf.Replace) == 0:
			return invalid(field+".replace", "name at least one value to set")
		case len(cf.Replace) > maxReplace:
			return invalid(field+".replace", "at most %d values per file", maxReplace)
		}
		for j, r := range cf.Replace {
			rf := fmt.Sprintf("%s.replace[%d]", field, j)
			if strings.TrimSpace(r.Match) == "" || !oneLine(r.Match) || len(r.Match) > maxLine {
				return invalid(rf+".match", "must name what to set, on one line")
			}
			if !oneLine(r.Value) || len(r.Value) > maxLine {
				return invalid(rf+".value", "must be one line of at most %d bytes", maxLine)
			}
		}
	}
	return nil
}

func validateDenylist(t *store.Template) error {
	if len(t.Denylist) > maxDenylist {
		return invalid("denylist", "at most %d patterns", maxDenylist)
	}
	for i, pat := range t.Denylist {
		// The agent matches with path.Match, which never matches a
		// malformed pattern: refuse it rather than hide nothing.
		if _, err := path.Match(pat, ""); err != nil || strings.Trim(pat, "/") == "" || len(pat) > maxLine {
			return invalid(fmt.Sprintf("denylist[%d]", i), "%q is not a file pattern like \"*.jar\" or \"config/secret.yml\"", pat)
		}
	}
	return nil
}

func validateFeatures(t *store.Template) error {
	if len(t.Features) > maxFeatures {
		return invalid("features", "at most %d features", maxFeatures)
	}
	for i, f := range t.Features {
		if f == "" || len(f) > 64 || !oneLine(f) {
			return invalid(fmt.Sprintf("features[%d]", i), "must be a name of 1-64 characters, such as eula")
		}
	}
	return nil
}
