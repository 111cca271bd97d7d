// Package hclconfig holds what every Catalyst HCL file shares: the core's
// core.hcl, the agent's agent.hcl and the plugin blocks in either. Errors
// name file:line:col and show the offending line with a caret, and values
// may read environment variables with env("NAME") or env("NAME", "default").
package hclconfig

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// DiagnosticsError is a configuration that could not be used. Its message
// has one "file:line:col: summary: detail" line per error, each followed by
// the offending source line and a caret when Files holds the file.
type DiagnosticsError struct {
	Diags hcl.Diagnostics
	// Files are the parsed files by name (hclparse.Parser.Files); nil
	// leaves the source excerpts out.
	Files map[string]*hcl.File
}

func (e *DiagnosticsError) Error() string {
	var b strings.Builder
	for _, d := range e.Diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		if d.Subject != nil && d.Subject.Filename != "" {
			fmt.Fprintf(&b, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		b.WriteString(d.Summary)
		if d.Detail != "" {
			b.WriteString(": ")
			b.WriteString(d.Detail)
		}
		if line, ok := e.sourceLine(d.Subject); ok {
			fmt.Fprintf(&b, "\n    %s\n    %s^", line, strings.Repeat(" ", max(d.Subject.Start.Column-1, 0)))
		}
	}
	return b.String()
}

func (e *DiagnosticsError) sourceLine(r *hcl.Range) (string, bool) {
	if r == nil {
		return "", false
	}
	f, ok := e.Files[r.Filename]
	if !ok || f == nil {
		return "", false
	}
	lines := bytes.Split(f.Bytes, []byte("\n"))
	if r.Start.Line < 1 || r.Start.Line > len(lines) {
		return "", false
	}
	return strings.ReplaceAll(string(lines[r.Start.Line-1]), "\t", " "), true
}

// EvalContext offers env("NAME") and env("NAME", "default") so that
// secrets can stay out of the file. A variable that is unset and has no
// default is an error naming the variable, never an empty secret.
func EvalContext() *hcl.EvalContext {
	env := function.New(&function.Spec{
		Description: "Reads an environment variable.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			if v, ok := os.LookupEnv(name); ok {
				return cty.StringVal(v), nil
			}
			switch len(args) {
			case 1:
				return cty.NilVal, fmt.Errorf("environment variable %s is not set", name)
			case 2:
				return args[1], nil
			default:
				return cty.NilVal, fmt.Errorf("env takes a name and at most one default")
			}
		},
	})
	return &hcl.EvalContext{Functions: map[string]function.Function{"env": env}}
}
