package servers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"catalyst.dev/core/internal/store"
)

// Change is a server's recorded move from one state to another.
type Change struct {
	ServerID string
	From, To string
	Reason   string
	// Exit is how the process ended, when the change is an exit report.
	Exit *store.Exit
	// CrashLoop: the agent's restart policy gave up on the server.
	CrashLoop bool
}

// Observer is told of every state change the service records, after it is
// stored. It must not block: the browser sockets and, later, alerts
// listen here, and the service waits for them.
type Observer func(Change)

// Observe adds o to the observers. Call it before the service is used.
func (s *Service) Observe(o Observer) { s.observers = append(s.observers, o) }

// transition stores t and tells the observers. from is the state the
// server was in (t.From's single entry, as every caller uses it).
func (s *Service) transition(ctx context.Context, id, from string, t store.Transition) error {
	if err := s.store.TransitionServer(ctx, id, t); err != nil {
		return err
	}
	s.notify(Change{ServerID: id, From: from, To: t.To, Reason: t.Reason, Exit: t.Exit})
	return nil
}

// notify tells the observers of c, which is stored already, and wakes
// whoever waits for the server's state.
func (s *Service) notify(c Change) {
	for _, o := range s.observers {
		o(c)
	}
	s.waiters.wake(c.ServerID)
}

// stateWaiters are the waits for servers' states, by server ID; each is
// woken (without blocking) on every change of its server.
type stateWaiters struct {
	mu sync.Mutex
	m  map[string][]chan struct{}
}

func (w *stateWaiters) wake(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ch := range w.m[id] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (w *stateWaiters) add(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.m == nil {
		w.m = map[string][]chan struct{}{}
	}
	w.m[id] = append(w.m[id], ch)
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if ws := slices.DeleteFunc(w.m[id], func(c chan struct{}) bool { return c == ch }); len(ws) > 0 {
			w.m[id] = ws
		} else {
			delete(w.m, id)
		}
	}
}

// stoppedStates are those in which no process runs.
var stoppedStates = []string{store.StateStopped, store.StateCrashed}

// WaitStopped waits until server id's recorded state says no process
// runs (stopped or crashed), for at most within. It reads the state again
// at each change the service records, not on a timer.
func (s *Service) WaitStopped(ctx context.Context, id string, within time.Duration) error {
	ch, done := s.waiters.add(id)
	defer done()
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		srv, err := s.store.ServerByID(ctx, id)
		if err != nil {
			return err
		}
		if slices.Contains(stoppedStates, srv.State) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("the server did not stop within %s (it is %s)", within, srv.State)
			}
			return ctx.Err()
		}
	}
}
