// Command alerts-discord is the Catalyst alert sink plugin that posts each
// alert as an embed to a Discord webhook. See README.md.
package main

import (
	"catalyst.dev/plugins/alerts-discord/internal/discord"
	"catalyst.dev/sdk/plugin"
)

func main() {
	log := plugin.NewLogger("alerts-discord")
	plugin.Serve(discord.New(log), plugin.WithLogger(log))
}
