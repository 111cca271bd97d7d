package plugintest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugin/host"
)

// checkSchema runs the configuration checks every kind shares: the schema
// is valid, the host accepts the suite's config as HCL, and both the host
// (decoding HCL) and the plugin (Configure) reject a config that lacks a
// required key or has an unknown one. It leaves p configured with cfg.
func checkSchema(t *testing.T, p plugin.Base, cfg map[string]any) {
	ctx := context.Background()
	schema, err := p.ConfigSchema(ctx)
	if err != nil {
		t.Fatalf("ConfigSchema: %v", err)
	}
	if err := schema.Validate(); err != nil {
		t.Fatalf("schema: %v", err)
	}
	defer func() {
		if err := p.Configure(ctx, encodeConfig(t, cfg)); err != nil {
			t.Fatalf("restore configuration: %v", err)
		}
	}()

	t.Run("host accepts the config as HCL", func(t *testing.T) {
		if _, diags := host.DecodeConfig(schema, hclBody(t, cfg), nil, hcl.Range{}); diags.HasErrors() {
			t.Fatalf("the host rejects the suite's config: %v", diags)
		}
	})

	required := 0
	for _, f := range schema.Fields {
		if !f.Required {
			continue
		}
		required++
		t.Run("missing required "+f.Name, func(t *testing.T) {
			partial := maps.Clone(cfg)
			delete(partial, f.Name)
			err := p.Configure(ctx, encodeConfig(t, partial))
			if !errors.Is(err, plugin.ErrInvalidArgument) {
				t.Errorf("Configure without %q: want ErrInvalidArgument, got %v", f.Name, err)
			}
			_, diags := host.DecodeConfig(schema, hclBody(t, partial), nil, hcl.Range{})
			if !diags.HasErrors() || !strings.Contains(diags.Error(), f.Name) {
				t.Errorf("host decoding without %q: want a diagnostic naming it, got %v", f.Name, diags)
			}
		})
	}
	if required == 0 {
		t.Log("schema has no required field; nothing to leave out")
	}

	t.Run("unknown key rejected", func(t *testing.T) {
		bad := maps.Clone(cfg)
		if bad == nil {
			bad = map[string]any{}
		}
		bad["plugintest_unknown_key"] = "x"
		if err := p.Configure(ctx, encodeConfig(t, bad)); !errors.Is(err, plugin.ErrInvalidArgument) {
			t.Errorf("Configure with an unknown key: want ErrInvalidArgument, got %v", err)
		}
		if _, diags := host.DecodeConfig(schema, hclBody(t, bad), nil, hcl.Range{}); !diags.HasErrors() {
			t.Error("host decoding accepted an unknown key")
		}
	})
}

// hclBody renders cfg as the body of an HCL config block.
func hclBody(t *testing.T, cfg map[string]any) hcl.Body {
	t.Helper()
	f := hclwrite.NewEmptyFile()
	for _, k := range slices.Sorted(maps.Keys(cfg)) {
		raw, err := json.Marshal(cfg[k])
		if err != nil {
			t.Fatal(err)
		}
		ty, err := ctyjson.ImpliedType(raw)
		if err != nil {
			t.Fatal(err)
		}
		v, err := ctyjson.Unmarshal(raw, ty)
		if err != nil {
			t.Fatal(err)
		}
		f.Body().SetAttributeValue(k, v)
	}
	parsed, diags := hclsyntax.ParseConfig(f.Bytes(), "config.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("render config as HCL: %v\n%s", diags, f.Bytes())
	}
	return parsed.Body
}

func describe(err error) string {
	if err == nil {
		return "nil"
	}
	return fmt.Sprintf("%T: %v", err, err)
}
