package alerts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"catalyst.dev/core/internal/backups"
	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/live"
	"catalyst.dev/core/internal/metrics"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
)

// Route sends the alerts it matches to its sinks (alert_sink plugins).
type Route struct {
	Sinks []string
	// Severities and Types narrow the route; empty matches all.
	Severities []string
	Types      []string
	// ServerRules: the alerts of servers' own rules go too.
	ServerRules bool
	// SendResolved: a resolved alert is announced as well.
	SendResolved bool
}

func (r Route) matches(a *store.Alert, serverRule bool, resolved bool) bool {
	return (!serverRule || r.ServerRules) && (!resolved || r.SendResolved) &&
		(len(r.Severities) == 0 || slices.Contains(r.Severities, a.Severity)) &&
		(len(r.Types) == 0 || slices.Contains(r.Types, a.Type))
}

// RoutesFrom reads the alerts block's routes. Without any, every alert
// sink in sinks gets every alert of the admin-wide rules, resolved ones
// too.
func RoutesFrom(c *config.Alerts, sinks []string) []Route {
	if len(c.Routes) == 0 {
		if len(sinks) == 0 {
			return nil
		}
		return []Route{{Sinks: slices.Clone(sinks), SendResolved: true}}
	}
	out := make([]Route, 0, len(c.Routes))
	for _, r := range c.Routes {
		out = append(out, Route{Sinks: r.Sinks, Severities: r.Severities, Types: r.Types,
			ServerRules: r.ServerRules, SendResolved: r.SendResolved == nil || *r.SendResolved})
	}
	return out
}

// Publisher sends live messages to a server's sockets; *live.Hub is one.
type Publisher interface {
	Publish(nodeID, serverID, typ string, data any)
}

// Outbox sends deliveries; *outbox.Outbox is one. Wake has it look for
// deliveries written in a transaction of the caller's.
type Outbox interface {
	Enqueue(ctx context.Context, ds ...*store.Delivery) error
	Wake()
}

// Options tune the service; zero fields take the defaults.
type Options struct {
	// PublicURL is the panel's address, for links in notifications.
	PublicURL string
	Routes    []Route
	// Sinks are the configured alert sink plugins' names, for test
	// deliveries.
	Sinks []string
	// ResolvedRetention is how long resolved alerts are kept (90 days).
	ResolvedRetention time.Duration
	// Tick is how often silent nodes are checked against node_offline
	// rules (1s).
	Tick time.Duration
}

// Notice is an alert that opened or resolved, for whoever else announces
// alerts (the servers' webhooks).
type Notice struct {
	Alert *store.Alert
	// Status is plugin.StatusFiring or plugin.StatusResolved.
	Status string
}

// Service raises and resolves alerts. Tell it what happens (it is a
// gateway.Handler, a servers observer, a metrics watcher, a backups and
// transfers observer), Start it, and Run it.
type Service struct {
	store  *store.Store
	engine *Engine
	pub    Publisher
	outbox Outbox
	log    hclog.Logger
	opts   Options

	observers []func(Notice)
	// reloadMu orders rule reloads, so that the engine ends with the
	// latest rules.
	reloadMu sync.Mutex

	mu     sync.Mutex
	queue  []Finding
	signal chan struct{}
}

var _ gateway.Handler = (*Service)(nil)

// New returns the service.
func New(s *store.Store, pub Publisher, outbox Outbox, log hclog.Logger, opts Options) *Service {
	if opts.ResolvedRetention <= 0 {
		opts.ResolvedRetention = 90 * 24 * time.Hour
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	return &Service{store: s, engine: NewEngine(), pub: pub, outbox: outbox, log: log, opts: opts,
		signal: make(chan struct{}, 1)}
}

// OnNotice registers fn to hear every alert that opens or resolves. Call
// it before the service is used; fn must not block.
func (s *Service) OnNotice(fn func(Notice)) { s.observers = append(s.observers, fn) }

// Engine is the service's rule engine.
func (s *Service) Engine() *Engine { return s.engine }

// Start loads the rules and the open alerts, and counts every known node
// as away from now on: a node that does not connect within a node_offline
// rule's wait raises it. Call it before agents can connect.
func (s *Service) Start(ctx context.Context) error {
	if err := s.reload(ctx); err != nil {
		return err
	}
	nodes, err := s.store.ListNodes(ctx)
	if err != nil {
		return fmt.Errorf("load nodes for alerts: %w", err)
	}
	now := time.Now()
	for _, n := range nodes {
		s.engine.NodeDown(n.ID, now)
	}
	return nil
}

// reload gives the engine the stored rules and open alerts.
func (s *Service) reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	rules, err := s.store.AllAlertRules(ctx)
	if err != nil {
		return fmt.Errorf("load alert rules: %w", err)
	}
	open, err := s.store.OpenAlerts(ctx)
	if err != nil {
		return fmt.Errorf("load open alerts: %w", err)
	}
	s.engine.SetRules(rules, open)
	return nil
}

// Run applies the engine's findings, checks silent nodes every Tick and
// prunes old resolved alerts, until ctx ends. Call it once, after Start.
func (s *Service) Run(ctx context.Context) {
	tick := time.NewTicker(s.opts.Tick)
	defer tick.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	s.prune(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			s.add(s.engine.Tick(now))
		case <-prune.C:
			s.prune(ctx)
		case <-s.signal:
		}
		s.drain(ctx)
	}
}

// add queues findings for Run, in order, without blocking.
func (s *Service) add(fs []Finding) {
	if len(fs) == 0 {
		return
	}
	s.mu.Lock()
	s.queue = append(s.queue, fs...)
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

func (s *Service) drain(ctx context.Context) {
	for ctx.Err() == nil {
		s.mu.Lock()
		fs := s.queue
		s.queue = nil
		s.mu.Unlock()
		if len(fs) == 0 {
			return
		}
		for _, f := range fs {
			if err := s.apply(ctx, f); err != nil && ctx.Err() == nil {
				s.log.Error("record alert", "rule", f.Rule.Name, "target", f.Target, "fire", f.Fire, "error", err)
			}
		}
	}
}

// OnSamples evaluates a node's accepted samples (a metrics.Watcher).
func (s *Service) OnSamples(nodeID string, samples []metrics.ServerSample) {
	in := make([]Sample, len(samples))
	for i, st := range samples {
		in[i] = SampleOf(nodeID, st)
	}
	s.add(s.engine.Samples(in, nil))
}

// SampleOf converts a recorder sample to the percentages rules compare.
func SampleOf(nodeID string, st metrics.ServerSample) Sample {
	smp := Sample{ServerID: st.ServerID, NodeID: nodeID, At: st.At, CPU: st.CPUPercent}
	if st.CPULimit > 0 {
		smp.CPU = st.CPUPercent * 100 / float64(st.CPULimit)
	}
	if st.MemoryLimitBytes > 0 {
		smp.Memory, smp.HasMemory = float64(st.MemoryBytes)*100/float64(st.MemoryLimitBytes), true
	}
	if st.DiskLimitBytes > 0 {
		smp.Disk, smp.HasDisk = float64(st.DiskBytes)*100/float64(st.DiskLimitBytes), true
	}
	if smp.At.IsZero() {
		smp.At = time.Now()
	}
	return smp
}

// OnChange turns servers' state changes into alerts (a servers.Observer).
func (s *Service) OnChange(c servers.Change) {
	now := time.Now()
	var fs []Finding
	event := func(typ string, fire bool, detail string) {
		fs = append(fs, s.engine.Event(typ, c.ServerID, "", fire, detail, now)...)
	}
	switch {
	case c.CrashLoop:
		event(TypeCrashLoop, true, c.Reason)
	case c.To == store.StateCrashed:
		event(TypeServerCrashed, true, c.Reason)
	case c.To == store.StateInstallFailed:
		event(TypeInstallFailed, true, c.Reason)
	case c.To == store.StateRunning:
		event(TypeServerCrashed, false, "")
		event(TypeCrashLoop, false, "")
	}
	if c.From == store.StateInstalling && (c.To == store.StateStopped || c.To == store.StateRunning) {
		event(TypeInstallFailed, false, "")
	}
	s.add(fs)
}

// OnOutcome turns backups' outcomes into alerts (a backups observer).
func (s *Service) OnOutcome(o backups.Outcome) {
	switch o.Type {
	case live.TypeBackupFailed:
		s.add(s.engine.Event(TypeBackupFailed, o.ServerID, "", true, o.Error, time.Now()))
	case live.TypeBackupCompleted:
		s.add(s.engine.Event(TypeBackupFailed, o.ServerID, "", false, "", time.Now()))
	}
}

// OnTransfer turns transfers' outcomes into alerts (a transfers observer).
func (s *Service) OnTransfer(e servers.TransferEvent) {
	switch e.Stage {
	case servers.TransferFailed:
		s.add(s.engine.Event(TypeTransferFailed, e.ServerID, e.From, true, e.Error, time.Now()))
	case servers.TransferCompleted:
		s.add(s.engine.Event(TypeTransferFailed, e.ServerID, e.To, false, "", time.Now()))
	}
}

// OnHello resolves the node's node_offline alerts.
func (s *Service) OnHello(_ context.Context, nodeID string, _ wire.Hello) {
	s.add(s.engine.NodeUp(nodeID, time.Now()))
}

// OnEvent does nothing: samples come through the metrics recorder.
func (s *Service) OnEvent(context.Context, string, wire.Envelope) {}

// OnDisconnect starts the node's node_offline wait.
func (s *Service) OnDisconnect(nodeID string) { s.engine.NodeDown(nodeID, time.Now()) }

// apply records one finding: it opens or resolves the alert with its
// notifications, and announces it.
func (s *Service) apply(ctx context.Context, f Finding) error {
	sub, err := s.subject(ctx, f)
	if err != nil || sub.gone {
		return err
	}
	if f.Fire {
		a := sub.alert(f)
		opened, err := s.store.OpenAlert(ctx, a, s.notify(sub, plugin.StatusFiring, f.Rule.ServerID != nil))
		if err != nil || !opened {
			return err
		}
		s.announce(a, plugin.StatusFiring)
		return nil
	}
	a, err := s.store.ResolveAlert(ctx, f.Rule.ID, f.Target, "", s.notify(sub, plugin.StatusResolved, f.Rule.ServerID != nil))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s.announce(a, plugin.StatusResolved)
	return nil
}

// announce wakes the outbox and tells the server's sockets and the
// observers.
func (s *Service) announce(a *store.Alert, status string) {
	s.outbox.Wake()
	if a.ServerID != nil {
		s.pub.Publish("", *a.ServerID, live.TypeAlert, alertMsg{Alert: a, Status: status})
	}
	for _, fn := range s.observers {
		fn(Notice{Alert: a, Status: status})
	}
	s.log.Info("alert "+status, "alert", a.ID, "type", a.Type, "severity", a.Severity, "title", a.Title)
}

// alertMsg is the data of a live alert message.
type alertMsg struct {
	Alert  *store.Alert `json:"alert"`
	Status string       `json:"status"`
}

func (s *Service) prune(ctx context.Context) {
	n, err := s.store.DeleteResolvedAlertsBefore(ctx, time.Now().Add(-s.opts.ResolvedRetention))
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Error("delete old resolved alerts", "error", err)
	case n > 0:
		s.log.Info("old resolved alerts deleted", "alerts", n, "retention", s.opts.ResolvedRetention)
	}
}
