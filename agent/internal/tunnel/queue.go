package tunnel

import (
	"sync"

	"catalyst.dev/sdk/wire"
)

// DefaultQueueSize is how many events wait for the core at most.
const DefaultQueueSize = 4096

// Queue holds the events on their way to the core. It implements
// servers.Publisher: Publish never blocks. When the queue is full the
// oldest console output goes first, so that state changes are not lost
// while connected; while no tunnel is up, events are dropped (the next
// Hello reports every server's state afresh).
type Queue struct {
	max   int
	ready chan struct{} // signalled when events arrive

	mu      sync.Mutex
	open    bool
	events  []event
	dropped int // since the last takeDropped
}

type event struct {
	typ  string
	data any
}

// NewQueue makes a Queue holding up to size events.
func NewQueue(size int) *Queue {
	if size < 1 {
		size = DefaultQueueSize
	}
	return &Queue{max: size, ready: make(chan struct{}, 1)}
}

// Publish queues an event for the core, or drops it (see Queue).
func (q *Queue) Publish(typ string, data any) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.open {
		return
	}
	if len(q.events) >= q.max && !q.dropOldest(wire.EventConsoleOutput) {
		if typ == wire.EventConsoleOutput {
			q.dropped++
			return
		}
		q.dropOldest("")
	}
	q.events = append(q.events, event{typ, data})
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// dropOldest removes the oldest event of type typ ("" for any) and reports
// whether there was one.
func (q *Queue) dropOldest(typ string) bool {
	for i, e := range q.events {
		if typ == "" || e.typ == typ {
			q.events = append(q.events[:i], q.events[i+1:]...)
			q.dropped++
			return true
		}
	}
	return false
}

// setOpen starts or stops accepting events; closing discards what waits.
func (q *Queue) setOpen(open bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.open = open
	if !open {
		q.events = nil
	}
}

// take returns the waiting events and empties the queue.
func (q *Queue) take() []event {
	q.mu.Lock()
	defer q.mu.Unlock()
	ev := q.events
	q.events = nil
	return ev
}

// takeDropped returns how many events were dropped since the last call.
func (q *Queue) takeDropped() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.dropped
	q.dropped = 0
	return n
}
