package config

import (
	"catalyst.dev/sdk/hclconfig"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// DiagnosticsError is a configuration file that could not be used. Its
// message has one "file:line:col: summary: detail" line per problem, each
// followed by the offending source line and a caret.
type DiagnosticsError = hclconfig.DiagnosticsError

func newDiagnosticsError(diags hcl.Diagnostics, files map[string]*hcl.File) *DiagnosticsError {
	return &DiagnosticsError{Diags: diags, Files: files}
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
