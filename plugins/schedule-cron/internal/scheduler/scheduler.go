// Package scheduler is the schedule-cron plugin: it keeps the core's
// schedules, each in a goroutine of its own, and fires every slot back
// through the host with FiredAt set to the slot itself, so that the core
// can tell the same slot fired by several replicas apart from a new one.
package scheduler

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/cron"
	"catalyst.dev/sdk/plugin"
)

// Scheduler implements plugin.Scheduler for cron specs.
type Scheduler struct {
	log   hclog.Logger
	clock clock

	// settings is swapped whole by Configure; running loops read it
	// without taking mu, which Remove holds while it waits for them.
	settings atomic.Pointer[settings]

	// hostMu is separate from mu for the same reason.
	hostMu sync.RWMutex
	host   plugin.SchedulerHost

	mu      sync.Mutex
	running map[string]*entry
}

// entry is one running schedule.
type entry struct {
	schedule plugin.Schedule
	spec     cron.Schedule
	loc      *time.Location
	stop     context.CancelFunc
	done     chan struct{}
}

var _ plugin.Scheduler = (*Scheduler)(nil)

// New returns a scheduler with the default settings, on the system clock.
func New(log hclog.Logger) *Scheduler { return newScheduler(log, systemClock{}) }

func newScheduler(log hclog.Logger, c clock) *Scheduler {
	s := &Scheduler{log: log, clock: c, running: map[string]*entry{}}
	s.settings.Store(&defaultSettings)
	return s
}

// Info names the plugin.
func (s *Scheduler) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "schedule-cron", Kind: plugin.KindScheduler, Version: "1.0.0"}, nil
}

// ConfigSchema publishes max_lateness and min_interval.
func (s *Scheduler) ConfigSchema(context.Context) (plugin.Schema, error) {
	return schema, nil
}

// Configure applies a config block. The settings hold for the slots that
// come due after it, and min_interval for the schedules set after it.
func (s *Scheduler) Configure(_ context.Context, cfg plugin.Config) error {
	st, err := parseConfig(cfg)
	if err != nil {
		return err
	}
	s.settings.Store(&st)
	return nil
}

// Attach sets the host that schedules fire to.
func (s *Scheduler) Attach(_ context.Context, host plugin.SchedulerHost) error {
	s.hostMu.Lock()
	s.host = host
	s.hostMu.Unlock()
	return nil
}

// Sync replaces every schedule with schedules. A schedule that is already
// running unchanged keeps running, so a slot due during the Sync is not
// lost. One bad schedule changes nothing.
func (s *Scheduler) Sync(_ context.Context, schedules []plugin.Schedule) error {
	parsed := make([]*entry, len(schedules))
	ids := make(map[string]bool, len(schedules))
	for i, sc := range schedules {
		if ids[sc.ID] {
			return fmt.Errorf("schedule %s is listed twice: %w", sc.ID, plugin.ErrInvalidArgument)
		}
		ids[sc.ID] = true
		e, err := s.parse(sc)
		if err != nil {
			return err
		}
		parsed[i] = e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var stale, fresh []*entry
	for id, e := range s.running {
		if !ids[id] {
			stale = append(stale, e)
		}
	}
	for _, e := range parsed {
		old := s.running[e.schedule.ID]
		if old != nil && old.sameAs(e) {
			continue
		}
		if old != nil {
			stale = append(stale, old)
		}
		fresh = append(fresh, e)
	}
	// Stop before starting, so an old and a new version of a schedule
	// never both fire a slot.
	stopAll(stale)
	for _, e := range stale {
		delete(s.running, e.schedule.ID)
	}
	for _, e := range fresh {
		s.startLocked(e)
	}
	return nil
}

// Set adds a schedule or replaces the one with the same ID; setting a
// schedule exactly as it runs changes nothing.
func (s *Scheduler) Set(_ context.Context, sc plugin.Schedule) error {
	e, err := s.parse(sc)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.running[sc.ID]
	if old != nil && old.sameAs(e) {
		return nil
	}
	if old != nil {
		stopAll([]*entry{old})
	}
	s.startLocked(e)
	return nil
}

// Remove stops a schedule and returns once it can no longer fire.
func (s *Scheduler) Remove(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.running[id]; e != nil {
		delete(s.running, id)
		stopAll([]*entry{e})
	}
	return nil
}

// parse checks a schedule: its spec, its zone and min_interval.
func (s *Scheduler) parse(sc plugin.Schedule) (*entry, error) {
	spec, err := cron.Parse(sc.Spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %s: spec %q: %v: %w", sc.ID, sc.Spec, err, plugin.ErrInvalidArgument)
	}
	if minEvery := s.settings.Load().minInterval; spec.MinInterval() < minEvery {
		return nil, fmt.Errorf("schedule %s: spec %q can fire %s apart, more often than min_interval %s allows: %w",
			sc.ID, sc.Spec, spec.MinInterval(), minEvery, plugin.ErrInvalidArgument)
	}
	loc, err := cron.LoadLocation(sc.Timezone)
	if err != nil {
		return nil, fmt.Errorf("schedule %s: timezone %v: %w", sc.ID, err, plugin.ErrInvalidArgument)
	}
	sc.Labels = maps.Clone(sc.Labels)
	return &entry{schedule: sc, spec: spec, loc: loc}, nil
}

// sameAs says whether two entries describe the same schedule.
func (e *entry) sameAs(o *entry) bool {
	return e.schedule.ID == o.schedule.ID && e.spec == o.spec && e.loc.String() == o.loc.String() &&
		maps.Equal(e.schedule.Labels, o.schedule.Labels)
}

func (s *Scheduler) startLocked(e *entry) {
	ctx, cancel := context.WithCancel(context.Background())
	e.stop, e.done = cancel, make(chan struct{})
	s.running[e.schedule.ID] = e
	go func() {
		defer close(e.done)
		s.run(ctx, e)
	}()
}

// stopAll stops entries and waits for their goroutines, so none fires
// after it returns.
func stopAll(entries []*entry) {
	for _, e := range entries {
		e.stop()
	}
	for _, e := range entries {
		<-e.done
	}
}

// currentHost returns the attached host, nil before Attach.
func (s *Scheduler) currentHost() plugin.SchedulerHost {
	s.hostMu.RLock()
	defer s.hostMu.RUnlock()
	return s.host
}
