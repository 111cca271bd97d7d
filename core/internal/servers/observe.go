package servers

import (
	"context"

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
	c := Change{ServerID: id, From: from, To: t.To, Reason: t.Reason, Exit: t.Exit}
	for _, o := range s.observers {
		o(c)
	}
	return nil
}

// notify tells the observers of c without storing anything (a crash loop
// reported for a server already recorded as crashed).
func (s *Service) notify(c Change) {
	for _, o := range s.observers {
		o(c)
	}
}
