package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/agent/internal/runtime"
	"catalyst.dev/agent/internal/servers"
	"catalyst.dev/sdk/wire"
)

// The runtime and the manager are the package's boundaries; these stand in
// for them where a test is about the collector's arithmetic and rules.
// The tests in containerd_test.go run the real ones.

type stubStats struct {
	samples map[string]runtime.Stats
	errs    map[string]error
}

func (s stubStats) Stats(_ context.Context, id string) (runtime.Stats, error) {
	if err := s.errs[id]; err != nil {
		return runtime.Stats{}, err
	}
	return s.samples[id], nil
}

type stubServers struct {
	mu      sync.Mutex
	vols    []servers.Volume
	stopped []string
	stopErr error
	msgs    []wire.DaemonMessage
}

func (s *stubServers) Volumes() []servers.Volume {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]servers.Volume(nil), s.vols...)
}

func (s *stubServers) Stop(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopErr != nil {
		return s.stopErr
	}
	s.stopped = append(s.stopped, id)
	return nil
}

func (s *stubServers) Message(id, level, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, wire.DaemonMessage{ServerID: id, Level: level, Message: text})
}

func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "metrics", Level: hclog.Debug, Output: testWriter{t}})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newTestCollector(t *testing.T, stats StatsSource, srv Servers, opts Options) *Collector {
	t.Helper()
	c, err := New(stats, srv, nil, nil, testLogger(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSampleCPUComesFromTheSameProcessOnly(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	type step struct {
		running bool
		stats   runtime.Stats
		err     error
		wantCPU float64
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"half a core over two seconds", []step{
			{true, runtime.Stats{At: at(0), CPU: 10 * time.Second}, nil, 0},
			{true, runtime.Stats{At: at(2), CPU: 11 * time.Second}, nil, 50},
			{true, runtime.Stats{At: at(4), CPU: 15 * time.Second}, nil, 200},
		}},
		{"a stop in between restarts the count", []step{
			{true, runtime.Stats{At: at(0), CPU: 1 * time.Second}, nil, 0},
			{false, runtime.Stats{}, nil, 0},
			{true, runtime.Stats{At: at(4), CPU: 3 * time.Second}, nil, 0},
			{true, runtime.Stats{At: at(6), CPU: 4 * time.Second}, nil, 50},
		}},
		{"a process that just exited restarts the count", []step{
			{true, runtime.Stats{At: at(0), CPU: 1 * time.Second}, nil, 0},
			{true, runtime.Stats{}, fmt.Errorf("stats: %w", runtime.ErrNotRunning), 0},
			{true, runtime.Stats{At: at(4), CPU: 3 * time.Second}, nil, 0},
		}},
		{"a counter that went backwards says 0", []step{
			{true, runtime.Stats{At: at(0), CPU: 9 * time.Second}, nil, 0},
			{true, runtime.Stats{At: at(2), CPU: 1 * time.Second}, nil, 0},
		}},
	}
	const id = "0f0e8c4e-2d9c-4f4e-9d3a-000000000001"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &stubServers{}
			src := stubStats{samples: map[string]runtime.Stats{}, errs: map[string]error{}}
			c := newTestCollector(t, src, srv, DefaultOptions)
			prev := map[string]prevSample{}
			for i, st := range tt.steps {
				srv.vols = []servers.Volume{{ID: id, Running: st.running, DiskLimitBytes: 1 << 30}}
				src.samples[id], src.errs[id] = st.stats, st.err
				got := c.sample(context.Background(), prev)
				if len(got.Servers) != 1 {
					t.Fatalf("step %d: %d servers sampled, want 1", i, len(got.Servers))
				}
				s := got.Servers[0]
				if math.Abs(s.CPUPercent-st.wantCPU) > 1e-9 {
					t.Errorf("step %d: CPU %v%%, want %v%%", i, s.CPUPercent, st.wantCPU)
				}
				if s.ServerID != id || s.DiskLimitBytes != 1<<30 || s.At.IsZero() {
					t.Errorf("step %d: sample %+v", i, s)
				}
			}
		})
	}
}

func TestSampleCopiesRuntimeFiguresAndZerosStoppedServers(t *testing.T) {
	srv := &stubServers{vols: []servers.Volume{{ID: "a", Running: true}, {ID: "b"}}}
	src := stubStats{samples: map[string]runtime.Stats{
		"a": {At: time.Now(), MemoryBytes: 100, MemoryLimitBytes: 200, Pids: 3, NetRxBytes: 4, NetTxBytes: 5},
		"b": {MemoryBytes: 999},
	}}
	c := newTestCollector(t, src, srv, DefaultOptions)
	got := c.sample(context.Background(), map[string]prevSample{})
	if len(got.Servers) != 2 {
		t.Fatalf("sampled %+v", got)
	}
	a, b := got.Servers[0], got.Servers[1]
	if a.MemoryBytes != 100 || a.MemoryLimitBytes != 200 || a.Pids != 3 || a.NetRxBytes != 4 || a.NetTxBytes != 5 {
		t.Errorf("running server: %+v", a)
	}
	if b.MemoryBytes != 0 || b.Pids != 0 || b.CPUPercent != 0 {
		t.Errorf("stopped server: %+v", b)
	}
}

func TestCheckWrite(t *testing.T) {
	const limit = 1 << 30
	tests := []struct {
		name     string
		limit    uint64
		walked   uint64 // bytes the last walk found
		writes   []uint64
		wantErr  int    // index of the first refused write; -1 for none
		wantText string // in the refusal
	}{
		{"no limit takes anything", 0, 5 << 30, []uint64{10 << 30}, -1, ""},
		{"under the limit", limit, 100 << 20, []uint64{100 << 20}, -1, ""},
		{"up to the limit exactly", limit, limit - 10, []uint64{10, 0}, -1, ""},
		{"one byte past the limit", limit, limit - 10, []uint64{11}, 0, "uses 1.0 GiB of its 1.0 GiB disk limit, so 11 B more"},
		{"approved writes add up until the next walk", limit, 0, []uint64{600 << 20, 600 << 20}, 1, "uses 600.0 MiB of its 1.0 GiB disk limit"},
		{"already over refuses even nothing", limit, limit + 1, []uint64{0}, 0, "1.0 GiB of its 1.0 GiB"},
		{"a huge write does not wrap around", limit, 10, []uint64{math.MaxUint64}, 0, "16.0 EiB more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestCollector(t, stubStats{}, &stubServers{}, DefaultOptions)
			c.limits["s"] = tt.limit
			*c.entry("s") = diskUsage{bytes: tt.walked, walked: true, at: time.Now()}
			for i, n := range tt.writes {
				err := c.CheckWrite("s", n)
				if i != tt.wantErr {
					if err != nil {
						t.Fatalf("write %d of %d bytes: %v", i, n, err)
					}
					continue
				}
				if !errors.Is(err, ErrOverQuota) || !strings.Contains(err.Error(), tt.wantText) || !strings.Contains(err.Error(), "server s") {
					t.Fatalf("write %d: err = %v, want ErrOverQuota mentioning %q", i, err, tt.wantText)
				}
				return
			}
			if tt.wantErr >= 0 {
				t.Fatalf("write %d was not refused", tt.wantErr)
			}
		})
	}
}

func TestWalkReplacesApprovedBytesWithTheMeasuredOnes(t *testing.T) {
	dir := t.TempDir()
	vol := servers.Volume{ID: "s", Path: dir, DiskLimitBytes: 1000}
	srv := &stubServers{vols: []servers.Volume{vol}}
	c := newTestCollector(t, stubStats{}, srv, DefaultOptions)
	c.setLimits(srv.vols)
	if err := c.CheckWrite("s", 800); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckWrite("s", 300); !errors.Is(err, ErrOverQuota) {
		t.Fatalf("second write: err = %v, want ErrOverQuota", err)
	}
	// The 800 bytes were never written after all: the walk finds 100.
	file(t, dir, "f", 100)
	newDiskLoop(c).walk(context.Background(), vol)
	if used, at, ok := c.Usage("s"); !ok || used != 100 || at.IsZero() {
		t.Fatalf("Usage = %d, %v, %t; want 100 bytes", used, at, ok)
	}
	if err := c.CheckWrite("s", 300); err != nil {
		t.Fatalf("write after the walk: %v", err)
	}
}

// The quota rules, walk by walk: l.enforce is what every walk ends with.
func TestQuotaEnforcement(t *testing.T) {
	const limit = 1 << 30
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	type walk struct {
		after   time.Duration // since t0
		used    uint64
		running bool
		// wantLevels are the daemon messages this walk sends; wantStop
		// whether it stops the server.
		wantLevels []string
		wantStop   bool
	}
	tests := []struct {
		name   string
		action QuotaAction
		walks  []walk
	}{
		{"stop: warned, then stopped when still over after the grace", QuotaStop, []walk{
			{0, limit + 1, true, []string{wire.LevelWarning}, false},
			{time.Minute, limit + 1, true, nil, false},
			{5 * time.Minute, limit + 1, true, []string{wire.LevelError}, true},
		}},
		{"stop: back under the limit clears the warning", QuotaStop, []walk{
			{0, limit + 1, true, []string{wire.LevelWarning}, false},
			{time.Minute, limit - 1, true, []string{wire.LevelInfo}, false},
			{5 * time.Minute, limit - 1, true, nil, false},
			{6 * time.Minute, limit + 1, true, []string{wire.LevelWarning}, false},
		}},
		{"stop: a stopped server over its limit is only reported", QuotaStop, []walk{
			{0, limit + 1, false, nil, false},
			{10 * time.Minute, limit + 1, false, nil, false},
		}},
		{"stop: started again over the limit gets a fresh grace", QuotaStop, []walk{
			{0, limit + 1, true, []string{wire.LevelWarning}, false},
			{time.Minute, limit + 1, false, nil, false},
			{5 * time.Minute, limit + 1, true, []string{wire.LevelWarning}, false},
			{9 * time.Minute, limit + 1, true, nil, false},
			{10 * time.Minute, limit + 1, true, []string{wire.LevelError}, true},
		}},
		{"warn: warned once, never stopped", QuotaWarn, []walk{
			{0, limit + 1, true, []string{wire.LevelWarning}, false},
			{5 * time.Minute, limit + 1, true, nil, false},
			{time.Hour, limit + 1, true, nil, false},
			{time.Hour + time.Minute, 10, true, []string{wire.LevelInfo}, false},
		}},
		{"none: nothing said or done", QuotaNone, []walk{
			{0, limit + 1, true, nil, false},
			{time.Hour, limit + 1, true, nil, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultOptions
			opts.Quota = tt.action
			srv := &stubServers{}
			l := newDiskLoop(newTestCollector(t, stubStats{}, srv, opts))
			for i, w := range tt.walks {
				srv.vols = []servers.Volume{{ID: "s", DiskLimitBytes: limit, Running: w.running}}
				msgs, stops := len(srv.msgs), len(srv.stopped)
				l.enforce(context.Background(), "s", w.used, t0.Add(w.after))
				var levels []string
				for _, m := range srv.msgs[msgs:] {
					levels = append(levels, m.Level)
				}
				if strings.Join(levels, ",") != strings.Join(w.wantLevels, ",") {
					t.Errorf("walk %d: messages %+v, want levels %v", i, srv.msgs[msgs:], w.wantLevels)
				}
				if stopped := len(srv.stopped) > stops; stopped != w.wantStop {
					t.Errorf("walk %d: stopped = %t, want %t", i, stopped, w.wantStop)
				}
			}
		})
	}
}

func TestQuotaWarningSaysWhatAndWhen(t *testing.T) {
	srv := &stubServers{vols: []servers.Volume{{ID: "s", DiskLimitBytes: 1 << 30, Running: true}}}
	l := newDiskLoop(newTestCollector(t, stubStats{}, srv, DefaultOptions))
	l.due["s"] = time.Now().Add(time.Hour)
	now := time.Now()
	l.enforce(context.Background(), "s", 1288490189, now) // 1.2 GiB
	want := "This server is using 1.2 GiB of its 1.0 GiB disk limit; it will be stopped in 5m unless files are deleted."
	if len(srv.msgs) != 1 || srv.msgs[0].Message != want || srv.msgs[0].ServerID != "s" {
		t.Fatalf("messages %+v, want %q", srv.msgs, want)
	}
	// The volume is walked again when the grace ends, not an hour later.
	if got := l.due["s"]; !got.Equal(now.Add(5 * time.Minute)) {
		t.Errorf("next walk due %v, want at the end of the grace %v", got, now.Add(5*time.Minute))
	}
}

func TestQuotaStopThatFailsIsRetried(t *testing.T) {
	srv := &stubServers{vols: []servers.Volume{{ID: "s", DiskLimitBytes: 10, Running: true}}, stopErr: errors.New("busy")}
	opts := DefaultOptions
	opts.QuotaGrace = 0
	l := newDiskLoop(newTestCollector(t, stubStats{}, srv, opts))
	now := time.Now()
	l.enforce(context.Background(), "s", 11, now) // warned
	l.enforce(context.Background(), "s", 11, now) // stop fails
	if len(srv.stopped) != 0 || !l.due["s"].Equal(now.Add(stopRetry)) {
		t.Fatalf("stopped %v, next walk %v; want a retry at %v", srv.stopped, l.due["s"], now.Add(stopRetry))
	}
	srv.stopErr = nil
	l.enforce(context.Background(), "s", 11, now.Add(stopRetry))
	if len(srv.stopped) != 1 {
		t.Fatalf("stopped %v after the retry", srv.stopped)
	}
}

func TestDiskLoopWalksNewServersFirstAndForgetsDeletedOnes(t *testing.T) {
	root := t.TempDir()
	file(t, filepath.Join(root, "a"), "f", 10)
	file(t, filepath.Join(root, "b"), "f", 20)
	srv := &stubServers{vols: []servers.Volume{{ID: "a", Path: filepath.Join(root, "a")}}}
	c := newTestCollector(t, stubStats{}, srv, DefaultOptions)
	l := newDiskLoop(c)
	if wait := l.step(context.Background()); wait != 0 {
		t.Fatalf("first step waits %v, want a walk at once", wait)
	}
	if used, _, ok := c.Usage("a"); !ok || used != 10 {
		t.Fatalf("a: %d, %t", used, ok)
	}
	// a is not due for a minute; b, new, is walked at once.
	srv.vols = append(srv.vols, servers.Volume{ID: "b", Path: filepath.Join(root, "b")})
	l.step(context.Background())
	if used, _, ok := c.Usage("b"); !ok || used != 20 {
		t.Fatalf("b: %d, %t", used, ok)
	}
	if wait := l.step(context.Background()); wait <= 0 || wait > diskPoll {
		t.Fatalf("nothing due, yet the loop waits %v", wait)
	}
	srv.vols = srv.vols[1:]
	l.step(context.Background())
	if _, _, ok := c.Usage("a"); ok {
		t.Fatal("a deleted server's usage is still reported")
	}
}

func TestFormatting(t *testing.T) {
	bytes := map[uint64]string{0: "0 B", 1<<30 - 10: "1.0 GiB", 1<<20 - 1<<10: "1023.0 KiB", math.MaxUint64: "16.0 EiB", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 1288490189: "1.2 GiB", 5 << 40: "5.0 TiB"}
	for n, want := range bytes {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
	durations := map[time.Duration]string{5 * time.Minute: "5m", 90 * time.Minute: "1h30m", time.Hour: "1h", 45 * time.Second: "45s", 10 * time.Second: "10s", 0: "0s", 1500 * time.Millisecond: "1.5s"}
	for d, want := range durations {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestOptionsAreValidated(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"zero interval", func(o *Options) { o.Interval = 0 }, "stats interval"},
		{"zero health interval", func(o *Options) { o.HealthInterval = 0 }, "health interval"},
		{"zero disk interval", func(o *Options) { o.DiskInterval = 0 }, "disk interval"},
		{"negative grace", func(o *Options) { o.QuotaGrace = -time.Second }, "grace"},
		{"unknown action", func(o *Options) { o.Quota = "delete" }, `action "delete"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultOptions
			tt.edit(&opts)
			_, err := New(stubStats{}, &stubServers{}, nil, nil, testLogger(t), opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
