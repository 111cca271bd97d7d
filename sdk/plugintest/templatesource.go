package plugintest

import (
	"context"
	"errors"
	"testing"

	"catalyst.dev/sdk/plugin"
)

// TemplateSourceOptions tune the template source suite.
type TemplateSourceOptions struct {
	Config map[string]any
	// WantIDs must all be listed; empty requires at least one template.
	WantIDs []string
	// ParseFile, when set, is a file the source must convert with Parse
	// (under the name ParseName) into a template with a startup command
	// and an image; garbage must then be ErrInvalidArgument. Unset, Parse
	// may be unimplemented: garbage must be ErrUnimplemented or
	// ErrInvalidArgument.
	ParseFile []byte
	ParseName string
}

// TemplateSource checks a template source plugin: every listed template
// can be fetched and matches its summary, templates are complete enough to
// run, unknown IDs are ErrNotFound, Parse converts what it should and
// refuses garbage, and the configuration schema holds.
func TemplateSource(t *testing.T, target Target, opts TemplateSourceOptions) {
	src := target.open(t, plugin.KindTemplateSource, encodeConfig(t, opts.Config)).(plugin.TemplateSource)
	ctx := context.Background()

	list, err := src.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	t.Run("list", func(t *testing.T) {
		if len(list) == 0 {
			t.Fatal("List returned no templates")
		}
		seen := map[string]bool{}
		for _, s := range list {
			if s.ID == "" || s.Name == "" || s.Version == "" {
				t.Errorf("summary %+v lacks an ID, name or version", s)
			}
			if seen[s.ID] {
				t.Errorf("template %s listed twice", s.ID)
			}
			seen[s.ID] = true
		}
		for _, id := range opts.WantIDs {
			if !seen[id] {
				t.Errorf("template %s not listed", id)
			}
		}
	})
	t.Run("fetch every listed template", func(t *testing.T) {
		for _, s := range list {
			tpl, err := src.Fetch(ctx, s.ID)
			if err != nil {
				t.Fatalf("Fetch %s: %v", s.ID, err)
			}
			if tpl.ID != s.ID || tpl.Name != s.Name || tpl.Version != s.Version {
				t.Errorf("Fetch %s = %s/%s/%s, listed as %s/%s/%s", s.ID, tpl.ID, tpl.Name, tpl.Version, s.ID, s.Name, s.Version)
			}
			checkRunnable(t, "Fetch "+s.ID, tpl)
		}
	})
	t.Run("unknown template is ErrNotFound", func(t *testing.T) {
		if _, err := src.Fetch(ctx, "plugintest-no-such-template"); !errors.Is(err, plugin.ErrNotFound) {
			t.Fatalf("want ErrNotFound, got %s", describe(err))
		}
	})
	t.Run("parse", func(t *testing.T) { checkParse(t, src, opts) })
	t.Run("config schema", func(t *testing.T) { checkSchema(t, src, opts.Config) })
}

// garbage is content no template source reads as a template.
var garbage = []byte("\x00\xffnot a template {{{")

func checkParse(t *testing.T, src plugin.TemplateSource, opts TemplateSourceOptions) {
	ctx := context.Background()
	_, err := src.Parse(ctx, "plugintest-garbage.bin", garbage)
	if opts.ParseFile == nil {
		if !errors.Is(err, plugin.ErrUnimplemented) && !errors.Is(err, plugin.ErrInvalidArgument) {
			t.Errorf("Parse(garbage): want ErrUnimplemented or ErrInvalidArgument, got %s", describe(err))
		}
		return
	}
	if !errors.Is(err, plugin.ErrInvalidArgument) {
		t.Errorf("Parse(garbage): want ErrInvalidArgument, got %s", describe(err))
	}
	tpl, err := src.Parse(ctx, opts.ParseName, opts.ParseFile)
	if err != nil {
		t.Fatalf("Parse %s: %v", opts.ParseName, err)
	}
	checkRunnable(t, "Parse "+opts.ParseName, tpl)
}

// checkRunnable checks a template is complete enough to run: a name, a
// startup command, an image, and an environment name for every variable.
func checkRunnable(t *testing.T, call string, tpl plugin.Template) {
	t.Helper()
	if tpl.Name == "" || tpl.Startup == "" || len(tpl.Images) == 0 {
		t.Errorf("%s gave a template without a name, a startup command or an image: %+v", call, tpl)
	}
	for _, v := range tpl.Variables {
		if v.Env == "" {
			t.Errorf("%s: variable %q has no environment name", call, v.Name)
		}
	}
}
