// Command testplugin is the plugin the SDK's own tests launch. It serves a
// directory backup store, or the alert sink or scheduler that
// CATALYST_TESTPLUGIN_KIND names.
package main

import (
	"os"

	"catalyst.dev/sdk/internal/testplugins/dirstore"
	"catalyst.dev/sdk/plugin"
)

func main() {
	switch plugin.Kind(os.Getenv("CATALYST_TESTPLUGIN_KIND")) {
	case plugin.KindAlertSink:
		plugin.Serve(&dirstore.Sink{})
	case plugin.KindScheduler:
		plugin.Serve(&dirstore.Ticker{})
	default:
		plugin.Serve(&dirstore.Store{})
	}
}
