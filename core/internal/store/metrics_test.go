package store_test

import (
	"context"
	"testing"
	"time"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
)

// base is a Unix time aligned to every step the tests use.
const base = int64(1_800_000_000)

func newMetricsServer(t *testing.T, s *store.Store, f fixture, name string) *store.Server {
	t.Helper()
	srv := &store.Server{Name: name, OwnerID: f.user.ID, NodeID: f.node.ID, TemplateID: f.tmpl.ID,
		State: store.StateRunning, Image: "img", Startup: "run"}
	if err := s.CreateServer(context.Background(), srv, nil); err != nil {
		t.Fatal(err)
	}
	return srv
}

func TestServerMetricsAreDownsampledPerStep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		srv := newMetricsServer(t, s, f, "a")
		other := newMetricsServer(t, s, f, "b")
		err := s.InsertServerMetrics(ctx, []store.ServerMetric{
			{ServerID: srv.ID, At: base, CPUPercent: 10, MemoryBytes: 100, MemoryLimitBytes: 1000, Pids: 3, NetRxBytes: 10, NetTxBytes: 1, DiskBytes: 5},
			{ServerID: srv.ID, At: base + 30, CPUPercent: 30, MemoryBytes: 301, MemoryLimitBytes: 1000, Pids: 5, NetRxBytes: 20, NetTxBytes: 2, DiskBytes: 7},
			{ServerID: srv.ID, At: base + 60, CPUPercent: 50, MemoryBytes: 500, MemoryLimitBytes: 2000, Pids: 4, NetRxBytes: 30, NetTxBytes: 3, DiskBytes: 6},
			{ServerID: other.ID, At: base, CPUPercent: 99, MemoryBytes: 9999},
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.ServerMetrics(ctx, srv.ID, time.Unix(base, 0), time.Unix(base+3600, 0), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.ServerMetricPoint{
			{At: time.Unix(base, 0).UTC(), Samples: 2, CPUPercent: 20, MemoryBytes: 201, MemoryMaxBytes: 301, MemoryLimitBytes: 1000,
				Pids: 5, NetRxBytes: 20, NetTxBytes: 2, DiskBytes: 7},
			{At: time.Unix(base+60, 0).UTC(), Samples: 1, CPUPercent: 50, MemoryBytes: 500, MemoryMaxBytes: 500, MemoryLimitBytes: 2000,
				Pids: 4, NetRxBytes: 30, NetTxBytes: 3, DiskBytes: 6},
		}
		if len(got) != len(want) {
			t.Fatalf("got %d points, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("point %d = %+v, want %+v", i, got[i], want[i])
			}
		}

		// The range is [from, to): from base+30 takes the first step's
		// second sample only; to base+60 leaves the second step out.
		got, err = s.ServerMetrics(ctx, srv.ID, time.Unix(base+30, 0), time.Unix(base+60, 0), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Samples != 1 || got[0].CPUPercent != 30 {
			t.Fatalf("range [base+30, base+60) = %+v, want the one sample at base+30", got)
		}

		// A server without samples has an empty history, not an error.
		none, err := s.ServerMetrics(ctx, "no-such-server", time.Unix(base, 0), time.Unix(base+3600, 0), time.Minute)
		if err != nil || len(none) != 0 {
			t.Fatalf("unknown server: %+v, %v", none, err)
		}
	})
}

func TestMetricsInsertSkipsDuplicatesAndDeletedOwners(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		srv := newMetricsServer(t, s, f, "a")
		if err := s.InsertServerMetrics(ctx, []store.ServerMetric{{ServerID: srv.ID, At: base, CPUPercent: 10}}); err != nil {
			t.Fatal(err)
		}
		// The same (server, at) again, beside a server deleted since its
		// sample was taken: neither is written, and the batch is not lost.
		err := s.InsertServerMetrics(ctx, []store.ServerMetric{
			{ServerID: srv.ID, At: base, CPUPercent: 90},
			{ServerID: "deleted-server", At: base, CPUPercent: 50},
			{ServerID: srv.ID, At: base + 1, CPUPercent: 20},
		})
		if err != nil {
			t.Fatalf("batch with a duplicate and a deleted server: %v", err)
		}
		got, err := s.ServerMetrics(ctx, srv.ID, time.Unix(base, 0), time.Unix(base+2, 0), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].CPUPercent != 10 || got[1].CPUPercent != 20 {
			t.Fatalf("points = %+v, want the first write at base kept and base+1 added", got)
		}

		err = s.InsertNodeMetrics(ctx, []store.NodeMetric{
			{NodeID: f.node.ID, At: base, CPUPercent: 1},
			{NodeID: f.node.ID, At: base, CPUPercent: 2},
			{NodeID: "deleted-node", At: base, CPUPercent: 3},
		})
		if err != nil {
			t.Fatalf("node batch with a duplicate and a deleted node: %v", err)
		}
		nodes, err := s.NodeMetrics(ctx, f.node.ID, time.Unix(base, 0), time.Unix(base+1, 0), time.Second)
		if err != nil || len(nodes) != 1 || nodes[0].Samples != 1 {
			t.Fatalf("node points = %+v, %v; want one sample", nodes, err)
		}
		if err := s.InsertServerMetrics(ctx, nil); err != nil {
			t.Fatalf("empty batch: %v", err)
		}
	})
}

func TestNodeMetricsAreDownsampledPerStep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		err := s.InsertNodeMetrics(ctx, []store.NodeMetric{
			{NodeID: f.node.ID, At: base + 10, CPUPercent: 100, MemoryUsedBytes: 1000, MemoryTotalBytes: 8000, DiskUsedBytes: 50, DiskTotalBytes: 500,
				Load1: 1, Load5: 2, Load15: 3, Containers: 2},
			{NodeID: f.node.ID, At: base + 290, CPUPercent: 200, MemoryUsedBytes: 3000, MemoryTotalBytes: 8000, DiskUsedBytes: 60, DiskTotalBytes: 500,
				Load1: 3, Load5: 4, Load15: 5, Containers: 3},
			{NodeID: f.node.ID, At: base + 300, CPUPercent: 50, MemoryUsedBytes: 500, MemoryTotalBytes: 8000, DiskUsedBytes: 40, DiskTotalBytes: 500,
				Load1: 0.5, Load5: 0.5, Load15: 0.5, Containers: 1},
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.NodeMetrics(ctx, f.node.ID, time.Unix(base, 0), time.Unix(base+600, 0), 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.NodeMetricPoint{
			{At: time.Unix(base, 0).UTC(), Samples: 2, CPUPercent: 150, MemoryUsedBytes: 2000, MemoryUsedMaxBytes: 3000, MemoryTotalBytes: 8000,
				DiskUsedBytes: 60, DiskTotalBytes: 500, Load1: 2, Load5: 3, Load15: 4, Containers: 3},
			{At: time.Unix(base+300, 0).UTC(), Samples: 1, CPUPercent: 50, MemoryUsedBytes: 500, MemoryUsedMaxBytes: 500, MemoryTotalBytes: 8000,
				DiskUsedBytes: 40, DiskTotalBytes: 500, Load1: 0.5, Load5: 0.5, Load15: 0.5, Containers: 1},
		}
		if len(got) != len(want) {
			t.Fatalf("got %d points, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("point %d = %+v, want %+v", i, got[i], want[i])
			}
		}
	})
}

func TestDeleteMetricsBeforeRemovesOnlyOldRowsInChunks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		srv := newMetricsServer(t, s, f, "a")
		// More old rows than one delete chunk, so the loop runs again.
		const old = 12_000
		ms := make([]store.ServerMetric, 0, old+10)
		for i := range int64(old + 10) {
			ms = append(ms, store.ServerMetric{ServerID: srv.ID, At: base - old + i})
		}
		if err := s.InsertServerMetrics(ctx, ms); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertNodeMetrics(ctx, []store.NodeMetric{{NodeID: f.node.ID, At: base - 1}, {NodeID: f.node.ID, At: base}}); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteMetricsBefore(ctx, time.Unix(base, 0))
		if err != nil {
			t.Fatal(err)
		}
		if n != old+1 {
			t.Fatalf("deleted %d rows, want %d (server and node rows before base)", n, old+1)
		}
		left, err := s.ServerMetrics(ctx, srv.ID, time.Unix(0, 0), time.Unix(base+100, 0), time.Hour)
		if err != nil || len(left) != 1 || left[0].Samples != 10 {
			t.Fatalf("left after retention: %+v, %v; want the 10 samples from base on", left, err)
		}
		nodes, err := s.NodeMetrics(ctx, f.node.ID, time.Unix(0, 0), time.Unix(base+100, 0), time.Hour)
		if err != nil || len(nodes) != 1 || nodes[0].Samples != 1 {
			t.Fatalf("node rows left: %+v, %v; want the one at base", nodes, err)
		}
		if n, err := s.DeleteMetricsBefore(ctx, time.Unix(base, 0)); err != nil || n != 0 {
			t.Fatalf("second retention pass deleted %d, %v; want 0", n, err)
		}
	})
}

func TestServerPlacementsAndStateCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		a := newMetricsServer(t, s, f, "a")
		b := newMetricsServer(t, s, f, "b")
		if err := s.SetServerState(ctx, b.ID, store.StateCrashed); err != nil {
			t.Fatal(err)
		}
		places, err := s.ServerPlacements(ctx)
		if err != nil || len(places) != 2 || places[a.ID].NodeID != f.node.ID || places[b.ID].NodeID != f.node.ID ||
			places[a.ID].CPUPercent != a.CPUPercent {
			t.Fatalf("ServerPlacements = %v, %v", places, err)
		}
		counts, err := s.CountServersByState(ctx)
		if err != nil || len(counts) != 2 || counts[store.StateRunning] != 1 || counts[store.StateCrashed] != 1 {
			t.Fatalf("CountServersByState = %v, %v", counts, err)
		}
	})
}
