package config

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// DiagnosticsError is a configuration file that could not be used. Its
// message has one "file:line:col: summary: detail" line per problem, each
// followed by the offending source line and a caret.
type DiagnosticsError struct {
	Diags hcl.Diagnostics
	files map[string]*hcl.File
}

func newDiagnosticsError(diags hcl.Diagnostics, files map[string]*hcl.File) *DiagnosticsError {
	return &DiagnosticsError{Diags: diags, files: files}
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
		if d.Subject != nil {
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
	f, ok := e.files[r.Filename]
	if !ok || f == nil {
		return "", false
	}
	lines := bytes.Split(f.Bytes, []byte("\n"))
	if r.Start.Line < 1 || r.Start.Line > len(lines) {
		return "", false
	}
	return strings.ReplaceAll(string(lines[r.Start.Line-1]), "\t", " "), true
}

// attrError is an error diagnostic pointing at attribute name in body, or at
// the body itself when the attribute is absent.
func attrError(body hcl.Body, name, summary, detail string) *hcl.Diagnostic {
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail}
	if sb, ok := body.(*hclsyntax.Body); ok {
		if a, ok := sb.Attributes[name]; ok {
			r := a.Expr.Range()
			d.Subject = &r
		} else {
			r := sb.SrcRange
			d.Subject = &r
		}
	}
	return d
}

// evalContext offers env("NAME") and env("NAME", "default") so secrets can
// stay out of the file. A variable that is unset and has no default is an
// error naming the variable, not an empty secret.
func evalContext() *hcl.EvalContext {
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
