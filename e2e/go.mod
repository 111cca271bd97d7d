module catalyst.dev/e2e

go 1.26.0

require catalyst.dev/agent v0.0.0

replace (
	catalyst.dev/agent => ../agent
	catalyst.dev/sdk => ../sdk
)
