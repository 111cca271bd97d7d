// Command scheduler-interval is an example Catalyst scheduler that fires
// schedules at fixed intervals: specs of the form "@every 10m".
package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/plugin"
)

type scheduler struct {
	log hclog.Logger

	// hostMu is separate from mu: stopping a schedule holds mu while it
	// waits for the schedule's goroutine, which may be reading the host.
	hostMu sync.RWMutex
	host   plugin.SchedulerHost

	mu       sync.Mutex
	minEvery time.Duration
	running  map[string]*timer
}

// timer fires one schedule until stopped.
type timer struct {
	schedule plugin.Schedule
	every    time.Duration
	stop     context.CancelFunc
	done     chan struct{}
}

var _ plugin.Scheduler = (*scheduler)(nil)

func newScheduler(log hclog.Logger) *scheduler {
	return &scheduler{log: log, running: map[string]*timer{}, minEvery: time.Second}
}

func (s *scheduler) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "scheduler-interval", Kind: plugin.KindScheduler, Version: "1.0.0"}, nil
}

func (s *scheduler) ConfigSchema(context.Context) (plugin.Schema, error) {
	return plugin.Schema{Fields: []plugin.Field{{
		Name: "min_interval", Type: plugin.TypeString, Default: "1s",
		Description: `Shortest interval a schedule may use, as a Go duration ("30s", "5m").`,
	}}}, nil
}

func (s *scheduler) Configure(_ context.Context, cfg plugin.Config) error {
	var c struct {
		MinInterval string `json:"min_interval"`
	}
	if err := cfg.Decode(&c); err != nil {
		return err
	}
	d, err := time.ParseDuration(c.MinInterval)
	if err != nil || d <= 0 {
		return fmt.Errorf("min_interval %q is not a positive duration: %w", c.MinInterval, plugin.ErrInvalidArgument)
	}
	s.mu.Lock()
	s.minEvery = d
	s.mu.Unlock()
	return nil
}

func (s *scheduler) Attach(_ context.Context, host plugin.SchedulerHost) error {
	s.hostMu.Lock()
	s.host = host
	s.hostMu.Unlock()
	return nil
}

func (s *scheduler) Sync(ctx context.Context, schedules []plugin.Schedule) error {
	// Parse everything first so a bad spec changes nothing.
	every := make([]time.Duration, len(schedules))
	for i, sc := range schedules {
		d, err := s.parse(sc.Spec)
		if err != nil {
			return fmt.Errorf("schedule %s: %w", sc.ID, err)
		}
		every[i] = d
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.running {
		s.stopLocked(id)
	}
	for i, sc := range schedules {
		s.startLocked(sc, every[i])
	}
	return nil
}

func (s *scheduler) Set(_ context.Context, sc plugin.Schedule) error {
	d, err := s.parse(sc.Spec)
	if err != nil {
		return fmt.Errorf("schedule %s: %w", sc.ID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked(sc.ID)
	s.startLocked(sc, d)
	return nil
}

func (s *scheduler) Remove(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked(id)
	return nil
}

func (s *scheduler) parse(spec string) (time.Duration, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(spec), "@every ")
	if !ok {
		return 0, fmt.Errorf(`spec %q: want "@every <duration>": %w`, spec, plugin.ErrInvalidArgument)
	}
	d, err := time.ParseDuration(strings.TrimSpace(rest))
	if err != nil {
		return 0, fmt.Errorf("spec %q: %v: %w", spec, err, plugin.ErrInvalidArgument)
	}
	s.mu.Lock()
	minEvery := s.minEvery
	s.mu.Unlock()
	if d < minEvery {
		return 0, fmt.Errorf("spec %q: shorter than min_interval %s: %w", spec, minEvery, plugin.ErrInvalidArgument)
	}
	return d, nil
}

func (s *scheduler) startLocked(sc plugin.Schedule, every time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	t := &timer{schedule: sc, every: every, stop: cancel, done: make(chan struct{})}
	s.running[sc.ID] = t
	go s.run(ctx, t)
}

// stopLocked stops a schedule and waits for its goroutine, so no firing of
// a removed schedule happens after Remove returns.
func (s *scheduler) stopLocked(id string) {
	t, ok := s.running[id]
	if !ok {
		return
	}
	delete(s.running, id)
	t.stop()
	<-t.done
}

func (s *scheduler) run(ctx context.Context, t *timer) {
	defer close(t.done)
	tick := time.NewTicker(t.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			s.fire(ctx, t.schedule, now)
		}
	}
}

func (s *scheduler) fire(ctx context.Context, sc plugin.Schedule, at time.Time) {
	s.hostMu.RLock()
	host := s.host
	s.hostMu.RUnlock()
	if host == nil {
		s.log.Warn("schedule due but no host attached", "schedule", sc.ID)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := host.Fire(ctx, plugin.Firing{ScheduleID: sc.ID, FiredAt: at, Labels: sc.Labels}); err != nil && ctx.Err() == nil {
		s.log.Error("fire schedule", "schedule", sc.ID, "error", err)
	}
}

func main() {
	log := plugin.NewLogger("scheduler-interval")
	plugin.Serve(newScheduler(log), plugin.WithLogger(log))
}
