// Command backup-local is the Catalyst backup store plugin that keeps
// backups as files in a directory on the node. See README.md.
package main

import (
	"catalyst.dev/plugins/backup-local/internal/localstore"
	"catalyst.dev/sdk/plugin"
)

func main() {
	log := plugin.NewLogger("backup-local")
	plugin.Serve(localstore.New(log), plugin.WithLogger(log))
}
