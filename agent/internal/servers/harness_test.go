package servers_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"

	"catalyst.dev/agent/internal/runtime"
	"catalyst.dev/agent/internal/servers"
	"catalyst.dev/agent/testkit/testimage"
	"catalyst.dev/agent/testkit/testruntime"
	"catalyst.dev/sdk/wire"
)

func TestMain(m *testing.M) { os.Exit(testruntime.Main(m)) }

// recorder is a Publisher that keeps every event.
type recorder struct {
	mu     sync.Mutex
	states map[string][]wire.ServerState
	lines  map[string][]string // console lines
	inst   map[string][]string // install progress lines
	msgs   map[string][]wire.DaemonMessage
	// events is every state, daemon message and throttle notice in order.
	events map[string][]any
}

func newRecorder() *recorder {
	return &recorder{states: map[string][]wire.ServerState{}, lines: map[string][]string{}, inst: map[string][]string{},
		msgs: map[string][]wire.DaemonMessage{}, events: map[string][]any{}}
}

func (r *recorder) Publish(typ string, data any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch d := data.(type) {
	case wire.ServerState:
		r.states[d.ServerID] = append(r.states[d.ServerID], d)
		r.events[d.ServerID] = append(r.events[d.ServerID], d)
	case wire.DaemonMessage:
		r.msgs[d.ServerID] = append(r.msgs[d.ServerID], d)
		r.events[d.ServerID] = append(r.events[d.ServerID], d)
	case wire.ConsoleThrottled:
		r.events[d.ServerID] = append(r.events[d.ServerID], d)
	case wire.ConsoleOutput:
		r.lines[d.ServerID] = append(r.lines[d.ServerID], d.Lines...)
	case wire.InstallProgress:
		r.inst[d.ServerID] = append(r.inst[d.ServerID], d.Line)
	}
}

const waitLimit = 30 * time.Second

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitLimit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// harness is one Manager on the shared containerd, with its own data
// directory, and a cursor per server into the state events seen so far.
type harness struct {
	t      *testing.T
	env    *testruntime.Env
	dir    string
	pub    *recorder
	m      *servers.Manager
	cursor map[string]int
}

func newHarness(t *testing.T, rt runtime.Runtime, dir string) *harness {
	t.Helper()
	return newHarnessWith(t, rt, dir, servers.Options{})
}

// newHarnessWith is newHarness with the Manager's options.
func newHarnessWith(t *testing.T, rt runtime.Runtime, dir string, opts servers.Options) *harness {
	t.Helper()
	env := testruntime.Get(t)
	if rt == nil {
		rt = env.Runtime
	}
	if dir == "" {
		dir = t.TempDir()
	}
	h := &harness{t: t, env: env, dir: dir, pub: newRecorder(), cursor: map[string]int{}}
	log := hclog.New(&hclog.LoggerOptions{Name: "servers", Level: hclog.Debug, Output: testWriter{t}})
	m, err := servers.New(rt, dir, h.pub, log, opts)
	if err != nil {
		t.Fatal(err)
	}
	h.m = m
	t.Cleanup(m.Close)
	return h
}

// config is a server of the test image that is done starting once it
// printed its banner and stops on "stop". Its restart policy is never, so
// that tests of other things see crashes stay crashed.
func (h *harness) config(env map[string]string) wire.ServerConfig {
	e := map[string]string{"GAMESRV_TICK": "1h"}
	for k, v := range env {
		e[k] = v
	}
	return wire.ServerConfig{
		ID:          uuid.NewString(),
		Image:       testimage.Ref,
		Env:         e,
		MemoryMB:    256,
		StopCommand: "stop",
		StopTimeout: wire.Duration(10 * time.Second),
		StartupDone: []string{testimage.BannerDone},
		Restart:     wire.RestartPolicy{Mode: wire.RestartNever},
	}
}

// waitMessage waits for a daemon message of server id containing s and
// returns it.
func (h *harness) waitMessage(id, s string) wire.DaemonMessage {
	h.t.Helper()
	var msg wire.DaemonMessage
	waitUntil(h.t, "daemon message "+s, func() bool {
		h.pub.mu.Lock()
		defer h.pub.mu.Unlock()
		i := slices.IndexFunc(h.pub.msgs[id], func(m wire.DaemonMessage) bool { return strings.Contains(m.Message, s) })
		if i >= 0 {
			msg = h.pub.msgs[id][i]
		}
		return i >= 0
	})
	return msg
}

// configured records cfg and deletes the server when the test ends.
func (h *harness) configured(cfg wire.ServerConfig) wire.ServerConfig {
	h.t.Helper()
	if err := h.m.Configure(context.Background(), cfg); err != nil {
		h.t.Fatalf("Configure: %v", err)
	}
	h.cleanup(cfg.ID)
	h.expectStates(cfg.ID, wire.StateStopped)
	return cfg
}

func (h *harness) cleanup(id string) {
	h.t.Cleanup(func() {
		if err := h.m.Delete(context.Background(), id); err != nil {
			h.t.Errorf("Delete %s: %v", id, err)
		}
	})
}

// expectStates waits for the next state events of server id and checks
// they are want, in order; it returns the last.
func (h *harness) expectStates(id string, want ...string) wire.ServerState {
	h.t.Helper()
	from := h.cursor[id]
	var got []wire.ServerState
	waitUntil(h.t, "states "+strings.Join(want, ", "), func() bool {
		h.pub.mu.Lock()
		defer h.pub.mu.Unlock()
		got = slices.Clone(h.pub.states[id][from:])
		return len(got) >= len(want)
	})
	var names []string
	for _, st := range got[:len(want)] {
		names = append(names, st.State)
	}
	if !slices.Equal(names, want) {
		h.t.Fatalf("states %v, want %v (all: %+v)", names, want, got)
	}
	h.cursor[id] = from + len(want)
	return got[len(want)-1]
}

// waitLine waits for a console line containing s.
func (h *harness) waitLine(id, s string) {
	h.t.Helper()
	waitUntil(h.t, "console line "+s, func() bool {
		h.pub.mu.Lock()
		defer h.pub.mu.Unlock()
		return slices.ContainsFunc(h.pub.lines[id], func(l string) bool { return strings.Contains(l, s) })
	})
}

func (h *harness) power(id, action string) {
	h.t.Helper()
	if err := h.m.Power(context.Background(), id, action); err != nil {
		h.t.Fatalf("%s: %v", action, err)
	}
}

func (h *harness) command(id, line string) {
	h.t.Helper()
	if err := h.m.Command(context.Background(), id, line); err != nil {
		h.t.Fatalf("command %q: %v", line, err)
	}
}

// started configures and starts a server and waits until it runs.
func (h *harness) started(cfg wire.ServerConfig) wire.ServerConfig {
	h.t.Helper()
	cfg = h.configured(cfg)
	h.power(cfg.ID, wire.PowerStart)
	h.expectStates(cfg.ID, wire.StateStarting, wire.StateRunning)
	return cfg
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
