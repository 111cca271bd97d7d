module catalyst.dev/e2e

go 1.26.0

require (
	catalyst.dev/agent v0.0.0
	github.com/gorilla/websocket v1.5.3
)

replace (
	catalyst.dev/agent => ../agent
	catalyst.dev/sdk => ../sdk
)
