package host

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync"

	"catalyst.dev/sdk/plugin"
)

// The clients the host hands out implement the same interfaces plugin
// authors implement; each call goes to whichever process currently serves
// the plugin, and is repeated once on a restarted process if the first one
// died during a call that is safe to repeat.

func always() bool { return true }

// call runs fn on the serving process as do does, repeating it after a
// crash, and returns its result.
func call[T any](ctx context.Context, in *instance, fn func(*launch) (T, error)) (T, error) {
	var v T
	err := in.do(ctx, always, func(l *launch) (err error) {
		v, err = fn(l)
		return err
	})
	return v, err
}

var (
	_ plugin.BackupStore    = (*backupStore)(nil)
	_ plugin.AlertSink      = (*alertSink)(nil)
	_ plugin.Scheduler      = (*scheduler)(nil)
	_ plugin.TemplateSource = (*templateSource)(nil)
	_ plugin.Policy         = (*policy)(nil)
)

// BackupStore returns the backup store plugin called name.
func (h *Host) BackupStore(name string) (plugin.BackupStore, error) {
	in, err := h.instance(name, plugin.KindBackupStore)
	if err != nil {
		return nil, err
	}
	return &backupStore{baseProxy{in}}, nil
}

// AlertSink returns the alert sink plugin called name.
func (h *Host) AlertSink(name string) (plugin.AlertSink, error) {
	in, err := h.instance(name, plugin.KindAlertSink)
	if err != nil {
		return nil, err
	}
	return &alertSink{baseProxy{in}}, nil
}

// Scheduler returns the scheduler plugin called name. Attach a
// SchedulerHost to receive firings; the host re-attaches it and replays
// the schedules after every restart of the plugin.
func (h *Host) Scheduler(name string) (plugin.Scheduler, error) {
	in, err := h.instance(name, plugin.KindScheduler)
	if err != nil {
		return nil, err
	}
	return &scheduler{baseProxy{in}}, nil
}

// TemplateSource returns the template source plugin called name.
func (h *Host) TemplateSource(name string) (plugin.TemplateSource, error) {
	in, err := h.instance(name, plugin.KindTemplateSource)
	if err != nil {
		return nil, err
	}
	return &templateSource{baseProxy{in}}, nil
}

// Policy returns the policy plugin called name.
func (h *Host) Policy(name string) (plugin.Policy, error) {
	in, err := h.instance(name, plugin.KindPolicy)
	if err != nil {
		return nil, err
	}
	return &policy{baseProxy{in}}, nil
}

type baseProxy struct{ in *instance }

func (p baseProxy) Info(context.Context) (plugin.Info, error) {
	p.in.mu.Lock()
	defer p.in.mu.Unlock()
	return p.in.info, nil
}

func (p baseProxy) ConfigSchema(ctx context.Context) (plugin.Schema, error) {
	return call(ctx, p.in, func(l *launch) (plugin.Schema, error) { return l.base.ConfigSchema(ctx) })
}

// Configure reconfigures the plugin; later restarts replay cfg.
func (p baseProxy) Configure(ctx context.Context, cfg plugin.Config) error {
	err := p.in.do(ctx, always, func(l *launch) error { return l.base.Configure(ctx, cfg) })
	if err == nil {
		p.in.mu.Lock()
		p.in.config = cfg
		p.in.mu.Unlock()
	}
	return err
}

type backupStore struct{ baseProxy }

func (p *backupStore) store(l *launch) plugin.BackupStore { return l.kind.(plugin.BackupStore) }

// Put is repeated after a plugin crash only if nothing was read from r yet:
// the bytes already sent cannot be read again.
func (p *backupStore) Put(ctx context.Context, key string, r io.Reader, meta map[string]string) error {
	cr := &countingReader{r: r}
	return p.in.do(ctx, func() bool { return cr.n == 0 }, func(l *launch) error {
		return p.store(l).Put(ctx, key, cr, meta)
	})
}

func (p *backupStore) Get(ctx context.Context, key string) (io.ReadCloser, plugin.ObjectInfo, error) {
	var (
		rc   io.ReadCloser
		info plugin.ObjectInfo
	)
	err := p.in.do(ctx, always, func(l *launch) (err error) {
		rc, info, err = p.store(l).Get(ctx, key)
		return err
	})
	return rc, info, err
}

func (p *backupStore) Stat(ctx context.Context, key string) (plugin.ObjectInfo, error) {
	return call(ctx, p.in, func(l *launch) (plugin.ObjectInfo, error) { return p.store(l).Stat(ctx, key) })
}

func (p *backupStore) List(ctx context.Context, prefix string) ([]plugin.ObjectInfo, error) {
	return call(ctx, p.in, func(l *launch) ([]plugin.ObjectInfo, error) { return p.store(l).List(ctx, prefix) })
}

func (p *backupStore) Delete(ctx context.Context, key string) error {
	return p.in.do(ctx, always, func(l *launch) error { return p.store(l).Delete(ctx, key) })
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type alertSink struct{ baseProxy }

// Deliver is repeated after a plugin crash: alerts carry an ID that sinks
// use to drop duplicates, and a duplicate beats a lost alert.
func (p *alertSink) Deliver(ctx context.Context, a plugin.Alert) error {
	return p.in.do(ctx, always, func(l *launch) error { return l.kind.(plugin.AlertSink).Deliver(ctx, a) })
}

type scheduler struct{ baseProxy }

func (p *scheduler) sched(l *launch) plugin.Scheduler { return l.kind.(plugin.Scheduler) }

func (p *scheduler) Attach(ctx context.Context, host plugin.SchedulerHost) error {
	p.in.sched.setHost(host)
	return p.in.do(ctx, always, func(l *launch) error { return p.sched(l).Attach(ctx, host) })
}

func (p *scheduler) Sync(ctx context.Context, schedules []plugin.Schedule) error {
	p.in.sched.sync(schedules)
	return p.in.do(ctx, always, func(l *launch) error { return p.sched(l).Sync(ctx, schedules) })
}

func (p *scheduler) Set(ctx context.Context, s plugin.Schedule) error {
	p.in.sched.set(s)
	return p.in.do(ctx, always, func(l *launch) error { return p.sched(l).Set(ctx, s) })
}

func (p *scheduler) Remove(ctx context.Context, id string) error {
	p.in.sched.remove(id)
	return p.in.do(ctx, always, func(l *launch) error { return p.sched(l).Remove(ctx, id) })
}

// schedulerState is what a restarted scheduler plugin must be told again:
// where to fire, and which schedules exist.
type schedulerState struct {
	mu        sync.Mutex
	host      plugin.SchedulerHost
	schedules map[string]plugin.Schedule // nil until the first Sync or Set
}

func (s *schedulerState) setHost(h plugin.SchedulerHost) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.host = h
}

func (s *schedulerState) sync(list []plugin.Schedule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schedules = make(map[string]plugin.Schedule, len(list))
	for _, sc := range list {
		s.schedules[sc.ID] = sc
	}
}

func (s *schedulerState) set(sc plugin.Schedule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.schedules == nil {
		s.schedules = map[string]plugin.Schedule{}
	}
	s.schedules[sc.ID] = sc
}

func (s *schedulerState) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.schedules, id)
}

// replay re-attaches the host and re-sends the schedules to a new process.
func (s *schedulerState) replay(ctx context.Context, sc plugin.Scheduler) error {
	s.mu.Lock()
	host := s.host
	var list []plugin.Schedule
	for _, v := range s.schedules {
		list = append(list, v)
	}
	synced := s.schedules != nil
	s.mu.Unlock()
	slices.SortFunc(list, func(a, b plugin.Schedule) int { return strings.Compare(a.ID, b.ID) })
	if host != nil {
		if err := sc.Attach(ctx, host); err != nil {
			return err
		}
	}
	if synced {
		return sc.Sync(ctx, list)
	}
	return nil
}

type templateSource struct{ baseProxy }

func (p *templateSource) List(ctx context.Context) ([]plugin.TemplateSummary, error) {
	return call(ctx, p.in, func(l *launch) ([]plugin.TemplateSummary, error) { return l.kind.(plugin.TemplateSource).List(ctx) })
}

func (p *templateSource) Fetch(ctx context.Context, id string) (plugin.Template, error) {
	return call(ctx, p.in, func(l *launch) (plugin.Template, error) { return l.kind.(plugin.TemplateSource).Fetch(ctx, id) })
}

func (p *templateSource) Parse(ctx context.Context, name string, data []byte) (plugin.Template, error) {
	return call(ctx, p.in, func(l *launch) (plugin.Template, error) {
		return l.kind.(plugin.TemplateSource).Parse(ctx, name, data)
	})
}

type policy struct{ baseProxy }

func (p *policy) Check(ctx context.Context, req plugin.CheckRequest) (plugin.Decision, error) {
	return call(ctx, p.in, func(l *launch) (plugin.Decision, error) { return l.kind.(plugin.Policy).Check(ctx, req) })
}

// Notify is repeated after a plugin crash: events are delivered at least
// once and carry IDs for de-duplication.
func (p *policy) Notify(ctx context.Context, e plugin.Event) error {
	return p.in.do(ctx, always, func(l *launch) error { return l.kind.(plugin.Policy).Notify(ctx, e) })
}
