// Command backup-s3 is the Catalyst backup store plugin that keeps backups
// in a bucket of any S3-compatible service. See README.md.
package main

import (
	"catalyst.dev/plugins/backup-s3/internal/s3store"
	"catalyst.dev/sdk/plugin"
)

func main() {
	log := plugin.NewLogger("backup-s3")
	plugin.Serve(s3store.New(log), plugin.WithLogger(log))
}
