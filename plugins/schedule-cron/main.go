// Command schedule-cron is the Catalyst scheduler plugin for cron specs
// ("30 4 * * MON-FRI", "@daily", "@every 15m") in any IANA time zone. See
// README.md.
package main

import (
	// Schedules name IANA zones; the plugin must know them all even on a
	// machine without a zoneinfo database.
	_ "time/tzdata"

	"catalyst.dev/plugins/schedule-cron/internal/scheduler"
	"catalyst.dev/sdk/plugin"
)

func main() {
	log := plugin.NewLogger("schedule-cron")
	plugin.Serve(scheduler.New(log), plugin.WithLogger(log))
}
