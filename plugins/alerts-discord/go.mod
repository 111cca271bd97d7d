module catalyst.dev/plugins/alerts-discord

go 1.26
