package gateway

import (
	"context"

	"catalyst.dev/sdk/wire"
)

// Handlers hands every call to each of its handlers in turn, so that the
// state machine, the metrics recorder and the browser sockets each see
// what agents say. A handler must not block: the next one, and the node's
// next event, wait for it.
type Handlers []Handler

var _ Handler = Handlers(nil)

// OnHello calls OnHello on each handler.
func (hs Handlers) OnHello(ctx context.Context, nodeID string, h wire.Hello) {
	for _, x := range hs {
		x.OnHello(ctx, nodeID, h)
	}
}

// OnEvent calls OnEvent on each handler.
func (hs Handlers) OnEvent(ctx context.Context, nodeID string, e wire.Envelope) {
	for _, x := range hs {
		x.OnEvent(ctx, nodeID, e)
	}
}

// OnDisconnect calls OnDisconnect on each handler.
func (hs Handlers) OnDisconnect(nodeID string) {
	for _, x := range hs {
		x.OnDisconnect(nodeID)
	}
}
