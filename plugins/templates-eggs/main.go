// Command templates-eggs is the Catalyst template source plugin that
// offers Pterodactyl eggs, from a directory or uploaded, as templates.
// See README.md.
package main

import (
	"catalyst.dev/plugins/templates-eggs/internal/source"
	"catalyst.dev/sdk/plugin"
)

func main() {
	log := plugin.NewLogger("templates-eggs")
	plugin.Serve(source.New(log), plugin.WithLogger(log))
}
