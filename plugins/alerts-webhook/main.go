// Command alerts-webhook is the Catalyst alert sink plugin that POSTs each
// alert as signed JSON to an HTTP endpoint. See README.md.
package main

import (
	"catalyst.dev/plugins/alerts-webhook/internal/sink"
	"catalyst.dev/sdk/plugin"
)

func main() {
	log := plugin.NewLogger("alerts-webhook")
	plugin.Serve(sink.New(log), plugin.WithLogger(log))
}
