package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
)

func TestScheduleRunsClaimEachSlotOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		srv := &store.Server{Name: "s", OwnerID: f.user.ID, NodeID: f.node.ID, TemplateID: f.tmpl.ID,
			State: store.StateStopped, Image: "x", Startup: "x"}
		if err := s.CreateServer(ctx, srv, nil); err != nil {
			t.Fatal(err)
		}
		sc := &store.Schedule{ServerID: srv.ID, Name: "nightly", Cron: "0 4 * * *", Timezone: "Europe/Berlin", Enabled: true,
			Tasks: []store.ScheduleTask{{Action: store.TaskCommand, Payload: "say hi"}, {Action: store.TaskPower, Payload: "restart", OffsetSeconds: 2}}}
		if err := s.CreateSchedule(ctx, sc); err != nil {
			t.Fatal(err)
		}
		got, err := s.ScheduleByID(ctx, srv.ID, sc.ID)
		if err != nil || len(got.Tasks) != 2 || got.Tasks[1].OffsetSeconds != 2 || got.Timezone != "Europe/Berlin" {
			t.Fatalf("ScheduleByID = %+v, %v", got, err)
		}
		if _, err := s.ScheduleByID(ctx, "other", sc.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another server's schedule: %v, want ErrNotFound", err)
		}

		// Eight claimants race for one slot, as eight replicas would.
		slot := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := &store.ScheduleRun{ScheduleID: sc.ID, ServerID: srv.ID, Slot: &slot, Trigger: store.TriggerCron,
					Status: store.RunRunning, Tasks: []store.RunTask{}}
				ok, err := s.ClaimRun(ctx, r)
				if err != nil {
					t.Errorf("ClaimRun: %v", err)
				}
				if ok {
					won.Add(1)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%d claims won the slot, want 1", won.Load())
		}
		// Manual runs have no slot and never collide.
		for range 2 {
			ok, err := s.ClaimRun(ctx, &store.ScheduleRun{ScheduleID: sc.ID, ServerID: srv.ID, Trigger: store.TriggerManual,
				Status: store.RunCompleted, Tasks: []store.RunTask{}})
			if err != nil || !ok {
				t.Fatalf("manual ClaimRun = %v, %v", ok, err)
			}
		}
		runs, err := s.ListRuns(ctx, sc.ID, 10, "")
		if err != nil || len(runs) != 3 {
			t.Fatalf("ListRuns = %d runs, %v; want 3", len(runs), err)
		}
		page, err := s.ListRuns(ctx, sc.ID, 10, runs[0].ID)
		if err != nil || len(page) != 2 {
			t.Fatalf("ListRuns after the first = %d, %v; want 2", len(page), err)
		}

		// The running run's core goes quiet: it is failed as stale.
		running, err := s.RunningRun(ctx, sc.ID)
		if err != nil || running.Slot == nil || !running.Slot.Equal(slot) {
			t.Fatalf("RunningRun = %+v, %v", running, err)
		}
		if n, err := s.FailStaleRuns(ctx, time.Now().Add(-time.Minute), "gone"); err != nil || n != 0 {
			t.Fatalf("FailStaleRuns of a fresh run = %d, %v", n, err)
		}
		if n, err := s.FailStaleRuns(ctx, time.Now().Add(time.Minute), "the core running it stopped"); err != nil || n != 1 {
			t.Fatalf("FailStaleRuns = %d, %v; want 1", n, err)
		}
		r, err := s.RunByID(ctx, sc.ID, running.ID)
		if err != nil || r.Status != store.RunFailed || r.Error != "the core running it stopped" || r.FinishedAt == nil {
			t.Fatalf("stale run = %+v, %v", r, err)
		}

		// last_run_at never moves back.
		later, next := slot.Add(time.Hour), slot.Add(2*time.Hour)
		if err := s.SetScheduleRuns(ctx, sc.ID, &later, &next); err != nil {
			t.Fatal(err)
		}
		if err := s.SetScheduleRuns(ctx, sc.ID, &slot, &next); err != nil {
			t.Fatal(err)
		}
		got, _ = s.ScheduleByID(ctx, srv.ID, sc.ID)
		if got.LastRunAt == nil || !got.LastRunAt.Equal(later) || got.NextRunAt == nil || !got.NextRunAt.Equal(next) {
			t.Fatalf("last/next = %v/%v, want %v/%v", got.LastRunAt, got.NextRunAt, later, next)
		}
		if err := s.DeleteSchedule(ctx, srv.ID, sc.ID); err != nil {
			t.Fatal(err)
		}
		if runs, _ := s.ListRuns(ctx, sc.ID, 10, ""); len(runs) != 0 {
			t.Fatalf("runs outlive their schedule: %d", len(runs))
		}
	})
}
