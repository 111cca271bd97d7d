package metrics

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"catalyst.dev/core/internal/store"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Sources are the live figures the exporter reads at each scrape. A nil
// function reads as zero.
type Sources struct {
	// NodesConnected counts agents with an open tunnel.
	NodesConnected func() int
	// WebSocketClients counts browser sockets open on this core.
	WebSocketClients func() int
	// ConsoleLines counts console lines received from agents since start.
	ConsoleLines func() uint64
}

// serverStatesTTL is how long a count of servers by state is reused, so
// that scrapes, however frequent, query the database at most this often.
const serverStatesTTL = 10 * time.Second

// states are reported even when no server is in them, so that a series
// drops to zero instead of vanishing.
var states = []string{
	store.StateInstalling, store.StateInstallFailed, store.StateStopped, store.StateStarting, store.StateRunning,
	store.StateStopping, store.StateCrashed, store.StateTransferring, store.StateSuspended,
}

// UnmatchedRoute is the route label of requests no route matched: the
// label keeps to the route table, never a client's path.
const UnmatchedRoute = "unmatched"

// Exporter serves the core's Prometheus metrics from a registry of its
// own (never the global one, so that tests and libraries cannot collide
// with it).
type Exporter struct {
	registry *prometheus.Registry
	requests *prometheus.HistogramVec
	handler  http.Handler
}

// NewExporter registers the core's metrics: the sources, servers by state
// (counted in s), API request latency, and the Go runtime and process
// collectors.
func NewExporter(s *store.Store, src Sources, log hclog.Logger) *Exporter {
	reg := prometheus.NewRegistry()
	requests := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "catalyst_http_request_duration_seconds",
		Help:    "API request latency by method, route (as declared, or \"unmatched\") and status.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route", "status"})
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "catalyst_nodes_connected", Help: "Nodes whose agent has a tunnel open to this core.",
		}, func() float64 { return float64(readInt(src.NodesConnected)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "catalyst_websocket_clients", Help: "Browser WebSocket clients connected to this core.",
		}, func() float64 { return float64(readInt(src.WebSocketClients)) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "catalyst_console_lines_total", Help: "Console lines received from agents since this core started.",
		}, func() float64 {
			if src.ConsoleLines == nil {
				return 0
			}
			return float64(src.ConsoleLines())
		}),
		&serverStates{store: s, log: log, desc: prometheus.NewDesc("catalyst_servers",
			"Servers by state (counted at most every 10s).", []string{"state"}, nil)},
		requests,
	)
	return &Exporter{
		registry: reg,
		requests: requests,
		handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{
			ErrorLog:      log.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Warn}),
			ErrorHandling: promhttp.ContinueOnError,
		}),
	}
}

// Handler serves the metrics in the Prometheus text format. It does no
// access control: whoever mounts it decides who may scrape.
func (e *Exporter) Handler() http.Handler { return e.handler }

// ObserveRequest records one API request's latency. route must come from
// the route table (UnmatchedRoute otherwise), so the label set stays
// bounded.
func (e *Exporter) ObserveRequest(method, route string, status int, d time.Duration) {
	e.requests.WithLabelValues(method, route, strconv.Itoa(status)).Observe(d.Seconds())
}

func readInt(f func() int) int {
	if f == nil {
		return 0
	}
	return f()
}

// serverStates collects catalyst_servers from a count cached for
// serverStatesTTL. Concurrent scrapes wait for one query instead of each
// making their own.
type serverStates struct {
	store *store.Store
	log   hclog.Logger
	desc  *prometheus.Desc

	mu     sync.Mutex
	at     time.Time
	counts map[string]int
}

func (c *serverStates) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *serverStates) Collect(ch chan<- prometheus.Metric) {
	counts := c.current()
	if counts == nil {
		return // never counted: no figure beats a wrong zero
	}
	for _, st := range states {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[st]), st)
	}
	for st, n := range counts {
		if !slices.Contains(states, st) {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), st)
		}
	}
}

// current returns the cached counts, refreshed when older than the TTL;
// on a database error it keeps the last counts.
func (c *serverStates) current() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts != nil && time.Since(c.at) < serverStatesTTL {
		return c.counts
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.store.CountServersByState(ctx)
	if err != nil {
		c.log.Warn("count servers by state for /metrics; reporting the last count", "error", err)
		return c.counts
	}
	c.counts, c.at = counts, time.Now()
	return counts
}
