// Command billing-quota is an example Catalyst policy plugin: it refuses to
// create, start or grow a server when its owner's servers would together
// exceed the owner's memory quota, and logs lifecycle and usage events.
package main

import "catalyst.dev/sdk/plugin"

func main() {
	log := plugin.NewLogger("billing-quota")
	plugin.Serve(newQuota(log), plugin.WithLogger(log))
}
