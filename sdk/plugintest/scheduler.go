package plugintest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"catalyst.dev/sdk/plugin"
)

// SchedulerOptions tune the scheduler suite.
type SchedulerOptions struct {
	Config map[string]any
	// Spec must fire at least every second (e.g. "@every 200ms").
	Spec string
	// InvalidSpec must be refused with ErrInvalidArgument.
	InvalidSpec string
}

// Scheduler checks a scheduler plugin: schedules fire back through the
// host callback with their labels, Remove and Sync stop them, bad specs
// are refused, and the configuration schema holds.
func Scheduler(t *testing.T, target Target, opts SchedulerOptions) {
	sched := target.open(t, plugin.KindScheduler, encodeConfig(t, opts.Config)).(plugin.Scheduler)
	ctx := context.Background()
	rec := &firingRecorder{}
	if err := sched.Attach(ctx, rec); err != nil {
		t.Fatalf("Attach: %v", err)
	}

	t.Run("set schedule fires with labels", func(t *testing.T) {
		s := plugin.Schedule{ID: "fire-me", Spec: opts.Spec, Labels: map[string]string{"action": "restart"}}
		if err := sched.Set(ctx, s); err != nil {
			t.Fatalf("Set: %v", err)
		}
		defer sched.Remove(ctx, s.ID)
		f := rec.wait(t, s.ID, 2, 10*time.Second)
		if f.Labels["action"] != "restart" || f.FiredAt.IsZero() {
			t.Fatalf("firing %+v lacks labels or time", f)
		}
	})
	t.Run("removed schedule stops firing", func(t *testing.T) {
		s := plugin.Schedule{ID: "remove-me", Spec: opts.Spec}
		if err := sched.Set(ctx, s); err != nil {
			t.Fatal(err)
		}
		rec.wait(t, s.ID, 1, 10*time.Second)
		if err := sched.Remove(ctx, s.ID); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		rec.quiet(t, s.ID, 1500*time.Millisecond)
		if err := sched.Remove(ctx, s.ID); err != nil {
			t.Fatalf("second Remove: %v", err)
		}
	})
	t.Run("sync replaces every schedule", func(t *testing.T) {
		old := plugin.Schedule{ID: "sync-old", Spec: opts.Spec}
		if err := sched.Set(ctx, old); err != nil {
			t.Fatal(err)
		}
		if err := sched.Sync(ctx, []plugin.Schedule{{ID: "sync-new", Spec: opts.Spec}}); err != nil {
			t.Fatalf("Sync: %v", err)
		}
		defer sched.Sync(ctx, nil)
		rec.wait(t, "sync-new", 1, 10*time.Second)
		rec.quiet(t, "sync-old", 1500*time.Millisecond)
	})
	if opts.InvalidSpec != "" {
		t.Run("invalid spec refused", func(t *testing.T) {
			err := sched.Set(ctx, plugin.Schedule{ID: "bad", Spec: opts.InvalidSpec})
			if !errors.Is(err, plugin.ErrInvalidArgument) {
				t.Fatalf("want ErrInvalidArgument, got %s", describe(err))
			}
		})
	}
	t.Run("config schema", func(t *testing.T) {
		checkSchema(t, sched, opts.Config)
		// Reconfiguring must not lose the host callback.
		if err := sched.Set(ctx, plugin.Schedule{ID: "after-configure", Spec: opts.Spec}); err != nil {
			t.Fatal(err)
		}
		defer sched.Remove(ctx, "after-configure")
		rec.wait(t, "after-configure", 1, 10*time.Second)
	})
}

// firingRecorder is the host callback the suite attaches.
type firingRecorder struct {
	mu     sync.Mutex
	firing map[string][]plugin.Firing
}

func (r *firingRecorder) Fire(_ context.Context, f plugin.Firing) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.firing == nil {
		r.firing = map[string][]plugin.Firing{}
	}
	r.firing[f.ScheduleID] = append(r.firing[f.ScheduleID], f)
	return nil
}

func (r *firingRecorder) count(id string) (int, plugin.Firing) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fs := r.firing[id]
	if len(fs) == 0 {
		return 0, plugin.Firing{}
	}
	return len(fs), fs[len(fs)-1]
}

// wait returns the latest firing once id has fired n more times.
func (r *firingRecorder) wait(t *testing.T, id string, n int, within time.Duration) plugin.Firing {
	t.Helper()
	start, _ := r.count(id)
	deadline := time.Now().Add(within)
	for {
		c, last := r.count(id)
		if c-start >= n {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("schedule %s fired %d times in %s, want %d", id, c-start, within, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// quiet checks id does not fire for d (after a short grace period for a
// firing already in flight).
func (r *firingRecorder) quiet(t *testing.T, id string, d time.Duration) {
	t.Helper()
	time.Sleep(100 * time.Millisecond)
	before, _ := r.count(id)
	time.Sleep(d)
	if after, _ := r.count(id); after != before {
		t.Fatalf("schedule %s fired %d times after it was removed", id, after-before)
	}
}
