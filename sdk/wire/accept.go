package wire

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/yamux"
)

// AcceptHello is the core's half of the handshake: it accepts the event
// stream the agent opens first on sess and reads its Hello, both by ctx's
// deadline, if any. A first event that is not a Hello of a protocol this
// build speaks is answered with Refused and returned as the error.
//
// On success the caller answers Welcome on the stream and goes on reading
// events from the returned reader, which may already hold what the agent
// sent after its Hello. The stream has no deadline then.
func AcceptHello(ctx context.Context, sess *yamux.Session) (*yamux.Stream, *EventReader, Hello, error) {
	st, err := sess.AcceptStreamWithContext(ctx)
	if err != nil {
		return nil, nil, Hello{}, fmt.Errorf("accept the event stream: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = st.SetDeadline(dl)
	}
	events := NewEventReader(st)
	e, err := events.Read()
	if err != nil {
		return nil, nil, Hello{}, fmt.Errorf("read hello: %w", err)
	}
	var hello Hello
	if e.Type != EventHello {
		err = fmt.Errorf("first event is %q, want %q", e.Type, EventHello)
	} else if err = e.Decode(&hello); err == nil {
		err = CheckProtocol(hello.ProtocolVersion)
	}
	if err != nil {
		_ = NewEventWriter(st).Write(EventRefused, Refused{Message: err.Error()})
		return nil, nil, Hello{}, err
	}
	_ = st.SetDeadline(time.Time{})
	return st, events, hello, nil
}
