package host

import "catalyst.dev/sdk/hclconfig"

// DiagnosticsError is a plugin configuration that cannot be used. Each line
// of its message reads "file:line:col: summary: detail". Callers that hold
// the parsed files set Files to add source excerpts, or read Diags.
type DiagnosticsError = hclconfig.DiagnosticsError
