package tunnel

import "catalyst.dev/sdk/wire"

// OpenQueue and TakeQueue let the tests drive a Queue as a connection does.
func OpenQueue(q *Queue) { q.setOpen(true) }

func TakeQueue(q *Queue) []string {
	var out []string
	for _, e := range q.take() {
		switch d := e.data.(type) {
		case wire.ServerState:
			out = append(out, "state:"+d.State)
		case wire.ConsoleOutput:
			out = append(out, "console:"+d.Lines[0])
		}
	}
	return out
}
