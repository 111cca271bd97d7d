package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/plugin"
)

// fakeClock moves forward as the loop sleeps, instantly. A Sleep that
// would reach until parks the loop until it is stopped; jumps step the
// clock (a resume from suspend, a corrected wall clock) when a Sleep
// reaches them.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	until  time.Time
	jumps  []jump
	parked chan struct{}
	park   sync.Once
}

type jump struct{ at, to time.Time }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	t := c.now.Add(d)
	if !t.Before(c.until) {
		c.mu.Unlock()
		c.park.Do(func() { close(c.parked) })
		<-ctx.Done()
		return ctx.Err()
	}
	for len(c.jumps) > 0 && !t.Before(c.jumps[0].at) {
		t, c.jumps = c.jumps[0].to, c.jumps[1:]
	}
	c.now = t
	c.mu.Unlock()
	return ctx.Err()
}

// call is one Fire the host received, at the clock's time.
type call struct {
	firing plugin.Firing
	at     time.Time
}

// recorder is the host: it records every call and answers with fail's
// error (nil: accepted).
type recorder struct {
	clock *fakeClock
	fail  func(f plugin.Firing, attempt int) error

	mu    sync.Mutex
	calls []call
}

func (r *recorder) Fire(_ context.Context, f plugin.Firing) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{firing: f, at: r.clock.Now()})
	if r.fail == nil {
		return nil
	}
	attempt := 0
	for _, c := range r.calls {
		if c.firing.FiredAt.Equal(f.FiredAt) {
			attempt++
		}
	}
	return r.fail(f, attempt)
}

// fakeRun is one schedule run on a fake clock from start until until.
type fakeRun struct {
	spec, zone   string
	start, until string
	jumps        [][2]string
	maxLateness  time.Duration
	fail         func(f plugin.Firing, attempt int) error
}

// run returns every call the host received.
func (fr fakeRun) run(t *testing.T) []call {
	t.Helper()
	c := &fakeClock{now: at(fr.start), until: at(fr.until), parked: make(chan struct{})}
	for _, j := range fr.jumps {
		c.jumps = append(c.jumps, jump{at: at(j[0]), to: at(j[1])})
	}
	host := &recorder{clock: c, fail: fr.fail}
	s := newScheduler(hclog.NewNullLogger(), c)
	st := settings{maxLateness: time.Minute, minInterval: time.Second}
	if fr.maxLateness > 0 {
		st.maxLateness = fr.maxLateness
	}
	s.settings.Store(&st)
	ctx := context.Background()
	if err := s.Attach(ctx, host); err != nil {
		t.Fatal(err)
	}
	sc := plugin.Schedule{ID: "backup", Spec: fr.spec, Timezone: fr.zone, Labels: map[string]string{"action": "backup"}}
	if err := s.Set(ctx, sc); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.parked:
	case <-time.After(10 * time.Second):
		t.Fatalf("the loop did not reach %s; the clock reads %s", fr.until, c.Now())
	}
	if err := s.Remove(ctx, sc.ID); err != nil {
		t.Fatal(err)
	}
	host.mu.Lock()
	defer host.mu.Unlock()
	for _, c := range host.calls {
		if c.firing.ScheduleID != sc.ID || c.firing.Labels["action"] != "backup" {
			t.Fatalf("firing %+v lacks the schedule's ID or labels", c.firing)
		}
		if c.firing.FiredAt.Location() != time.UTC {
			t.Fatalf("FiredAt %s is not in UTC", c.firing.FiredAt)
		}
	}
	return slices.Clone(host.calls)
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func firedAt(calls []call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.firing.FiredAt.Format(time.RFC3339)
	}
	return out
}

func TestLoopFiresEachSlotOnce(t *testing.T) {
	tests := []struct {
		name string
		run  fakeRun
		want []string
	}{
		{
			name: "on time",
			run:  fakeRun{spec: "*/5 * * * *", start: "2026-05-01T12:01:30Z", until: "2026-05-01T12:31:00Z"},
			want: []string{"2026-05-01T12:05:00Z", "2026-05-01T12:10:00Z", "2026-05-01T12:15:00Z", "2026-05-01T12:20:00Z", "2026-05-01T12:25:00Z", "2026-05-01T12:30:00Z"},
		},
		{
			name: "in a zone across a spring forward",
			run:  fakeRun{spec: "30 2 * * *", zone: "America/New_York", start: "2026-03-07T00:00:00Z", until: "2026-03-10T00:00:00Z"},
			want: []string{"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"},
		},
		{
			name: "every few seconds",
			run:  fakeRun{spec: "@every 20s", start: "2026-05-01T12:00:05Z", until: "2026-05-01T12:01:10Z"},
			want: []string{"2026-05-01T12:00:20Z", "2026-05-01T12:00:40Z", "2026-05-01T12:01:00Z"},
		},
		{
			name: "resumed after a suspend: the latest missed slot, within max_lateness",
			run: fakeRun{
				spec: "* * * * *", start: "2026-05-01T12:00:00Z", until: "2026-05-01T12:23:30Z",
				jumps: [][2]string{{"2026-05-01T12:02:30Z", "2026-05-01T12:20:30Z"}},
			},
			want: []string{"2026-05-01T12:01:00Z", "2026-05-01T12:02:00Z", "2026-05-01T12:20:00Z", "2026-05-01T12:21:00Z", "2026-05-01T12:22:00Z", "2026-05-01T12:23:00Z"},
		},
		{
			name: "resumed after a suspend: missed slots too old",
			run: fakeRun{
				spec: "*/15 * * * *", start: "2026-05-01T12:00:00Z", until: "2026-05-01T13:00:00Z",
				jumps: [][2]string{{"2026-05-01T12:20:00Z", "2026-05-01T12:35:30Z"}},
			},
			want: []string{"2026-05-01T12:15:00Z", "2026-05-01T12:45:00Z"},
		},
		{
			name: "resumed after a suspend: a longer max_lateness",
			run: fakeRun{
				spec: "*/15 * * * *", start: "2026-05-01T12:00:00Z", until: "2026-05-01T13:00:00Z",
				jumps:       [][2]string{{"2026-05-01T12:20:00Z", "2026-05-01T12:35:30Z"}},
				maxLateness: 10 * time.Minute,
			},
			want: []string{"2026-05-01T12:15:00Z", "2026-05-01T12:30:00Z", "2026-05-01T12:45:00Z"},
		},
		{
			name: "wall clock stepped back",
			run: fakeRun{
				spec: "* * * * *", start: "2026-05-01T12:00:30Z", until: "2026-05-01T12:03:30Z",
				jumps: [][2]string{{"2026-05-01T12:01:30Z", "2026-05-01T12:00:10Z"}},
			},
			want: []string{"2026-05-01T12:01:00Z", "2026-05-01T12:02:00Z", "2026-05-01T12:03:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := tt.run.run(t)
			if got := firedAt(calls); !slices.Equal(got, tt.want) {
				t.Fatalf("fired %v, want %v", got, tt.want)
			}
			for _, c := range calls {
				if c.at.Before(c.firing.FiredAt) {
					t.Fatalf("slot %s fired early, at %s", c.firing.FiredAt, c.at)
				}
			}
		})
	}
}

var errDown = fmt.Errorf("core is restarting: %w", plugin.ErrUnavailable)

func TestLoopRetriesAFailedFiring(t *testing.T) {
	calls := fakeRun{
		spec: "* * * * *", start: "2026-05-01T12:00:30Z", until: "2026-05-01T12:02:30Z",
		fail: func(f plugin.Firing, attempt int) error {
			if f.FiredAt.Minute() == 1 && attempt <= 2 {
				return errDown
			}
			return nil
		},
	}.run(t)
	want := []string{"2026-05-01T12:01:00Z", "2026-05-01T12:01:00Z", "2026-05-01T12:01:00Z", "2026-05-01T12:02:00Z"}
	if got := firedAt(calls); !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	// Backoff: 1s, then 2s.
	for i, wantAt := range []string{"2026-05-01T12:01:00Z", "2026-05-01T12:01:01Z", "2026-05-01T12:01:03Z"} {
		if !calls[i].at.Equal(at(wantAt)) {
			t.Errorf("attempt %d at %s, want %s", i+1, calls[i].at, wantAt)
		}
	}
}

func TestLoopGivesUpOnAnOldSlot(t *testing.T) {
	calls := fakeRun{
		spec: "*/5 * * * *", start: "2026-05-01T12:00:30Z", until: "2026-05-01T12:10:30Z",
		fail: func(f plugin.Firing, _ int) error {
			if f.FiredAt.Minute() == 5 {
				return errDown
			}
			return nil
		},
	}.run(t)
	var attempts []string
	for _, c := range calls {
		if c.firing.FiredAt.Minute() == 5 {
			attempts = append(attempts, c.at.Format("15:04:05"))
		}
	}
	// Pauses of 1, 2, 4, 8 and 16s; the next, of 32s, would end past a
	// minute after the slot.
	want := []string{"12:05:00", "12:05:01", "12:05:03", "12:05:07", "12:05:15", "12:05:31"}
	if !slices.Equal(attempts, want) {
		t.Fatalf("attempts at %v, want %v", attempts, want)
	}
	if got := firedAt(calls[len(calls)-1:]); got[0] != "2026-05-01T12:10:00Z" {
		t.Fatalf("last firing %s, want the next slot 12:10", got[0])
	}
}

func TestLoopDoesNotRetryWhatTheHostRefuses(t *testing.T) {
	for _, refusal := range []error{plugin.ErrInvalidArgument, plugin.ErrNotFound} {
		t.Run(refusal.Error(), func(t *testing.T) {
			calls := fakeRun{
				spec: "* * * * *", start: "2026-05-01T12:00:30Z", until: "2026-05-01T12:02:30Z",
				fail: func(f plugin.Firing, _ int) error {
					if f.FiredAt.Minute() == 1 {
						return fmt.Errorf("schedule deleted: %w", refusal)
					}
					return nil
				},
			}.run(t)
			want := []string{"2026-05-01T12:01:00Z", "2026-05-01T12:02:00Z"}
			if got := firedAt(calls); !slices.Equal(got, want) {
				t.Fatalf("fired %v, want %v", got, want)
			}
		})
	}
}

func TestSyncKeepsUnchangedSchedulesRunning(t *testing.T) {
	s := New(hclog.NewNullLogger())
	ctx := context.Background()
	daily := plugin.Schedule{ID: "daily", Spec: "0 4 * * *", Timezone: "Europe/Berlin", Labels: map[string]string{"a": "1"}}
	hourly := plugin.Schedule{ID: "hourly", Spec: "@hourly"}
	if err := s.Sync(ctx, []plugin.Schedule{daily, hourly}); err != nil {
		t.Fatal(err)
	}
	first := s.running["daily"]
	relabelled := hourly
	relabelled.Labels = map[string]string{"b": "2"}
	if err := s.Sync(ctx, []plugin.Schedule{daily, relabelled, {ID: "new", Spec: "@weekly"}}); err != nil {
		t.Fatal(err)
	}
	if s.running["daily"] != first {
		t.Error("Sync restarted an unchanged schedule")
	}
	if got := s.running["hourly"].schedule.Labels["b"]; got != "2" {
		t.Error("Sync kept a schedule whose labels changed")
	}
	if err := s.Set(ctx, daily); err != nil || s.running["daily"] != first {
		t.Errorf("Set of an unchanged schedule restarted it (err %v)", err)
	}
	if err := s.Sync(ctx, []plugin.Schedule{hourly, {ID: "bad", Spec: "61 * * * *"}}); !errors.Is(err, plugin.ErrInvalidArgument) {
		t.Fatalf("Sync with a bad spec = %v, want ErrInvalidArgument", err)
	}
	if len(s.running) != 3 {
		t.Errorf("a refused Sync changed the schedules: %d running", len(s.running))
	}
	if err := s.Sync(ctx, []plugin.Schedule{hourly, hourly}); !errors.Is(err, plugin.ErrInvalidArgument) {
		t.Fatalf("Sync with a duplicate ID = %v, want ErrInvalidArgument", err)
	}
	if err := s.Sync(ctx, nil); err != nil || len(s.running) != 0 {
		t.Fatalf("Sync(nil) = %v, %d running", err, len(s.running))
	}
}

func TestConfigure(t *testing.T) {
	s := New(hclog.NewNullLogger())
	ctx := context.Background()
	if err := s.Configure(ctx, plugin.Config(`{"max_lateness":"5m","min_interval":"1h"}`)); err != nil {
		t.Fatal(err)
	}
	if st := s.settings.Load(); st.maxLateness != 5*time.Minute || st.minInterval != time.Hour {
		t.Fatalf("settings %+v", *st)
	}
	if err := s.Set(ctx, plugin.Schedule{ID: "x", Spec: "*/30 * * * *"}); !errors.Is(err, plugin.ErrInvalidArgument) {
		t.Fatalf("a spec firing every 30m under min_interval 1h: %v", err)
	}
	for _, bad := range []string{`{"max_lateness":"0s","min_interval":"1m"}`, `{"max_lateness":"1m","min_interval":"-1m"}`, `{"max_lateness":3}`} {
		if err := s.Configure(ctx, plugin.Config(bad)); !errors.Is(err, plugin.ErrInvalidArgument) {
			t.Errorf("Configure(%s) = %v, want ErrInvalidArgument", bad, err)
		}
	}
}
