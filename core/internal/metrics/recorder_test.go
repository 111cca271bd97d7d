package metrics_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"catalyst.dev/core/internal/metrics"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
)

// world is two nodes with a server each, and a recorder that knows them.
type world struct {
	s            *store.Store
	rec          *metrics.Recorder
	nodeA, nodeB *store.Node
	a1, a2, b1   *store.Server
	owner        *store.User
	tmpl         *store.Template
}

func newWorld(t *testing.T, s *store.Store, opts metrics.Options) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{s: s, rec: metrics.NewRecorder(s, hclog.NewNullLogger(), opts)}
	w.owner = &store.User{Email: "o@example.com", Username: "o", PasswordHash: "x"}
	w.tmpl = &store.Template{Name: "t", Images: []store.TemplateImage{{Label: "img", Image: "img"}}, Startup: "run"}
	w.nodeA = &store.Node{Name: "a", FQDN: "a.example.com"}
	w.nodeB = &store.Node{Name: "b", FQDN: "b.example.com"}
	for _, err := range []error{s.CreateUser(ctx, w.owner), s.CreateTemplate(ctx, w.tmpl), s.CreateNode(ctx, w.nodeA), s.CreateNode(ctx, w.nodeB)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	w.a1 = w.newServer(t, "a1", w.nodeA)
	w.a2 = w.newServer(t, "a2", w.nodeA)
	w.b1 = w.newServer(t, "b1", w.nodeB)
	if err := w.rec.RefreshServers(ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) newServer(t *testing.T, name string, n *store.Node) *store.Server {
	t.Helper()
	srv := &store.Server{Name: name, OwnerID: w.owner.ID, NodeID: n.ID, TemplateID: w.tmpl.ID, State: store.StateRunning, Image: "img", Startup: "run"}
	if err := w.s.CreateServer(context.Background(), srv, nil); err != nil {
		t.Fatal(err)
	}
	return srv
}

func envelope(t *testing.T, typ string, data any) wire.Envelope {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return wire.Envelope{Type: typ, At: time.Now(), Data: raw}
}

// stats sends one resource_stats event from node.
func (w *world) stats(t *testing.T, node *store.Node, ss ...wire.ServerStats) {
	t.Helper()
	now := time.Now()
	for i := range ss {
		if ss[i].At.IsZero() {
			ss[i].At = now
		}
	}
	w.rec.OnEvent(context.Background(), node.ID, envelope(t, wire.EventResourceStats, wire.ResourceStats{Servers: ss}))
}

func (w *world) health(t *testing.T, node *store.Node, h wire.NodeHealth) {
	t.Helper()
	if h.At.IsZero() {
		h.At = time.Now()
	}
	w.rec.OnEvent(context.Background(), node.ID, envelope(t, wire.EventHealthReport, h))
}

func TestRecorderAcceptsSamplesOnlyFromTheServersNode(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t), metrics.Options{})
	// Node A reports its own server and one of node B's.
	w.stats(t, w.nodeA, wire.ServerStats{ServerID: w.a1.ID, CPUPercent: 12, MemoryBytes: 100},
		wire.ServerStats{ServerID: w.b1.ID, CPUPercent: 99}, wire.ServerStats{ServerID: "unknown", CPUPercent: 1})
	if got, ok := w.rec.LatestServer(w.a1.ID); !ok || got.CPUPercent != 12 || got.MemoryBytes != 100 {
		t.Fatalf("own server's sample = %+v, %v", got, ok)
	}
	if got, ok := w.rec.LatestServer(w.b1.ID); ok {
		t.Fatalf("node A's sample of node B's server was kept: %+v", got)
	}
	if _, ok := w.rec.LatestServer("unknown"); ok {
		t.Fatal("a sample of an unknown server was kept")
	}
	// Node B's own report of it is taken.
	w.stats(t, w.nodeB, wire.ServerStats{ServerID: w.b1.ID, CPUPercent: 5})
	if got, ok := w.rec.LatestServer(w.b1.ID); !ok || got.CPUPercent != 5 {
		t.Fatalf("node B's sample = %+v, %v", got, ok)
	}
}

func TestRecorderDropsMalformedEvents(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t), metrics.Options{})
	w.stats(t, w.nodeA, wire.ServerStats{ServerID: w.a1.ID, CPUPercent: 12})
	w.health(t, w.nodeA, wire.NodeHealth{CPUPercent: 40, CPUCores: 4})
	for _, e := range []wire.Envelope{
		{Type: wire.EventResourceStats, Data: json.RawMessage(`{"servers": "all of them"}`)},
		{Type: wire.EventResourceStats, Data: json.RawMessage(`[`)},
		{Type: wire.EventHealthReport, Data: json.RawMessage(`{"cpu_percent": "hot"}`)},
		{Type: wire.EventHealthReport, Data: nil},
	} {
		w.rec.OnEvent(context.Background(), w.nodeA.ID, e)
	}
	if got, ok := w.rec.LatestServer(w.a1.ID); !ok || got.CPUPercent != 12 {
		t.Fatalf("a malformed event changed the server's sample: %+v, %v", got, ok)
	}
	if got, ok := w.rec.LatestNode(w.nodeA.ID); !ok || got.CPUPercent != 40 {
		t.Fatalf("a malformed event changed the node's health: %+v, %v", got, ok)
	}
}

func TestRecorderClampsImpossibleValues(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t), metrics.Options{})
	now := time.Now()
	cases := []struct {
		name  string
		in    wire.ServerStats
		check func(wire.ServerStats) bool
	}{
		{"negative CPU is zero", wire.ServerStats{CPUPercent: -5}, func(s wire.ServerStats) bool { return s.CPUPercent == 0 }},
		{"absurd CPU is clamped", wire.ServerStats{CPUPercent: 1e12}, func(s wire.ServerStats) bool { return s.CPUPercent == 100*1024 }},
		{"counters beyond BIGINT are clamped", wire.ServerStats{MemoryBytes: math.MaxUint64, NetRxBytes: math.MaxUint64},
			func(s wire.ServerStats) bool { return s.MemoryBytes == math.MaxInt64 && s.NetRxBytes == math.MaxInt64 }},
		{"a time far from the core's clock is replaced", wire.ServerStats{At: now.Add(-24 * time.Hour)},
			func(s wire.ServerStats) bool { return s.At.Sub(now).Abs() < time.Hour }},
		{"a sane sample is kept as sent", wire.ServerStats{CPUPercent: 150.5, MemoryBytes: 1 << 30, Pids: 12},
			func(s wire.ServerStats) bool { return s.CPUPercent == 150.5 && s.MemoryBytes == 1<<30 && s.Pids == 12 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.ServerID = w.a1.ID
			w.stats(t, w.nodeA, in)
			got, ok := w.rec.LatestServer(w.a1.ID)
			if !ok || !tc.check(got) {
				t.Fatalf("sample %+v became %+v (%v)", tc.in, got, ok)
			}
		})
	}

	nodeCases := []struct {
		name  string
		in    wire.NodeHealth
		check func(wire.NodeHealth) bool
	}{
		{"CPU is at most 100 per core", wire.NodeHealth{CPUCores: 4, CPUPercent: 900}, func(h wire.NodeHealth) bool { return h.CPUPercent == 400 }},
		{"negative load and containers are zero", wire.NodeHealth{Load1: -1, Load5: -2, Load15: -3, Containers: -4},
			func(h wire.NodeHealth) bool {
				return h.Load1 == 0 && h.Load5 == 0 && h.Load15 == 0 && h.Containers == 0
			}},
		{"a sane report is kept as sent", wire.NodeHealth{CPUCores: 8, CPUPercent: 250, Load1: 2.5, Containers: 3, MemoryUsedBytes: 1 << 33},
			func(h wire.NodeHealth) bool {
				return h.CPUPercent == 250 && h.Load1 == 2.5 && h.Containers == 3 && h.MemoryUsedBytes == 1<<33
			}},
	}
	for _, tc := range nodeCases {
		t.Run(tc.name, func(t *testing.T) {
			w.health(t, w.nodeA, tc.in)
			got, ok := w.rec.LatestNode(w.nodeA.ID)
			if !ok || !tc.check(got) {
				t.Fatalf("health %+v became %+v (%v)", tc.in, got, ok)
			}
		})
	}
}

// Each resource_stats event lists every server of its node: one
// that is no longer listed has stopped, and its last sample is not live.
func TestServerLeftOutOfTheNextSampleIsNotLive(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t), metrics.Options{})
	w.stats(t, w.nodeA, wire.ServerStats{ServerID: w.a1.ID}, wire.ServerStats{ServerID: w.a2.ID})
	w.stats(t, w.nodeA, wire.ServerStats{ServerID: w.a1.ID})
	if _, ok := w.rec.LatestServer(w.a1.ID); !ok {
		t.Fatal("a1 is still running but has no sample")
	}
	if got, ok := w.rec.LatestServer(w.a2.ID); ok {
		t.Fatalf("a2 stopped but its sample still looks live: %+v", got)
	}
}

func TestDisconnectClearsTheNodesLatestSamplesButKeepsThemForHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s, metrics.Options{})
		w.stats(t, w.nodeA, wire.ServerStats{ServerID: w.a1.ID, CPUPercent: 10})
		w.stats(t, w.nodeB, wire.ServerStats{ServerID: w.b1.ID, CPUPercent: 20})
		w.health(t, w.nodeA, wire.NodeHealth{CPUPercent: 30})
		w.rec.OnDisconnect(w.nodeA.ID)
		if _, ok := w.rec.LatestServer(w.a1.ID); ok {
			t.Fatal("a server of a disconnected node still has a live sample")
		}
		if _, ok := w.rec.LatestNode(w.nodeA.ID); ok {
			t.Fatal("a disconnected node still has live health")
		}
		if _, ok := w.rec.LatestServer(w.b1.ID); !ok {
			t.Fatal("another node's server lost its sample")
		}
		if err := w.rec.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := countServerRows(t, s, w.a1.ID); n != 1 {
			t.Fatalf("a1 has %d history rows after flush, want the 1 received before the disconnect", n)
		}
		if n := countNodeRows(t, s, w.nodeA.ID); n != 1 {
			t.Fatalf("node A has %d history rows, want 1", n)
		}
	})
}

func TestFlushWritesOneRowPerSampledServerAndNode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s, metrics.Options{})
		for i, cpu := range []float64{10, 20, 60} {
			w.stats(t, w.nodeA, wire.ServerStats{ServerID: w.a1.ID, CPUPercent: cpu, MemoryBytes: uint64(100 * (i + 1)), NetRxBytes: uint64(i)})
			w.health(t, w.nodeA, wire.NodeHealth{CPUPercent: cpu, Containers: i})
		}
		if err := w.rec.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		from, to := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		pts, err := s.ServerMetrics(ctx, w.a1.ID, from, to, 2*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		// One row: CPU averaged over the three samples, the rest the latest.
		if len(pts) != 1 || pts[0].Samples != 1 || pts[0].CPUPercent != 30 || pts[0].MemoryBytes != 300 || pts[0].NetRxBytes != 2 {
			t.Fatalf("server history = %+v, want one row with CPU 30, memory 300, rx 2", pts)
		}
		npts, err := s.NodeMetrics(ctx, w.nodeA.ID, from, to, 2*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(npts) != 1 || npts[0].Samples != 1 || npts[0].CPUPercent != 30 || npts[0].Containers != 2 {
			t.Fatalf("node history = %+v, want one row with CPU 30 and 2 containers", npts)
		}
		// Nothing new arrived: the next flush writes nothing, and servers
		// that never sent a sample have no rows.
		if err := w.rec.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := countServerRows(t, s, w.a1.ID); n != 1 {
			t.Fatalf("a1 has %d rows after an idle flush, want 1", n)
		}
		if n := countServerRows(t, s, w.a2.ID); n != 0 {
			t.Fatalf("a2 never sent a sample but has %d rows", n)
		}
		if _, ok := w.rec.LatestServer(w.a1.ID); !ok {
			t.Fatal("flushing dropped the live sample")
		}
	})
}

func TestPruneDeletesRowsOlderThanRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s, metrics.Options{Retention: 48 * time.Hour})
		now := time.Now().Unix()
		if err := s.InsertServerMetrics(ctx, []store.ServerMetric{
			{ServerID: w.a1.ID, At: now - 72*3600}, {ServerID: w.a1.ID, At: now - 3600},
		}); err != nil {
			t.Fatal(err)
		}
		n, err := w.rec.Prune(ctx)
		if err != nil || n != 1 {
			t.Fatalf("Prune = %d, %v; want the one row older than 48h", n, err)
		}
		if n := countServerRows(t, s, w.a1.ID); n != 1 {
			t.Fatalf("%d rows left, want the recent one", n)
		}
	})
}

func TestRunPrunesAtStartAndFlushesOnStop(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	// Intervals longer than the test: only start and stop act.
	w := newWorld(t, s, metrics.Options{FlushInterval: time.Hour, PruneInterval: time.Hour, Retention: 24 * time.Hour})
	if err := s.InsertServerMetrics(ctx, []store.ServerMetric{{ServerID: w.a2.ID, At: time.Now().Add(-48 * time.Hour).Unix()}}); err != nil {
		t.Fatal(err)
	}
	w.stats(t, w.nodeA, wire.ServerStats{ServerID: w.a1.ID, CPUPercent: 7})

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.rec.Run(runCtx) }()
	// Run prunes before it waits for anything.
	for deadline := time.Now().Add(10 * time.Second); countServerRows(t, s, w.a2.ID) != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			stop()
			t.Fatal("the row older than retention survived Run's start")
		}
	}
	stop()
	<-done
	if n := countServerRows(t, s, w.a1.ID); n != 1 {
		t.Fatalf("Run did not flush on its way out: a1 has %d rows", n)
	}
}

// A server created after the recorder loaded its map is accepted once
// Run reloads it, which a sample of an unknown server asks for.
func TestUnknownServerIsAcceptedAfterTheReloadItTriggers(t *testing.T) {
	s := storetest.SQLite(t)
	w := newWorld(t, s, metrics.Options{MissRefreshGap: time.Nanosecond})
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.rec.Run(runCtx) }()
	defer func() { stop(); <-done }()

	fresh := w.newServer(t, "fresh", w.nodeA)
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.stats(t, w.nodeA, wire.ServerStats{ServerID: fresh.ID, CPUPercent: 3})
		if _, ok := w.rec.LatestServer(fresh.ID); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a new server's samples were never accepted")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countServerRows(t *testing.T, s *store.Store, id string) int {
	t.Helper()
	n, err := s.DB().NewSelect().Model((*store.ServerMetric)(nil)).Where("server_id = ?", id).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func countNodeRows(t *testing.T, s *store.Store, id string) int {
	t.Helper()
	n, err := s.DB().NewSelect().Model((*store.NodeMetric)(nil)).Where("node_id = ?", id).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}
