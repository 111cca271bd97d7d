package host

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"

	"catalyst.dev/sdk/plugin"
)

// Spec is one plugin to run, as declared by a block
//
//	plugin "backup-s3" {
//	  path   = "catalyst-backup-s3"   # relative to the plugin directory
//	  sha256 = "…"                    # optional; refuse to launch on mismatch
//	  config { bucket = "game-backups" }
//	}
type Spec struct {
	// Name is the block label; it names this instance in logs and status.
	Name string
	// Path is the executable, absolute or relative to the plugin directory.
	Path string
	// SHA256 is the expected hex digest of the executable; empty skips the
	// check.
	SHA256 string
	// Config is the body of the config block, decoded against the plugin's
	// schema once the plugin has published it. Nil means no block.
	Config hcl.Body
	// ConfigJSON configures the plugin when Config is nil; for callers that
	// build specs in code (tests, plugintest) rather than from HCL.
	ConfigJSON plugin.Config
	// Args and Env are extra arguments and environment ("K=V") for the
	// process; HCL cannot set them, tests can.
	Args []string
	Env  []string
	// DeclRange is where the block was declared, for diagnostics that
	// have no better place to point at.
	DeclRange hcl.Range

	evalCtx *hcl.EvalContext
}

// Block captures a plugin block with gohcl, for configuration structs that
// embed plugin blocks:
//
//	Plugins []host.Block `hcl:"plugin,block"`
type Block struct {
	Name      string    `hcl:"name,label"`
	Body      hcl.Body  `hcl:",remain"`
	DeclRange hcl.Range `hcl:",def_range"`
}

var pluginBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "path", Required: true},
		{Name: "sha256"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "config"}},
}

// DecodeSpec decodes the body of the plugin block labelled name. evalCtx
// (may be nil) offers variables and functions, such as the core's env(),
// to the block and to its config block, which is decoded later, against
// the plugin's schema.
func DecodeSpec(name string, body hcl.Body, evalCtx *hcl.EvalContext) (Spec, hcl.Diagnostics) {
	spec := Spec{Name: name, evalCtx: evalCtx, DeclRange: body.MissingItemRange()}
	content, diags := body.Content(pluginBlockSchema)
	if a, ok := content.Attributes["path"]; ok {
		diags = append(diags, gohcl.DecodeExpression(a.Expr, evalCtx, &spec.Path)...)
		if spec.Path == "" && !diags.HasErrors() {
			diags = append(diags, errorAt(a.Expr.Range(), "Empty plugin path", "path must name the plugin executable."))
		}
	}
	if a, ok := content.Attributes["sha256"]; ok {
		d := gohcl.DecodeExpression(a.Expr, evalCtx, &spec.SHA256)
		diags = append(diags, d...)
		spec.SHA256 = strings.ToLower(strings.TrimSpace(spec.SHA256))
		if !d.HasErrors() {
			if b, err := hex.DecodeString(spec.SHA256); err != nil || len(b) != 32 {
				diags = append(diags, errorAt(a.Expr.Range(), "Invalid sha256",
					"sha256 must be 64 hexadecimal digits, as printed by sha256sum."))
			}
		}
	}
	for i, b := range content.Blocks {
		if i > 0 {
			diags = append(diags, errorAt(b.DefRange, "Duplicate config block",
				fmt.Sprintf("plugin %q already has a config block at %s.", name, content.Blocks[0].DefRange)))
			continue
		}
		spec.Config = b.Body
	}
	return spec, diags
}

// DecodeBlocks decodes captured plugin blocks, refusing duplicate names.
func DecodeBlocks(blocks []Block, evalCtx *hcl.EvalContext) ([]Spec, hcl.Diagnostics) {
	var (
		specs []Spec
		diags hcl.Diagnostics
		seen  = map[string]hcl.Range{}
	)
	for _, b := range blocks {
		if prev, dup := seen[b.Name]; dup {
			diags = append(diags, errorAt(b.DeclRange, "Duplicate plugin",
				fmt.Sprintf("A plugin named %q is already declared at %s.", b.Name, prev)))
			continue
		}
		seen[b.Name] = b.DeclRange
		spec, d := DecodeSpec(b.Name, b.Body, evalCtx)
		diags = append(diags, d...)
		if b.DeclRange.Filename != "" {
			spec.DeclRange = b.DeclRange
		}
		specs = append(specs, spec)
	}
	return specs, diags
}

// File is a standalone plugins file: a plugin directory and plugin blocks.
type File struct {
	PluginDir string  `hcl:"plugin_dir,optional"`
	Blocks    []Block `hcl:"plugin,block"`

	// Plugins holds the decoded blocks.
	Plugins []Spec
}

// ParseFile reads a standalone plugins file. The core reads plugin blocks
// as part of its own configuration; this is for tools and tests.
func ParseFile(path string, evalCtx *hcl.EvalContext) (*File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plugins file: %w", err)
	}
	return Parse(path, src, evalCtx)
}

// Parse decodes src as if read from filename. Errors are *DiagnosticsError.
func Parse(filename string, src []byte, evalCtx *hcl.EvalContext) (*File, error) {
	parser := hclparse.NewParser()
	f, diags := parser.ParseHCL(src, filename)
	if diags.HasErrors() {
		return nil, &DiagnosticsError{Diags: diags}
	}
	var file File
	diags = gohcl.DecodeBody(f.Body, evalCtx, &file)
	specs, d := DecodeBlocks(file.Blocks, evalCtx)
	diags = append(diags, d...)
	if diags.HasErrors() {
		return nil, &DiagnosticsError{Diags: diags}
	}
	file.Plugins = specs
	return &file, nil
}

func errorAt(r hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: r.Ptr()}
}
