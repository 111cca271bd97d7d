// Package metrics measures what the node's servers use — CPU, memory,
// pids and network from the runtime, disk from a background walk of each
// volume — and the node's own health, and publishes both to the core on
// an interval. It also keeps servers to their disk limits: CheckWrite for
// writes through the agent, and a warning then a stop for a running
// server found over its limit.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/agent/internal/runtime"
	"catalyst.dev/agent/internal/servers"
	"catalyst.dev/sdk/wire"
)

// StatsSource samples a running server process (runtime.Runtime does).
type StatsSource interface {
	Stats(ctx context.Context, id string) (runtime.Stats, error)
}

// Servers is what the collector needs of the server manager: the servers
// and their volumes, a normal stop, and a way to tell a server's viewers
// why.
type Servers interface {
	Volumes() []servers.Volume
	Stop(ctx context.Context, id string) error
	Message(id, level, text string)
}

// HealthSource samples the node (hostinfo.HealthSampler does); containers
// is the number of server processes running.
type HealthSource interface {
	Sample(containers int) (wire.NodeHealth, error)
}

// Publisher sends events to the core without blocking.
type Publisher interface {
	Publish(typ string, data any)
}

// QuotaAction is what happens to a running server found over its disk
// limit.
type QuotaAction string

const (
	// QuotaStop warns, then stops the server once the grace period is
	// over and it is still over its limit.
	QuotaStop QuotaAction = "stop"
	// QuotaWarn only warns.
	QuotaWarn QuotaAction = "warn"
	// QuotaNone does nothing but report usage. CheckWrite still refuses
	// writes past the limit.
	QuotaNone QuotaAction = "none"
)

// Options tune the collector. Every field must be set; DefaultOptions
// has the documented defaults.
type Options struct {
	// Interval is how often every server is sampled and a resource_stats
	// event published.
	Interval time.Duration
	// HealthInterval is how often a health_report event is published.
	HealthInterval time.Duration
	// DiskInterval is how often each volume is walked. Walks run one at a
	// time in the background.
	DiskInterval time.Duration
	// Quota and QuotaGrace say what happens to a running server over its
	// disk limit: after the warning it has QuotaGrace to get back under.
	Quota      QuotaAction
	QuotaGrace time.Duration
}

// DefaultOptions are the defaults config/agent.hcl documents.
var DefaultOptions = Options{
	Interval:       2 * time.Second,
	HealthInterval: 10 * time.Second,
	DiskInterval:   60 * time.Second,
	Quota:          QuotaStop,
	QuotaGrace:     5 * time.Minute,
}

func (o Options) validate() error {
	switch {
	case o.Interval <= 0:
		return fmt.Errorf("stats interval %v is not positive", o.Interval)
	case o.HealthInterval <= 0:
		return fmt.Errorf("health interval %v is not positive", o.HealthInterval)
	case o.DiskInterval <= 0:
		return fmt.Errorf("disk interval %v is not positive", o.DiskInterval)
	case o.QuotaGrace < 0:
		return fmt.Errorf("disk quota grace %v is negative", o.QuotaGrace)
	}
	switch o.Quota {
	case QuotaStop, QuotaWarn, QuotaNone:
		return nil
	default:
		return fmt.Errorf("disk quota action %q: want stop, warn or none", o.Quota)
	}
}

// Collector samples and publishes resource use. Make it with New, call
// Run once; Usage and CheckWrite may be called at any time, from any
// goroutine.
type Collector struct {
	stats  StatsSource
	srv    Servers
	health HealthSource
	pub    Publisher
	log    hclog.Logger
	warn   *rateLog
	opts   Options

	mu sync.Mutex
	// disk is each server's last walk; limits each server's disk limit
	// as last seen (refreshed every Interval), for CheckWrite.
	disk   map[string]*diskUsage
	limits map[string]uint64
}

// New makes a collector. It starts nothing; Run does.
func New(stats StatsSource, srv Servers, health HealthSource, pub Publisher, log hclog.Logger, opts Options) (*Collector, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("resource collector: %w", err)
	}
	return &Collector{
		stats:  stats,
		srv:    srv,
		health: health,
		pub:    pub,
		log:    log,
		warn:   newRateLog(log, time.Minute),
		opts:   opts,
		disk:   map[string]*diskUsage{},
		limits: map[string]uint64{},
	}, nil
}

// Run samples and publishes until ctx ends: server stats every Interval,
// node health every HealthInterval, and volume walks (with quota
// enforcement) in the background. It returns once all of it has stopped.
func (c *Collector) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { c.runStats(ctx) })
	wg.Go(func() { c.runHealth(ctx) })
	wg.Go(func() { newDiskLoop(c).run(ctx) })
	wg.Wait()
}

// prevSample is a server's last stats sample, for the next CPU figure.
type prevSample struct {
	proc  servers.Process
	stats runtime.Stats
}

func (c *Collector) runStats(ctx context.Context) {
	prev := map[string]prevSample{}
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if st := c.sample(ctx, prev); len(st.Servers) > 0 {
			c.pub.Publish(wire.EventResourceStats, st)
		}
	}
}

// sample takes one sample of every configured server (zeros but disk for
// those not running) and updates prev.
func (c *Collector) sample(ctx context.Context, prev map[string]prevSample) wire.ResourceStats {
	vols := c.srv.Volumes()
	c.setLimits(vols)
	now := time.Now().UTC()
	out := wire.ResourceStats{Servers: make([]wire.ServerStats, 0, len(vols))}
	seen := make(map[string]bool, len(vols))
	for _, v := range vols {
		seen[v.ID] = true
		st := wire.ServerStats{ServerID: v.ID, At: now, DiskLimitBytes: v.DiskLimitBytes}
		st.DiskBytes, st.DiskAt, _ = c.Usage(v.ID)
		if v.Running {
			c.sampleProcess(ctx, v, prev, &st)
		} else {
			delete(prev, v.ID)
		}
		out.Servers = append(out.Servers, st)
	}
	for id := range prev {
		if !seen[id] {
			delete(prev, id)
		}
	}
	return out
}

// sampleProcess fills st from the runtime. CPU use needs two samples of
// the same process, so a server's first sample after a (re)start says 0.
func (c *Collector) sampleProcess(ctx context.Context, v servers.Volume, prev map[string]prevSample, st *wire.ServerStats) {
	sctx, cancel := context.WithTimeout(ctx, c.opts.Interval)
	defer cancel()
	s, err := c.stats.Stats(sctx, v.ID)
	if err != nil {
		delete(prev, v.ID)
		// A process that just exited is no news; neither is shutdown.
		if ctx.Err() == nil && !errors.Is(err, runtime.ErrNotRunning) && !errors.Is(err, runtime.ErrNotFound) {
			c.warn.Warn("stats:"+v.ID, "could not sample a server's resource use", "server", v.ID, "error", err)
		}
		return
	}
	if p, ok := prev[v.ID]; ok && p.proc == v.Process {
		st.CPUPercent = s.CPUPercent(p.stats)
	}
	prev[v.ID] = prevSample{proc: v.Process, stats: s}
	if !s.At.IsZero() {
		st.At = s.At.UTC()
	}
	st.MemoryBytes, st.MemoryLimitBytes, st.Pids = s.MemoryBytes, s.MemoryLimitBytes, s.Pids
	st.NetRxBytes, st.NetTxBytes = s.NetRxBytes, s.NetTxBytes
}

func (c *Collector) setLimits(vols []servers.Volume) {
	limits := make(map[string]uint64, len(vols))
	for _, v := range vols {
		limits[v.ID] = v.DiskLimitBytes
	}
	c.mu.Lock()
	c.limits = limits
	c.mu.Unlock()
}

func (c *Collector) runHealth(ctx context.Context) {
	t := time.NewTicker(c.opts.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		running := 0
		for _, v := range c.srv.Volumes() {
			if v.Running {
				running++
			}
		}
		h, err := c.health.Sample(running)
		if err != nil {
			c.warn.Warn("health", "could not sample the node's health", "error", err)
			continue
		}
		c.pub.Publish(wire.EventHealthReport, h)
	}
}

// rateLog logs a warning per key at most once per interval, saying how
// many it held back since: a failing disk or containerd must not flood
// the log every two seconds per server.
type rateLog struct {
	log   hclog.Logger
	every time.Duration

	mu   sync.Mutex
	last map[string]time.Time
	held map[string]int
}

func newRateLog(log hclog.Logger, every time.Duration) *rateLog {
	return &rateLog{log: log, every: every, last: map[string]time.Time{}, held: map[string]int{}}
}

func (r *rateLog) Warn(key, msg string, args ...any) {
	r.mu.Lock()
	now := time.Now()
	if last, ok := r.last[key]; ok && now.Sub(last) < r.every {
		r.held[key]++
		r.mu.Unlock()
		return
	}
	held := r.held[key]
	r.last[key] = now
	delete(r.held, key)
	r.mu.Unlock()
	if held > 0 {
		args = append(args, "similar_warnings_held_back", held)
	}
	r.log.Warn(msg, args...)
}
