package scheduler

import (
	"context"
	"errors"
	"maps"
	"time"

	"catalyst.dev/sdk/plugin"
)

// Timing of the loops.
const (
	// maxSleep caps one wait, so that a machine resumed from suspend (when
	// timers stood still) or a stepped clock is noticed soon.
	maxSleep = 15 * time.Second
	// retryWindow is how long after its slot a firing the host refused is
	// retried; retryFirst is the first pause, doubled after each attempt.
	retryWindow = time.Minute
	retryFirst  = time.Second
	// fireTimeout bounds one call of the host.
	fireTimeout = 10 * time.Second
)

// clock is what the loops read the time from and wait on.
type clock interface {
	Now() time.Time
	// Sleep waits for d, or returns ctx's error once ctx ends.
	Sleep(ctx context.Context, d time.Duration) error
}

// systemClock is the machine's wall clock.
type systemClock struct{}

// Now drops the monotonic reading: slots are wall-clock instants, and a
// stepped wall clock must move them.
func (systemClock) Now() time.Time { return time.Now().Round(0) }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var errNoHost = errors.New("no host attached yet")

// run fires one schedule until ctx ends. cursor is the instant up to
// which every slot has been dealt with: fired, or skipped as too late.
func (s *Scheduler) run(ctx context.Context, e *entry) {
	cursor := s.clock.Now()
	for {
		next := e.spec.Next(cursor, e.loc)
		if next.IsZero() {
			s.log.Error("schedule has no further slot", "schedule", e.schedule.ID, "spec", e.spec.String())
			return
		}
		if err := s.sleepUntil(ctx, next); err != nil {
			return
		}
		now := s.clock.Now()
		if slot, ok := s.latestDue(e, next, now); ok {
			s.fire(ctx, e, slot)
		}
		if ctx.Err() != nil {
			return
		}
		// now is at or after every slot dealt with, so a wall clock
		// stepped back makes none of them due again.
		cursor = now
	}
}

// sleepUntil waits until the clock reads at or after t, in steps of at
// most maxSleep.
func (s *Scheduler) sleepUntil(ctx context.Context, t time.Time) error {
	for {
		now := s.clock.Now()
		if !now.Before(t) {
			return nil
		}
		if err := s.clock.Sleep(ctx, min(t.Sub(now), maxSleep)); err != nil {
			return err
		}
	}
}

// latestDue returns the latest slot from next to now that is at most
// max_lateness old. The slots before it are skipped: the core decides what
// runs were missed while nothing fired, the plugin does not replay them.
func (s *Scheduler) latestDue(e *entry, next, now time.Time) (time.Time, bool) {
	oldest := now.Add(-s.settings.Load().maxLateness)
	slot := next
	if slot.Before(oldest) {
		slot = e.spec.Next(oldest.Add(-time.Nanosecond), e.loc)
	}
	if slot.After(now) {
		s.log.Warn("missed slots are older than max_lateness, skipped",
			"schedule", e.schedule.ID, "from", next.UTC(), "to", now.UTC())
		return time.Time{}, false
	}
	for {
		n := e.spec.Next(slot, e.loc)
		if n.After(now) {
			break
		}
		slot = n
	}
	if !slot.Equal(next) {
		s.log.Warn("slots missed, firing the latest only",
			"schedule", e.schedule.ID, "from", next.UTC(), "latest", slot.UTC())
	}
	return slot, true
}

// fire reports slot to the host, retrying with backoff while the slot is
// less than retryWindow old. The host dedupes by (schedule, FiredAt), so
// a retry of a firing that did arrive is harmless.
func (s *Scheduler) fire(ctx context.Context, e *entry, slot time.Time) {
	f := plugin.Firing{
		ScheduleID: e.schedule.ID,
		FiredAt:    slot.UTC().Truncate(time.Second),
		Labels:     maps.Clone(e.schedule.Labels),
	}
	pause := retryFirst
	for attempt := 1; ; attempt++ {
		err := s.fireOnce(ctx, f)
		switch {
		case err == nil || ctx.Err() != nil:
			return
		case errors.Is(err, plugin.ErrInvalidArgument), errors.Is(err, plugin.ErrNotFound):
			s.log.Error("host refused the firing", "schedule", f.ScheduleID, "slot", f.FiredAt, "error", err)
			return
		case s.clock.Now().Add(pause).Sub(slot) > retryWindow:
			s.log.Error("firing failed, giving up on the slot", "schedule", f.ScheduleID, "slot", f.FiredAt,
				"attempts", attempt, "error", err)
			return
		}
		s.log.Warn("firing failed, will retry", "schedule", f.ScheduleID, "slot", f.FiredAt,
			"attempt", attempt, "retry_in", pause, "error", err)
		if s.clock.Sleep(ctx, pause) != nil {
			return
		}
		pause *= 2
	}
}

func (s *Scheduler) fireOnce(ctx context.Context, f plugin.Firing) error {
	host := s.currentHost()
	if host == nil {
		return errNoHost
	}
	ctx, cancel := context.WithTimeout(ctx, fireTimeout)
	defer cancel()
	return host.Fire(ctx, f)
}
