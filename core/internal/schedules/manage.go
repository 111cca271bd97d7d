package schedules

import (
	"context"
	"errors"
	"fmt"
	"time"

	"catalyst.dev/core/internal/store"
)

// View is a schedule with its upcoming slots, for people planning around
// it.
type View struct {
	*store.Schedule
	// Upcoming are the next slots (at most 5); empty while disabled.
	Upcoming []time.Time `json:"upcoming"`
}

// view adds sc's upcoming slots.
func (s *Service) view(sc *store.Schedule) View {
	v := View{Schedule: sc, Upcoming: []time.Time{}}
	if !sc.Enabled {
		return v
	}
	tm, err := parseTiming(sc.Cron, sc.Timezone, 0)
	if err != nil {
		return v
	}
	v.Upcoming = upcoming(tm, time.Now(), 5)
	return v
}

func upcoming(tm timing, from time.Time, n int) []time.Time {
	out := make([]time.Time, 0, n)
	for t := from; len(out) < n; {
		t = tm.next(t)
		out = append(out, t)
	}
	return out
}

// Preview returns the next n slots of an expression in a zone, or the
// field error that Create would give it.
func (s *Service) Preview(expr, zone string, n int) ([]time.Time, error) {
	tm, err := parseTiming(expr, zone, s.opts.MinInterval)
	if err != nil {
		return nil, err
	}
	return upcoming(tm, time.Now(), n), nil
}

// List returns the server's schedules.
func (s *Service) List(ctx context.Context, serverID string) ([]View, error) {
	list, err := s.store.ListSchedules(ctx, serverID)
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(list))
	for _, sc := range list {
		out = append(out, s.view(sc))
	}
	return out, nil
}

// Get returns one of the server's schedules.
func (s *Service) Get(ctx context.Context, serverID, id string) (View, error) {
	sc, err := s.store.ScheduleByID(ctx, serverID, id)
	if err != nil {
		return View{}, err
	}
	return s.view(sc), nil
}

// Create validates and stores a schedule of the server and hands it to
// the scheduler.
func (s *Service) Create(ctx context.Context, serverID string, sp Spec) (View, error) {
	tm, err := normalize(&sp, s.opts.MinInterval)
	if err != nil {
		return View{}, err
	}
	sc := &store.Schedule{ServerID: serverID}
	apply(sc, sp, tm)
	if err := s.store.CreateSchedule(ctx, sc); err != nil {
		return View{}, err
	}
	s.tell(ctx, sc)
	return s.view(sc), nil
}

// Update replaces a schedule's settings; its next slot is counted again
// from now.
func (s *Service) Update(ctx context.Context, serverID, id string, sp Spec) (View, error) {
	sc, err := s.store.ScheduleByID(ctx, serverID, id)
	if err != nil {
		return View{}, err
	}
	tm, err := normalize(&sp, s.opts.MinInterval)
	if err != nil {
		return View{}, err
	}
	apply(sc, sp, tm)
	if err := s.store.UpdateSchedule(ctx, sc); err != nil {
		return View{}, err
	}
	s.tell(ctx, sc)
	return s.view(sc), nil
}

// apply copies a checked spec into sc.
func apply(sc *store.Schedule, sp Spec, tm timing) {
	sc.Name, sc.Cron, sc.Timezone, sc.Enabled = sp.Name, sp.Cron, sp.Timezone, *sp.Enabled
	sc.OnlyWhenOnline, sc.Tasks = sp.OnlyWhenOnline, sp.Tasks
	sc.NextRunAt = nil
	if sc.Enabled {
		next := tm.next(time.Now())
		sc.NextRunAt = &next
	}
}

// Delete removes a schedule and its runs; a run in progress stops at its
// next task.
func (s *Service) Delete(ctx context.Context, serverID, id string) error {
	if err := s.store.DeleteSchedule(ctx, serverID, id); err != nil {
		return err
	}
	if s.sched != nil {
		if err := s.sched.Remove(ctx, id); err != nil {
			s.log.Error("remove a deleted schedule from the scheduler plugin; it is ignored if it fires", "schedule", id, "error", err)
		}
	}
	return nil
}

// RunNow starts a run of the schedule at once, whatever its expression and
// enabled flag say; it is refused while another run is in progress.
func (s *Service) RunNow(ctx context.Context, serverID, id string) (*store.ScheduleRun, error) {
	sc, err := s.store.ScheduleByID(ctx, serverID, id)
	if err != nil {
		return nil, err
	}
	if cur, err := s.store.RunningRun(ctx, sc.ID); err == nil {
		return nil, fmt.Errorf("%w (started at %s)", ErrRunning, cur.StartedAt.Format(time.RFC3339))
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	r := newRun(sc, nil, store.TriggerManual, store.RunRunning)
	if _, err := s.store.ClaimRun(ctx, r); err != nil {
		return nil, err
	}
	now := r.StartedAt
	s.setRuns(ctx, sc.ID, &now, sc.NextRunAt)
	s.log.Info("schedule run started by hand", "schedule", sc.ID, "server", sc.ServerID, "run", r.ID)
	runCopy := *r
	runCopy.Tasks = append([]store.RunTask(nil), r.Tasks...)
	s.execute(sc, &runCopy)
	return r, nil
}

// Runs lists a schedule's runs, newest first.
func (s *Service) Runs(ctx context.Context, serverID, id string, limit int, cursor string) ([]*store.ScheduleRun, error) {
	if _, err := s.store.ScheduleByID(ctx, serverID, id); err != nil {
		return nil, err
	}
	return s.store.ListRuns(ctx, id, limit, cursor)
}
