package schedules_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/nodes"
	"catalyst.dev/core/internal/schedules"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
	"catalyst.dev/sdk/plugin"
)

// world is a server on a node with no agent: commands and power actions
// fail the way a down node makes them fail.
type world struct {
	store   *store.Store
	servers *servers.Service
	server  *store.Server
}

func newWorld(t *testing.T, s *store.Store, state string) world {
	t.Helper()
	ctx := context.Background()
	u := &store.User{Email: "o@example.com", Username: "o", PasswordHash: "h"}
	n := &store.Node{Name: "n", FQDN: "n.example.com", MemoryMB: 1024, DiskMB: 1024}
	tp := &store.Template{Name: "t", Images: []store.TemplateImage{{Image: "img"}}, Startup: "run"}
	for _, err := range []error{s.CreateUser(ctx, u), s.CreateNode(ctx, n), s.CreateTemplate(ctx, tp)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	srv := &store.Server{Name: "s", OwnerID: u.ID, NodeID: n.ID, TemplateID: tp.ID, State: state, Image: "img", Startup: "run"}
	if err := s.CreateServer(ctx, srv, nil); err != nil {
		t.Fatal(err)
	}
	gw := gateway.New(s, nodes.NewService(s), hclog.NewNullLogger(), gateway.Options{})
	t.Cleanup(gw.Close)
	return world{store: s, servers: servers.New(s, gw, hclog.NewNullLogger(), servers.Options{}), server: srv}
}

// start runs a schedules service (a replica) until the test ends.
func (w world) start(t *testing.T, missed string) *schedules.Service {
	t.Helper()
	svc := schedules.New(w.store, w.servers, nil, nil, schedules.Options{MissedRuns: missed}, hclog.NewNullLogger())
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc
}

// schedule stores a daily 04:00 UTC schedule whose next slot is next.
func (w world) schedule(t *testing.T, next time.Time, onlineOnly bool) *store.Schedule {
	t.Helper()
	sc := &store.Schedule{ServerID: w.server.ID, Name: "nightly", Cron: "0 4 * * *", Timezone: "UTC", Enabled: true,
		OnlyWhenOnline: onlineOnly, Tasks: []store.ScheduleTask{{Action: store.TaskCommand, Payload: "say hi"}}, NextRunAt: &next}
	if err := w.store.CreateSchedule(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	return sc
}

// finished waits for the schedule's runs to end and returns them.
func (w world) finished(t *testing.T, id string, want int) []*store.ScheduleRun {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runs, err := w.store.ListRuns(context.Background(), id, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		done := len(runs) == want
		for _, r := range runs {
			done = done && r.Status != store.RunRunning
		}
		if done {
			return runs
		}
		if time.Now().After(deadline) {
			t.Fatalf("runs %+v, want %d finished", runs, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lastSlot is the latest 04:00 UTC at least an hour before now.
func lastSlot() time.Time {
	d := time.Now().UTC().Add(-time.Hour)
	slot := time.Date(d.Year(), d.Month(), d.Day(), 4, 0, 0, 0, time.UTC)
	if slot.After(d) {
		slot = slot.AddDate(0, 0, -1)
	}
	return slot
}

func TestMissedSlotsFollowThePolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s, store.StateStopped)
		ctx := context.Background()
		missed := lastSlot()
		skipped := w.schedule(t, missed, false)
		w.start(t, config.MissedSkip)
		runs := w.finished(t, skipped.ID, 1)
		r := runs[0]
		if r.Trigger != store.TriggerCatchUp || r.Status != store.RunSkipped || !strings.Contains(r.Error, "missed_runs = skip") ||
			r.Slot == nil || !r.Slot.Equal(missed) || r.Tasks[0].Status != store.RunSkipped {
			t.Fatalf("missed slot under skip: %+v", r)
		}
		sc, _ := s.ScheduleByID(ctx, w.server.ID, skipped.ID)
		if sc.LastRunAt == nil || !sc.LastRunAt.Equal(missed) || sc.NextRunAt == nil || !sc.NextRunAt.After(time.Now()) {
			t.Fatalf("after catching up: last %v, next %v", sc.LastRunAt, sc.NextRunAt)
		}

		// run_once runs it; the server is stopped, so its command fails
		// and says why. A second replica starting does not run it again.
		once := w.schedule(t, missed, false)
		w.start(t, config.MissedRunOnce)
		w.start(t, config.MissedRunOnce)
		runs = w.finished(t, once.ID, 1)
		r = runs[0]
		if r.Trigger != store.TriggerCatchUp || r.Status != store.RunFailed || r.Tasks[0].Status != store.RunFailed ||
			!strings.Contains(r.Tasks[0].Error, "stopped") {
			t.Fatalf("missed slot under run_once: %+v", r)
		}

		// A slot that has just passed is on time, whatever the policy.
		recent := w.schedule(t, time.Now().UTC().Truncate(time.Second).Add(-30*time.Second), false)
		w.start(t, config.MissedSkip)
		if runs := w.finished(t, recent.ID, 1); runs[0].Trigger != store.TriggerCron || runs[0].Status != store.RunFailed {
			t.Fatalf("a slot 30 s old: %+v, want a cron run", runs[0])
		}
	})
}

func TestFiringsAreCheckedAgainstTheSchedule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s, store.StateStopped)
		ctx := context.Background()
		tomorrow := time.Now().UTC().Add(24 * time.Hour)
		sc := w.schedule(t, tomorrow, true)
		svc := w.start(t, config.MissedSkip)
		fire := func(at time.Time) error {
			return svc.Fire(ctx, plugin.Firing{ScheduleID: sc.ID, FiredAt: at, Labels: map[string]string{"server_id": w.server.ID}})
		}
		slot := lastSlot()
		// 04:30 is no slot of "0 4 * * *": a firing for an expression
		// since changed.
		if err := fire(slot.Add(30 * time.Minute)); err != nil {
			t.Fatal(err)
		}
		if runs, _ := s.ListRuns(ctx, sc.ID, 10, ""); len(runs) != 0 {
			t.Fatalf("a firing off the schedule's slots ran: %+v", runs)
		}
		// only_when_online and a stopped server: the slot is skipped, once.
		for range 2 {
			if err := fire(slot); err != nil {
				t.Fatal(err)
			}
		}
		runs := w.finished(t, sc.ID, 1)
		if runs[0].Status != store.RunSkipped || !strings.Contains(runs[0].Error, "only_when_online") {
			t.Fatalf("firing while stopped: %+v", runs[0])
		}
		sc.Enabled = false
		if err := s.UpdateSchedule(ctx, sc); err != nil {
			t.Fatal(err)
		}
		if err := fire(slot.AddDate(0, 0, -1)); err != nil {
			t.Fatal(err)
		}
		if runs, _ := s.ListRuns(ctx, sc.ID, 10, ""); len(runs) != 1 {
			t.Fatalf("a disabled schedule ran: %d runs", len(runs))
		}
	})
}
