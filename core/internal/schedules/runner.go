package schedules

import (
	"context"
	"errors"
	"fmt"
	"time"

	"catalyst.dev/core/internal/backups"
	"catalyst.dev/core/internal/store"
)

// errShutdown ends the runs a stopping core cuts off.
var errShutdown = errors.New("cut off: the core shut down during the run")

// execute runs r's tasks in the background, recording each outcome.
func (s *Service) execute(sc *store.Schedule, r *store.ScheduleRun) {
	s.mu.Lock()
	s.running[r.ID] = true
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.running, r.ID)
			s.mu.Unlock()
		}()
		s.runTasks(sc, r)
	}()
}

// runTasks does each task after its offset. A task that fails ends the
// run unless it may continue on failure; the run fails if any task did.
func (s *Service) runTasks(sc *store.Schedule, r *store.ScheduleRun) {
	// Progress is written with a context the shutdown does not cancel, so
	// a cut-off run still records why.
	rec := context.WithoutCancel(s.ctx)
	failed := false
	for i, t := range sc.Tasks {
		if err := s.sleep(time.Duration(t.OffsetSeconds) * time.Second); err != nil {
			s.finish(rec, r, i, err)
			return
		}
		started := time.Now().UTC()
		r.Tasks[i].Status, r.Tasks[i].StartedAt = store.RunRunning, &started
		s.update(rec, r)
		err := s.do(sc.ServerID, t)
		done := time.Now().UTC()
		r.Tasks[i].FinishedAt = &done
		if err == nil {
			r.Tasks[i].Status = store.RunCompleted
			s.update(rec, r)
			continue
		}
		r.Tasks[i].Status, r.Tasks[i].Error = store.RunFailed, err.Error()
		failed = true
		if s.ctx.Err() != nil {
			s.finish(rec, r, i+1, errShutdown)
			return
		}
		if !t.ContinueOnFailure {
			s.finish(rec, r, i+1, fmt.Errorf("task %d (%s) failed: %v", i+1, t.Action, err))
			return
		}
		s.update(rec, r)
	}
	var err error
	if failed {
		err = errors.New("a task failed; the tasks after it ran (continue_on_failure)")
	}
	s.finish(rec, r, len(sc.Tasks), err)
}

// sleep waits d, or until the service stops.
func (s *Service) sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.ctx.Done():
		return errShutdown
	}
}

// finish ends r: the tasks from index from on are skipped, and err (nil:
// success) decides the status.
func (s *Service) finish(ctx context.Context, r *store.ScheduleRun, from int, err error) {
	for i := from; i < len(r.Tasks); i++ {
		r.Tasks[i].Status = store.RunSkipped
	}
	done := time.Now().UTC()
	r.FinishedAt = &done
	r.Status = store.RunCompleted
	if err != nil {
		r.Status, r.Error = store.RunFailed, err.Error()
	}
	s.update(ctx, r)
	s.log.Info("schedule run finished", "schedule", r.ScheduleID, "server", r.ServerID, "run", r.ID, "status", r.Status, "error", r.Error)
}

func (s *Service) update(ctx context.Context, r *store.ScheduleRun) {
	if err := s.store.UpdateRun(ctx, r); err != nil {
		s.log.Error("record a schedule run's progress", "run", r.ID, "error", err)
	}
}

// do runs one task on the server, as it is now.
func (s *Service) do(serverID string, t store.ScheduleTask) error {
	timeout := s.opts.TaskTimeout
	if t.Action == store.TaskBackup {
		timeout = s.opts.BackupTimeout
	}
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	if t.Action == store.TaskPower {
		_, err := s.servers.Power(ctx, serverID, t.Payload)
		return err
	}
	srv, err := s.store.ServerByID(ctx, serverID)
	if err != nil {
		return fmt.Errorf("load the server: %w", err)
	}
	if t.Action == store.TaskBackup {
		return s.backup(ctx, srv, t.Payload)
	}
	return s.servers.Command(ctx, srv, t.Payload)
}

// backup makes a backup and waits until it is completed or failed,
// reading its record every couple of seconds (a backup takes minutes).
func (s *Service) backup(ctx context.Context, srv *store.Server, name string) error {
	b, err := s.backups.Create(ctx, srv, backups.NewBackup{Name: name}, "")
	if err != nil {
		return err
	}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			cur, err := s.store.BackupByID(ctx, srv.ID, b.ID)
			if err != nil {
				return fmt.Errorf("backup %s: %w", b.ID, err)
			}
			switch cur.Status {
			case store.BackupCompleted:
				return nil
			case store.BackupFailed:
				return fmt.Errorf("backup %s failed: %s", b.ID, cur.Error)
			}
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("backup %s did not complete within %s", b.ID, s.opts.BackupTimeout)
			}
			return errShutdown
		}
	}
}
