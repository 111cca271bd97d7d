package tunnel_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/agent/internal/tunnel"
	"catalyst.dev/agent/internal/tunnel/tunneltest"
	"catalyst.dev/agent/testkit/lockedbuf"
	"catalyst.dev/sdk/wire"
)

const refusalMessage = "agent speaks tunnel protocol 1 but this core needs 2 to 2: upgrade catalyst-agent on the node"

func TestTunnel(t *testing.T) {
	core := tunneltest.Start(t, "node-1", "secret", 50*time.Millisecond)
	var refused atomic.Bool
	core.Before = func(w http.ResponseWriter, r *http.Request) bool {
		for h, v := range map[string]string{wire.HeaderProtocol: strconv.Itoa(wire.ProtocolVersion), wire.HeaderAgent: "test-version"} {
			if got := r.Header.Get(h); got != v {
				t.Errorf("header %s = %q, want %q", h, got, v)
			}
		}
		if refused.CompareAndSwap(false, true) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUpgradeRequired)
			json.NewEncoder(w).Encode(wire.ErrorBody{Error: wire.ErrorDetail{Code: "protocol_mismatch", Message: refusalMessage}})
			return false
		}
		return true
	}

	logs := &lockedbuf.Buffer{}
	q := tunnel.NewQueue(16)
	api := http.NewServeMux()
	api.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "pong") })
	var hellos atomic.Int32
	client, err := tunnel.New(tunnel.Config{
		CoreURL:      core.URL,
		NodeID:       "node-1",
		Credential:   "secret",
		AgentVersion: "test-version",
		Handler:      api,
		Hello: func(context.Context) (wire.Hello, error) {
			hellos.Add(1)
			return wire.Hello{Capabilities: []string{wire.CapImageImport}, Servers: []wire.ServerState{{ServerID: "s1", State: wire.StateRunning}}}, nil
		},
		Heartbeat:  func() wire.Heartbeat { return wire.Heartbeat{Running: 1} },
		Queue:      q,
		Log:        hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}),
		MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- client.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-runDone:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}()

	// Before any connection, events are dropped: Hello reports states.
	q.Publish(wire.EventServerState, wire.ServerState{ServerID: "lost", State: wire.StateStopped})

	conn := core.Accept(t)
	if !strings.Contains(logs.String(), refusalMessage) || !strings.Contains(logs.String(), "426") {
		t.Errorf("the 426 refusal was not logged with its message:\n%s", logs)
	}
	if conn.Hello.ProtocolVersion != wire.ProtocolVersion || conn.Hello.AgentVersion != "test-version" ||
		len(conn.Hello.Servers) != 1 || conn.Hello.Servers[0].ServerID != "s1" {
		t.Errorf("hello = %+v", conn.Hello)
	}

	if status, got := conn.Do(t, http.MethodGet, "/ping", nil); status != http.StatusOK || got != "pong" {
		t.Errorf("GET /ping through the tunnel = %d %q", status, got)
	}

	// Events arrive in order, with heartbeats between them.
	q.Publish(wire.EventConsoleOutput, wire.ConsoleOutput{ServerID: "s1", Lines: []string{"hello"}})
	q.Publish(wire.EventServerState, wire.ServerState{ServerID: "s1", State: wire.StateStopping})
	env, _ := conn.Next(t)
	var out wire.ConsoleOutput
	if env.Type != wire.EventConsoleOutput || env.Decode(&out) != nil || out.Lines[0] != "hello" {
		t.Fatalf("first event %s %s", env.Type, env.Data)
	}
	env, _ = conn.Next(t)
	var st wire.ServerState
	if env.Type != wire.EventServerState || env.Decode(&st) != nil || st.ServerID != "s1" {
		t.Fatalf("second event %s %s", env.Type, env.Data)
	}
	// Heartbeats keep coming at the core's interval.
	time.Sleep(200 * time.Millisecond)
	q.Publish(wire.EventServerState, wire.ServerState{ServerID: "s1", State: wire.StateStopped})
	if _, beats := conn.Next(t); beats < 2 {
		t.Errorf("%d heartbeats in 200ms at a 50ms interval", beats)
	}

	// The core drops the connection: the agent comes back with a new Hello.
	conn.Sess.Close()
	conn = core.Accept(t)
	if n := hellos.Load(); n != 2 {
		t.Errorf("%d hellos after a reconnect, want 2", n)
	}
	if status, got := conn.Do(t, http.MethodGet, "/ping", nil); status != http.StatusOK || got != "pong" {
		t.Errorf("GET /ping after reconnecting = %d %q", status, got)
	}
}

func TestQueueDropsConsoleOutputFirst(t *testing.T) {
	q := tunnel.NewQueue(3)
	tunnel.OpenQueue(q)
	q.Publish(wire.EventConsoleOutput, wire.ConsoleOutput{Lines: []string{"1"}})
	q.Publish(wire.EventServerState, wire.ServerState{State: "a"})
	q.Publish(wire.EventConsoleOutput, wire.ConsoleOutput{Lines: []string{"2"}})
	q.Publish(wire.EventServerState, wire.ServerState{State: "b"})               // drops console 1
	q.Publish(wire.EventServerState, wire.ServerState{State: "c"})               // drops console 2
	q.Publish(wire.EventConsoleOutput, wire.ConsoleOutput{Lines: []string{"3"}}) // no room: dropped
	got := tunnel.TakeQueue(q)
	want := []string{"state:a", "state:b", "state:c"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("queue holds %v, want %v", got, want)
	}
}
