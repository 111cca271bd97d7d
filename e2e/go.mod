module catalyst.dev/e2e

go 1.26.6

require (
	catalyst.dev/agent v0.0.0
	github.com/gorilla/websocket v1.5.4-0.20250319132907-e064f32e3674
)

require (
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/pgx/v5 v5.12.0
	golang.org/x/text v0.43.0 // indirect
)

replace (
	catalyst.dev/agent => ../agent
	catalyst.dev/sdk => ../sdk
)
