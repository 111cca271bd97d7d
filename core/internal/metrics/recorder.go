// Package metrics keeps the core's view of resource use: the latest
// sample of every server of a connected node and of the node itself (for
// the API and live graphs), their history in the store (written in
// batches, downsampled on read, pruned after a retention period), and the
// Prometheus exposition of the core's own health.
package metrics

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
)

// Options tunes a Recorder; zero fields take the defaults.
type Options struct {
	// FlushInterval is how often samples are written to the store (30s).
	FlushInterval time.Duration
	// Retention is how long samples are kept (720h).
	Retention time.Duration
	// PruneInterval is how often samples older than Retention are
	// deleted (1h).
	PruneInterval time.Duration
	// RefreshInterval is how often the server → node map is reloaded
	// (1m), so that a server moved to another node is accepted from it.
	RefreshInterval time.Duration
	// MissRefreshGap is the least time between two reloads asked for by
	// samples of servers the map does not know (5s): a new server shows
	// up within seconds, and an agent sending unknown IDs cannot make the
	// core query the database per sample.
	MissRefreshGap time.Duration
}

func (o *Options) defaults() {
	if o.FlushInterval <= 0 {
		o.FlushInterval = 30 * time.Second
	}
	if o.Retention <= 0 {
		o.Retention = 720 * time.Hour
	}
	if o.PruneInterval <= 0 {
		o.PruneInterval = time.Hour
	}
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = time.Minute
	}
	if o.MissRefreshGap <= 0 {
		o.MissRefreshGap = 5 * time.Second
	}
}

// Bounds of what a sample may claim; anything beyond is an agent bug or
// a lie, clamped so that one bad value cannot wreck a graph's scale.
const (
	// maxCPUPercent is 1,024 cores busy.
	maxCPUPercent = 100 * 1024
	maxLoad       = 1e6
	maxContainers = 1 << 20
	// maxClockSkew is how far a sample's time may be from the core's
	// clock before the core's receive time replaces it.
	maxClockSkew = time.Minute
	// finalFlushTimeout bounds the flush Run makes on its way out.
	finalFlushTimeout = 10 * time.Second
	// warnEvery is the least time between two warnings about one node
	// reporting servers that are not its own.
	warnEvery = time.Minute
)

// Recorder receives agents' resource_stats and health_report events (it
// is a gateway.Handler), keeps the latest sample of each server and node,
// and, while Run runs, writes them to the store in batches and prunes old
// rows.
type Recorder struct {
	store *store.Store
	log   hclog.Logger
	opts  Options

	// missed asks Run to reload the server → node map.
	missed chan struct{}

	mu sync.Mutex
	// servers' placements, as the store last said.
	placements map[string]store.Placement
	// watchers hear every accepted sample (Watch).
	watchers []Watcher
	servers  map[string]*serverEntry
	nodes    map[string]*nodeEntry
	// nodeServers are the servers in each node's last stats sample.
	nodeServers map[string]map[string]struct{}
	warned      map[string]time.Time
}

// serverEntry is what the recorder holds of one server: its latest
// sample, and the CPU figures received since the last flush.
type serverEntry struct {
	nodeID   string
	stats    wire.ServerStats
	received time.Time
	// live is false once the server left its node's samples (deleted,
	// moved) or the node disconnected: the entry stays only until its pending
	// figures are flushed.
	live   bool
	cpuSum float64
	n      int
}

type nodeEntry struct {
	health   wire.NodeHealth
	received time.Time
	live     bool
	cpuSum   float64
	n        int
}

var _ gateway.Handler = (*Recorder)(nil)

// NewRecorder returns a recorder writing to s. Give it to the gateway as
// a handler and start Run.
func NewRecorder(s *store.Store, log hclog.Logger, opts Options) *Recorder {
	opts.defaults()
	return &Recorder{
		store: s, log: log, opts: opts,
		missed:      make(chan struct{}, 1),
		placements:  map[string]store.Placement{},
		servers:     map[string]*serverEntry{},
		nodes:       map[string]*nodeEntry{},
		nodeServers: map[string]map[string]struct{}{},
		warned:      map[string]time.Time{},
	}
}

// ServerSample is a server's sample the recorder accepted (clamped, from
// the server's own node), with the server's CPU limit.
type ServerSample struct {
	wire.ServerStats
	// CPULimit is the server's CPU limit in percent of a core (0: none).
	CPULimit int64
}

// Watcher hears a node's accepted samples as they arrive. It runs on the
// node's event stream and must not block.
type Watcher func(nodeID string, samples []ServerSample)

// Watch adds w to the watchers. Call it before the recorder is used.
func (r *Recorder) Watch(w Watcher) { r.watchers = append(r.watchers, w) }

// OnHello does nothing: samples arrive as events.
func (r *Recorder) OnHello(context.Context, string, wire.Hello) {}

// OnEvent records resource_stats and health_report events. It never
// touches the database, so it cannot hold up the node's event stream.
func (r *Recorder) OnEvent(_ context.Context, nodeID string, e wire.Envelope) {
	switch e.Type {
	case wire.EventResourceStats:
		var rs wire.ResourceStats
		if err := e.Decode(&rs); err != nil {
			r.log.Warn("unreadable resource stats dropped", "node", nodeID, "error", err)
			return
		}
		accepted := r.recordServers(nodeID, rs.Servers, time.Now())
		for _, w := range r.watchers {
			w(nodeID, accepted)
		}
	case wire.EventHealthReport:
		var h wire.NodeHealth
		if err := e.Decode(&h); err != nil {
			r.log.Warn("unreadable health report dropped", "node", nodeID, "error", err)
			return
		}
		r.recordNode(nodeID, h, time.Now())
	}
}

// OnDisconnect forgets the node's latest health and its servers' latest
// samples, so that nothing stale looks live; figures received but not yet
// flushed are still written.
func (r *Recorder) OnDisconnect(nodeID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.nodes[nodeID]; e != nil {
		e.live = false
	}
	for id := range r.nodeServers[nodeID] {
		if e := r.servers[id]; e != nil && e.nodeID == nodeID {
			e.live = false
		}
	}
	delete(r.nodeServers, nodeID)
}

// recordServers takes one resource_stats sample: every server the node
// has (stopped ones with zeros but their disk use). A server absent from
// it is no longer on that node.
func (r *Recorder) recordServers(nodeID string, stats []wire.ServerStats, now time.Time) []ServerSample {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := make(map[string]struct{}, len(stats))
	accepted := make([]ServerSample, 0, len(stats))
	var unknown, foreign []string
	for _, st := range stats {
		place, ok := r.placements[st.ServerID]
		switch {
		case !ok:
			unknown = append(unknown, st.ServerID)
			continue
		case place.NodeID != nodeID:
			// Agents are not trusted: a node reports its own servers only.
			foreign = append(foreign, st.ServerID)
			continue
		}
		st = sanitizeServer(st, now)
		e := r.servers[st.ServerID]
		if e == nil || e.nodeID != nodeID {
			e = &serverEntry{nodeID: nodeID}
			r.servers[st.ServerID] = e
		}
		e.stats, e.received, e.live = st, now, true
		e.cpuSum += st.CPUPercent
		e.n++
		seen[st.ServerID] = struct{}{}
		accepted = append(accepted, ServerSample{ServerStats: st, CPULimit: place.CPUPercent})
	}
	for id := range r.nodeServers[nodeID] {
		if _, ok := seen[id]; !ok {
			if e := r.servers[id]; e != nil && e.nodeID == nodeID {
				e.live = false
			}
		}
	}
	r.nodeServers[nodeID] = seen

	if len(unknown) > 0 || len(foreign) > 0 {
		// The map may be stale (a new server, a transfer): ask Run for a
		// reload, without waiting for it.
		select {
		case r.missed <- struct{}{}:
		default:
		}
	}
	if len(unknown) > 0 && r.log.IsDebug() {
		r.log.Debug("stats for servers not (yet) known dropped", "node", nodeID, "servers", unknown)
	}
	if len(foreign) > 0 && now.Sub(r.warned[nodeID]) >= warnEvery {
		r.warned[nodeID] = now
		r.log.Warn("stats for servers of another node dropped", "node", nodeID, "servers", foreign)
	}
	return accepted
}

func (r *Recorder) recordNode(nodeID string, h wire.NodeHealth, now time.Time) {
	h = sanitizeNode(h, now)
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.nodes[nodeID]
	if e == nil {
		e = &nodeEntry{}
		r.nodes[nodeID] = e
	}
	e.health, e.received, e.live = h, now, true
	e.cpuSum += h.CPUPercent
	e.n++
}

// LatestServer returns the server's latest sample while its node is
// connected and reports it.
func (r *Recorder) LatestServer(id string) (wire.ServerStats, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.servers[id]
	if e == nil || !e.live {
		return wire.ServerStats{}, false
	}
	return e.stats, true
}

// LatestNode returns the node's latest health report while it is
// connected.
func (r *Recorder) LatestNode(id string) (wire.NodeHealth, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.nodes[id]
	if e == nil || !e.live {
		return wire.NodeHealth{}, false
	}
	return e.health, true
}

// RefreshServers reloads the servers' placements from the store. Run does
// it at start, every RefreshInterval and when samples name servers the
// map does not know.
func (r *Recorder) RefreshServers(ctx context.Context) error {
	m, err := r.store.ServerPlacements(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.placements = m
	r.mu.Unlock()
	return nil
}

// Flush writes one row per server and per node that sent a sample since
// the last flush: the latest figures, with CPU averaged over the samples
// received. Figures are taken out of memory before the write, so a failed
// write loses them rather than writing them twice.
func (r *Recorder) Flush(ctx context.Context) error {
	srvRows, nodeRows := r.takePending()
	var errs []error
	if len(srvRows) > 0 {
		errs = append(errs, r.store.InsertServerMetrics(ctx, srvRows))
	}
	if len(nodeRows) > 0 {
		errs = append(errs, r.store.InsertNodeMetrics(ctx, nodeRows))
	}
	return errors.Join(errs...)
}

func (r *Recorder) takePending() ([]store.ServerMetric, []store.NodeMetric) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var srvRows []store.ServerMetric
	for id, e := range r.servers {
		if e.n > 0 {
			st := e.stats
			srvRows = append(srvRows, store.ServerMetric{
				ServerID: id, At: e.received.Unix(), CPUPercent: e.cpuSum / float64(e.n),
				MemoryBytes: toInt64(st.MemoryBytes), MemoryLimitBytes: toInt64(st.MemoryLimitBytes), Pids: toInt64(st.Pids),
				NetRxBytes: toInt64(st.NetRxBytes), NetTxBytes: toInt64(st.NetTxBytes), DiskBytes: toInt64(st.DiskBytes),
			})
			e.cpuSum, e.n = 0, 0
		}
		if !e.live {
			delete(r.servers, id)
		}
	}
	var nodeRows []store.NodeMetric
	for id, e := range r.nodes {
		if e.n > 0 {
			h := e.health
			nodeRows = append(nodeRows, store.NodeMetric{
				NodeID: id, At: e.received.Unix(), CPUPercent: e.cpuSum / float64(e.n),
				MemoryUsedBytes: toInt64(h.MemoryUsedBytes), MemoryTotalBytes: toInt64(h.MemoryTotalBytes),
				DiskUsedBytes: toInt64(h.DiskUsedBytes), DiskTotalBytes: toInt64(h.DiskTotalBytes),
				Load1: h.Load1, Load5: h.Load5, Load15: h.Load15, Containers: h.Containers,
			})
			e.cpuSum, e.n = 0, 0
		}
		if !e.live {
			delete(r.nodes, id)
		}
	}
	return srvRows, nodeRows
}

// Prune deletes samples older than the retention period.
func (r *Recorder) Prune(ctx context.Context) (int64, error) {
	return r.store.DeleteMetricsBefore(ctx, time.Now().Add(-r.opts.Retention))
}

// Run flushes every FlushInterval, prunes at start and every
// PruneInterval, and keeps the server → node map fresh, until ctx ends;
// then it flushes once more. Errors are logged and the loop goes on.
// Call it once.
func (r *Recorder) Run(ctx context.Context) {
	lastRefresh := time.Now()
	if err := r.RefreshServers(ctx); err != nil {
		r.log.Error("load servers for stats", "error", err)
	}
	r.prune(ctx)
	flush := time.NewTicker(r.opts.FlushInterval)
	defer flush.Stop()
	prune := time.NewTicker(r.opts.PruneInterval)
	defer prune.Stop()
	refresh := time.NewTicker(r.opts.RefreshInterval)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			// ctx is over; the last figures still deserve their write.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalFlushTimeout)
			r.flush(fctx)
			cancel()
			return
		case <-flush.C:
			r.flush(ctx)
		case <-prune.C:
			r.prune(ctx)
		case <-refresh.C:
			lastRefresh = time.Now()
			if err := r.RefreshServers(ctx); err != nil && ctx.Err() == nil {
				r.log.Error("reload servers for stats", "error", err)
			}
		case <-r.missed:
			if time.Since(lastRefresh) < r.opts.MissRefreshGap {
				continue
			}
			lastRefresh = time.Now()
			if err := r.RefreshServers(ctx); err != nil && ctx.Err() == nil {
				r.log.Error("reload servers for stats", "error", err)
			}
		}
	}
}

func (r *Recorder) flush(ctx context.Context) {
	if err := r.Flush(ctx); err != nil && ctx.Err() == nil {
		r.log.Error("write stats history; this interval's samples are lost", "error", err)
	}
}

func (r *Recorder) prune(ctx context.Context) {
	n, err := r.Prune(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		r.log.Error("delete old stats history", "error", err, "deleted", n)
	case n > 0:
		r.log.Info("old stats history deleted", "rows", n, "retention", r.opts.Retention)
	}
}

// sanitizeServer clamps a sample to what a server can report.
func sanitizeServer(st wire.ServerStats, now time.Time) wire.ServerStats {
	st.CPUPercent = clampFloat(st.CPUPercent, maxCPUPercent)
	st.MemoryBytes = clampUint(st.MemoryBytes)
	st.MemoryLimitBytes = clampUint(st.MemoryLimitBytes)
	st.Pids = clampUint(st.Pids)
	st.NetRxBytes = clampUint(st.NetRxBytes)
	st.NetTxBytes = clampUint(st.NetTxBytes)
	st.DiskBytes = clampUint(st.DiskBytes)
	st.DiskLimitBytes = clampUint(st.DiskLimitBytes)
	if skewed(st.At, now) {
		st.At = now.UTC()
	}
	if !st.DiskAt.IsZero() && st.DiskAt.After(now.Add(maxClockSkew)) {
		st.DiskAt = now.UTC()
	}
	return st
}

// sanitizeNode clamps a health report to what a node can report: CPU to
// 100 % per core.
func sanitizeNode(h wire.NodeHealth, now time.Time) wire.NodeHealth {
	h.CPUCores = min(max(h.CPUCores, 0), 1024)
	limit := float64(maxCPUPercent)
	if h.CPUCores > 0 {
		limit = 100 * float64(h.CPUCores)
	}
	h.CPUPercent = clampFloat(h.CPUPercent, limit)
	h.MemoryUsedBytes = clampUint(h.MemoryUsedBytes)
	h.MemoryTotalBytes = clampUint(h.MemoryTotalBytes)
	h.DiskUsedBytes = clampUint(h.DiskUsedBytes)
	h.DiskTotalBytes = clampUint(h.DiskTotalBytes)
	h.Load1 = clampFloat(h.Load1, maxLoad)
	h.Load5 = clampFloat(h.Load5, maxLoad)
	h.Load15 = clampFloat(h.Load15, maxLoad)
	h.Containers = min(max(h.Containers, 0), maxContainers)
	if skewed(h.At, now) {
		h.At = now.UTC()
	}
	return h
}

func skewed(at, now time.Time) bool {
	return at.IsZero() || at.Sub(now) > maxClockSkew || now.Sub(at) > maxClockSkew
}

// clampFloat maps v into [0, hi]; NaN becomes 0.
func clampFloat(v, hi float64) float64 {
	if math.IsNaN(v) || v < 0 {
		return 0
	}
	return min(v, hi)
}

// clampUint keeps v within what a BIGINT column holds.
func clampUint(v uint64) uint64 { return min(v, math.MaxInt64) }

func toInt64(v uint64) int64 { return int64(min(v, math.MaxInt64)) }
