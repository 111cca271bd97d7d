package host

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// DiagnosticsError is a plugin configuration that cannot be used. Each line
// of its message reads "file:line:col: summary: detail". Callers that
// render diagnostics themselves (with source excerpts) read Diags.
type DiagnosticsError struct {
	Diags hcl.Diagnostics
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
	}
	return b.String()
}
