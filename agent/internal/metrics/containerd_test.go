package metrics

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"catalyst.dev/agent/internal/hostinfo"
	"catalyst.dev/agent/internal/servers"
	"catalyst.dev/agent/testkit/testimage"
	"catalyst.dev/agent/testkit/testruntime"
	"catalyst.dev/sdk/wire"
)

func TestMain(m *testing.M) { os.Exit(testruntime.Main(m)) }

// recorder is a Publisher that keeps every event the collector and the
// manager publish.
type recorder struct {
	mu     sync.Mutex
	stats  []wire.ServerStats
	health []wire.NodeHealth
	msgs   []wire.DaemonMessage
	states []wire.ServerState
}

func (r *recorder) Publish(typ string, data any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch d := data.(type) {
	case wire.ResourceStats:
		if typ != wire.EventResourceStats {
			panic("resource stats published as " + typ)
		}
		r.stats = append(r.stats, d.Servers...)
	case wire.NodeHealth:
		if typ != wire.EventHealthReport {
			panic("node health published as " + typ)
		}
		r.health = append(r.health, d)
	case wire.DaemonMessage:
		r.msgs = append(r.msgs, d)
	case wire.ServerState:
		r.states = append(r.states, d)
	}
}

// has reports whether a recorded event satisfies cond.
func has[T any](r *recorder, list *[]T, cond func(T) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.ContainsFunc(*list, cond)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// managerServers is the adapter catalyst-agent run uses too: a quota stop
// is the manager's normal stop.
type managerServers struct{ *servers.Manager }

func (m managerServers) Stop(ctx context.Context, id string) error {
	return m.Power(ctx, id, wire.PowerStop)
}

// node is a server manager and a running collector on the test containerd.
type node struct {
	t   *testing.T
	m   *servers.Manager
	c   *Collector
	pub *recorder
}

func newNode(t *testing.T, opts Options) *node {
	t.Helper()
	env := testruntime.Get(t)
	dir := t.TempDir()
	pub := &recorder{}
	m, err := servers.New(env.Runtime, dir, pub, testLogger(t).Named("servers"), servers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	health, err := hostinfo.NewHealthSampler("/proc", dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(env.Runtime, managerServers{m}, health, pub, testLogger(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	// Cleanups run last-in first-out: the collector stops before the
	// servers are deleted and the manager closed.
	t.Cleanup(m.Close)
	n := &node{t: t, m: m, c: c, pub: pub}
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return n
}

// start configures and starts a gamesrv server with a diskMB limit.
func (n *node) start(diskMB int64) string {
	n.t.Helper()
	id := uuid.NewString()
	cfg := wire.ServerConfig{
		ID:          id,
		Image:       testimage.Ref,
		Env:         map[string]string{"GAMESRV_TICK": "1h"},
		MemoryMB:    256,
		DiskMB:      diskMB,
		StopCommand: "stop",
		StopTimeout: wire.Duration(10 * time.Second),
		StartupDone: []string{testimage.BannerDone},
	}
	ctx := context.Background()
	if err := n.m.Configure(ctx, cfg); err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() {
		if err := n.m.Delete(context.Background(), id); err != nil {
			n.t.Errorf("delete %s: %v", id, err)
		}
	})
	if err := n.m.Power(ctx, id, wire.PowerStart); err != nil {
		n.t.Fatal(err)
	}
	n.waitState(id, wire.StateRunning)
	return id
}

func (n *node) waitState(id, state string) {
	n.t.Helper()
	waitUntil(n.t, "server state "+state, func() bool {
		return has(n.pub, &n.pub.states, func(s wire.ServerState) bool { return s.ServerID == id && s.State == state })
	})
}

func (n *node) waitMessage(id, level, contains string) wire.DaemonMessage {
	n.t.Helper()
	var got wire.DaemonMessage
	waitUntil(n.t, level+" message "+contains, func() bool {
		return has(n.pub, &n.pub.msgs, func(m wire.DaemonMessage) bool {
			if m.ServerID == id && m.Level == level && strings.Contains(m.Message, contains) {
				got = m
				return true
			}
			return false
		})
	})
	return got
}

func (n *node) volume(id string) servers.Volume {
	n.t.Helper()
	for _, v := range n.m.Volumes() {
		if v.ID == id {
			return v
		}
	}
	n.t.Fatalf("no volume for server %s", id)
	return servers.Volume{}
}

func fastOptions() Options {
	return Options{
		Interval:       100 * time.Millisecond,
		HealthInterval: 100 * time.Millisecond,
		DiskInterval:   100 * time.Millisecond,
		Quota:          QuotaStop,
		QuotaGrace:     time.Second,
	}
}

func TestRunningServerIsSampled(t *testing.T) {
	n := newNode(t, fastOptions())
	id := n.start(100)
	waitUntil(t, "a sample with memory and pids", func() bool {
		return has(n.pub, &n.pub.stats, func(s wire.ServerStats) bool {
			return s.ServerID == id && s.MemoryBytes > 0 && s.Pids >= 1 && s.MemoryLimitBytes == 256<<20 &&
				s.DiskLimitBytes == 100<<20 && !s.DiskAt.IsZero()
		})
	})
	waitUntil(t, "a health report counting the server", func() bool {
		return has(n.pub, &n.pub.health, func(h wire.NodeHealth) bool {
			return h.Containers >= 1 && h.MemoryTotalBytes > 0 && h.CPUCores >= 1 && h.DiskTotalBytes > 0
		})
	})
	if err := n.m.Command(context.Background(), id, "burn 1s"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a sample with CPU use", func() bool {
		return has(n.pub, &n.pub.stats, func(s wire.ServerStats) bool { return s.ServerID == id && s.CPUPercent > 0 })
	})

	// A restarted server is another process: its CPU counter starts over.
	before := n.volume(id).Process
	if err := n.m.Power(context.Background(), id, wire.PowerRestart); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the restarted process", func() bool {
		v := n.volume(id)
		return v.Running && v.Process != before
	})
}

func TestStoppedServerReportsZerosButDisk(t *testing.T) {
	n := newNode(t, fastOptions())
	id := n.start(0)
	if err := n.m.Power(context.Background(), id, wire.PowerStop); err != nil {
		t.Fatal(err)
	}
	n.waitState(id, wire.StateStopped)
	file(t, n.volume(id).Path, "world.dat", 12345)
	waitUntil(t, "a sample of the stopped server with its disk use", func() bool {
		return has(n.pub, &n.pub.stats, func(s wire.ServerStats) bool {
			return s.ServerID == id && s.MemoryBytes == 0 && s.Pids == 0 && s.CPUPercent == 0 && s.DiskBytes >= 12345
		})
	})
}

func TestServerOverDiskLimit(t *testing.T) {
	tests := []struct {
		name        string
		action      QuotaAction
		wantStopped bool
	}{
		{"stop action warns, then stops", QuotaStop, true},
		{"warn action only warns", QuotaWarn, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := fastOptions()
			opts.Quota = tt.action
			n := newNode(t, opts)
			id := n.start(1)
			vol := n.volume(id)
			waitUntil(t, "the first walk", func() bool { _, _, ok := n.c.Usage(id); return ok })
			if err := n.c.CheckWrite(id, 1<<20); err != nil {
				t.Fatalf("CheckWrite under the limit: %v", err)
			}
			file(t, vol.Path, "big.bin", 2<<20)

			warned := n.waitMessage(id, wire.LevelWarning, "of its 1.0 MiB disk limit")
			t.Logf("warning: %s", warned.Message)
			if err := n.c.CheckWrite(id, 1); err == nil {
				t.Error("CheckWrite over the limit succeeded")
			}
			if tt.wantStopped {
				if !strings.Contains(warned.Message, "stopped in 1s") {
					t.Errorf("warning %q does not say when the server stops", warned.Message)
				}
				n.waitMessage(id, wire.LevelError, "Stopping this server")
				n.waitState(id, wire.StateStopping)
				n.waitState(id, wire.StateStopped)
				return
			}
			// Walks after the grace would have stopped it: wait for one.
			since := time.Now().Add(opts.QuotaGrace)
			waitUntil(t, "a walk after the grace", func() bool {
				_, at, _ := n.c.Usage(id)
				return at.After(since)
			})
			if st, err := n.m.State(context.Background(), id); err != nil || st.State != wire.StateRunning {
				t.Fatalf("state %+v, %v; want running", st, err)
			}
			if has(n.pub, &n.pub.msgs, func(m wire.DaemonMessage) bool { return m.ServerID == id && m.Level == wire.LevelError }) {
				t.Error("a server was told it is stopped with action warn")
			}
			if err := os.Remove(filepath.Join(vol.Path, "big.bin")); err != nil {
				t.Fatal(err)
			}
			n.waitMessage(id, wire.LevelInfo, "back under its disk limit")
		})
	}
}
