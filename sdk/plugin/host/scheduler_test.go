package host_test

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugin/host"
)

type firings struct {
	mu sync.Mutex
	n  map[string]int
}

func (f *firings) Fire(_ context.Context, fr plugin.Firing) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n[fr.ScheduleID]++
	return nil
}

func (f *firings) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n[id]
}

func (f *firings) waitMore(t *testing.T, id string, than int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.count(id) <= than {
		if time.Now().After(deadline) {
			t.Fatalf("schedule %s did not fire", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A restarted scheduler gets the host callback and the schedules again
// without the caller doing anything.
func TestSchedulerKeepsFiringAfterKill9(t *testing.T) {
	h := newHost(t)
	spec := host.Spec{Name: "ticker", Path: testPlugin, Env: []string{"CATALYST_TESTPLUGIN_KIND=scheduler"}, ConfigJSON: []byte(`{}`)}
	if err := h.Load(context.Background(), []host.Spec{spec}); err != nil {
		t.Fatal(err)
	}
	sched, err := h.Scheduler("ticker")
	if err != nil {
		t.Fatal(err)
	}
	rec := &firings{n: map[string]int{}}
	ctx := context.Background()
	if err := sched.Attach(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := sched.Sync(ctx, []plugin.Schedule{{ID: "nightly-restart", Spec: "@every 50ms"}}); err != nil {
		t.Fatal(err)
	}
	rec.waitMore(t, "nightly-restart", 0)

	pid := h.Status()[0].PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid, 5*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for h.Status()[0].Restarts == 0 {
		if time.Now().After(deadline) {
			t.Fatal("scheduler not restarted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	rec.waitMore(t, "nightly-restart", rec.count("nightly-restart"))
}
