package dirstore

import (
	"context"
	"sync"
	"time"

	"catalyst.dev/sdk/plugin"
)

// Ticker is the SDK's test scheduler: every schedule fires every 50ms,
// whatever its spec.
type Ticker struct {
	mu        sync.Mutex
	host      plugin.SchedulerHost
	schedules map[string]plugin.Schedule
	stop      context.CancelFunc
}

var _ plugin.Scheduler = (*Ticker)(nil)

func (t *Ticker) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "testplugin-ticker", Kind: plugin.KindScheduler, Version: "0.0.1"}, nil
}

func (t *Ticker) ConfigSchema(context.Context) (plugin.Schema, error) { return plugin.Schema{}, nil }

func (t *Ticker) Configure(context.Context, plugin.Config) error { return nil }

func (t *Ticker) Attach(_ context.Context, host plugin.SchedulerHost) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.host = host
	if t.stop == nil {
		ctx, cancel := context.WithCancel(context.Background())
		t.stop = cancel
		go t.run(ctx)
	}
	return nil
}

func (t *Ticker) run(ctx context.Context) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			t.mu.Lock()
			host := t.host
			var due []plugin.Schedule
			for _, s := range t.schedules {
				due = append(due, s)
			}
			t.mu.Unlock()
			for _, s := range due {
				_ = host.Fire(ctx, plugin.Firing{ScheduleID: s.ID, FiredAt: now, Labels: s.Labels})
			}
		}
	}
}

func (t *Ticker) Sync(_ context.Context, list []plugin.Schedule) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.schedules = map[string]plugin.Schedule{}
	for _, s := range list {
		t.schedules[s.ID] = s
	}
	return nil
}

func (t *Ticker) Set(_ context.Context, s plugin.Schedule) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.schedules == nil {
		t.schedules = map[string]plugin.Schedule{}
	}
	t.schedules[s.ID] = s
	return nil
}

func (t *Ticker) Remove(_ context.Context, id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.schedules, id)
	return nil
}
