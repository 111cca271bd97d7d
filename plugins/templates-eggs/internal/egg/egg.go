// Package egg converts Pterodactyl eggs (the PTDL_v1 and PTDL_v2 JSON
// exports) into Catalyst templates. What cannot be converted is never
// dropped silently: it is named in the template's Warnings.
package egg

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"catalyst.dev/sdk/plugin"
)

// MaxSize is the largest egg file Convert reads; real eggs are a few
// kilobytes, the largest a few dozen.
const MaxSize = 1 << 20

// Version is the template version of an egg file: the first 16 hex
// digits of its SHA-256, so it changes whenever the file does.
func Version(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:16]
}

// knownFeatures are the egg features Pterodactyl's panel acts on.
var knownFeatures = []string{"eula", "java_version", "pid_limit", "steam_disk_space", "gsl_token"}

// converter gathers the warnings of one conversion, each once, in the
// order they arise.
type converter struct {
	warnings []string
}

func (c *converter) warn(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	if !slices.Contains(c.warnings, w) {
		c.warnings = append(c.warnings, w)
	}
}

// invalid is a conversion error: the content is not an egg Catalyst can
// read.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), plugin.ErrInvalidArgument)
}

// topLevel are the keys of an egg file, each decoded by its own step.
// _comment and exported_at describe the export, not the game.
type topLevel struct {
	meta, name, author, description, features, dockerImages, images, image,
	denylist, startup, config, scripts, variables json.RawMessage
}

func (t *topLevel) field(key string) *json.RawMessage {
	switch key {
	case "meta":
		return &t.meta
	case "name":
		return &t.name
	case "author":
		return &t.author
	case "description":
		return &t.description
	case "features":
		return &t.features
	case "docker_images":
		return &t.dockerImages
	case "images":
		return &t.images
	case "image":
		return &t.image
	case "file_denylist":
		return &t.denylist
	case "startup":
		return &t.startup
	case "config":
		return &t.config
	case "scripts":
		return &t.scripts
	case "variables":
		return &t.variables
	}
	return nil
}

// Convert turns the egg file data into a template with the given ID. An
// error wraps plugin.ErrInvalidArgument and says what is wrong.
func Convert(id string, data []byte) (plugin.Template, error) {
	if len(data) > MaxSize {
		return plugin.Template{}, invalid("the file is larger than 1 MiB; eggs are a few kilobytes")
	}
	obj, err := decodeObject(data, "the file")
	if err != nil {
		return plugin.Template{}, invalid("not a Pterodactyl egg: %v", err)
	}
	c := &converter{}
	var top topLevel
	for _, m := range obj {
		if f := top.field(m.Key); f != nil {
			*f = m.Value
		} else if m.Key != "_comment" && m.Key != "exported_at" {
			c.warn("key %q is not used", m.Key)
		}
	}
	if err := c.meta(top.meta); err != nil {
		return plugin.Template{}, err
	}
	t := plugin.Template{ID: id, Version: Version(data)}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *string
	}{{"name", top.name, &t.Name}, {"author", top.author, &t.Author}, {"description", top.description, &t.Description}} {
		if err := decodeField(f.name, f.raw, f.dst, "a string"); err != nil {
			return plugin.Template{}, invalid("%v", err)
		}
	}
	if strings.TrimSpace(t.Name) == "" {
		return plugin.Template{}, invalid("the egg has no name")
	}
	steps := []func() error{
		func() (err error) { t.Images, err = c.images(top); return err },
		func() error { return c.startupLine(top.startup, &t) },
		func() (err error) { t.Features, err = c.features(top.features); return err },
		func() (err error) { t.Denylist, err = c.denylist(top.denylist); return err },
		func() error { return c.config(top.config, &t) },
		func() (err error) { t.Install, err = c.install(top.scripts); return err },
		func() (err error) { t.Variables, err = c.variables(top.variables); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return plugin.Template{}, invalid("%v", err)
		}
	}
	t.Warnings = c.warnings
	return t, nil
}

// meta checks that the file is an egg of a version Catalyst reads.
func (c *converter) meta(raw json.RawMessage) error {
	var meta struct {
		Version   string `json:"version"`
		UpdateURL string `json:"update_url"`
	}
	if err := decodeField("meta", raw, &meta, `an object such as {"version": "PTDL_v2"}`); err != nil {
		return invalid("not a Pterodactyl egg: %v", err)
	}
	switch meta.Version {
	case "PTDL_v1", "PTDL_v2":
	case "":
		return invalid("not a Pterodactyl egg: meta.version is missing, want PTDL_v1 or PTDL_v2")
	default:
		return invalid("not a Pterodactyl egg: meta.version is %q, want PTDL_v1 or PTDL_v2", meta.Version)
	}
	if meta.UpdateURL != "" {
		c.warn("meta.update_url %s is not used: Catalyst does not update templates from a URL", meta.UpdateURL)
	}
	return nil
}

// images reads docker_images (PTDL_v2: label → image, in file order),
// else images (PTDL_v1: a list), else image (older exports: one image).
// A label equal to its image is left empty: the image is shown anyway.
func (c *converter) images(top topLevel) ([]plugin.Image, error) {
	var out []plugin.Image
	if !isNull(top.dockerImages) {
		obj, err := decodeObject(top.dockerImages, "docker_images")
		if err != nil {
			return nil, err
		}
		for _, m := range obj {
			var ref string
			if err := decodeField("docker_images."+m.Key, m.Value, &ref, "a string"); err != nil {
				return nil, err
			}
			if strings.TrimSpace(ref) == "" {
				return nil, fmt.Errorf("docker_images.%s is empty, want an image reference", m.Key)
			}
			label := m.Key
			if label == ref {
				label = ""
			}
			out = append(out, plugin.Image{Label: label, Ref: ref})
		}
	}
	var list []string
	if err := decodeField("images", top.images, &list, "an array of strings"); err != nil {
		return nil, err
	}
	var single string
	if err := decodeField("image", top.image, &single, "a string"); err != nil {
		return nil, err
	}
	if single != "" {
		list = append(list, single)
	}
	fromDockerImages := len(out) > 0
	for _, ref := range list {
		switch {
		case ref == "" || slices.ContainsFunc(out, func(i plugin.Image) bool { return i.Ref == ref }):
		case fromDockerImages:
			c.warn("image %s is not offered: docker_images lists the images", ref)
		default:
			out = append(out, plugin.Image{Ref: ref})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the egg has no image: docker_images is empty")
	}
	return out, nil
}

func (c *converter) startupLine(raw json.RawMessage, t *plugin.Template) error {
	var line string
	if err := decodeField("startup", raw, &line, "a string"); err != nil {
		return err
	}
	if strings.TrimSpace(line) == "" {
		return fmt.Errorf("the egg has no startup command")
	}
	t.Startup = c.startup(line)
	return nil
}

// features keeps every feature; those Pterodactyl's panel does not know
// are kept too, with a warning, since a Catalyst panel might.
func (c *converter) features(raw json.RawMessage) ([]string, error) {
	var fs []string
	if err := decodeField("features", raw, &fs, "an array of strings"); err != nil {
		return nil, err
	}
	for _, f := range fs {
		if !slices.Contains(knownFeatures, f) {
			c.warn("feature %q is unknown (known: %s); it is kept", f, strings.Join(knownFeatures, ", "))
		}
	}
	return fs, nil
}

// denylist keeps the patterns path.Match reads. Pterodactyl reads them
// like .gitignore lines; a negation ("!keep.txt") has no equivalent.
func (c *converter) denylist(raw json.RawMessage) ([]string, error) {
	var in []string
	if err := decodeField("file_denylist", raw, &in, "an array of strings"); err != nil {
		return nil, err
	}
	var out []string
	for _, p := range in {
		p = strings.TrimSpace(p)
		switch _, err := path.Match(p, ""); {
		case p == "":
		case strings.HasPrefix(p, "!"):
			c.warn("file_denylist %q: exceptions (\"!\") are not supported; the entry was dropped", p)
		case err != nil:
			c.warn("file_denylist %q is not a valid pattern; the entry was dropped", p)
		default:
			if strings.Contains(p, "**") {
				c.warn("file_denylist %q: ** matches within one path segment, like *", p)
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// install reads scripts.installation. Scripts exported from the panel
// carry Windows line ends, which would break the interpreter's line.
func (c *converter) install(raw json.RawMessage) (plugin.Install, error) {
	if isNull(raw) {
		return plugin.Install{}, nil
	}
	scripts, err := decodeObject(raw, "scripts")
	if err != nil {
		return plugin.Install{}, err
	}
	var in plugin.Install
	for _, m := range scripts {
		if m.Key != "installation" {
			c.warn("scripts.%s is not used", m.Key)
			continue
		}
		inst, err := decodeObject(m.Value, "scripts.installation")
		if err != nil {
			return plugin.Install{}, err
		}
		for _, f := range inst {
			var dst *string
			switch f.Key {
			case "script":
				dst = &in.Script
			case "container":
				dst = &in.Image
			case "entrypoint":
				dst = &in.Entrypoint
			default:
				c.warn("scripts.installation.%s is not used", f.Key)
				continue
			}
			if err := decodeField("scripts.installation."+f.Key, f.Value, dst, "a string"); err != nil {
				return plugin.Install{}, err
			}
		}
	}
	in.Script = strings.ReplaceAll(in.Script, "\r\n", "\n")
	return in, nil
}
