package tunnel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/yamux"

	"catalyst.dev/agent/internal/tunnel"
	"catalyst.dev/sdk/wire"
)

const refusalMessage = "agent speaks tunnel protocol 1 but this core needs 2 to 2: upgrade catalyst-agent on the node"

// core is the core's end of the tunnel, as the test needs it: it checks
// the agent's headers, refuses the first refuse connections with 426,
// and hands every accepted connection to the test.
type core struct {
	t      *testing.T
	mu     sync.Mutex
	refuse int
	conns  chan *coreConn
}

type coreConn struct {
	sess   *yamux.Session
	hello  wire.Hello
	events *wire.EventReader
}

func (c *core) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != wire.PathConnect {
		http.NotFound(w, r)
		return
	}
	want := map[string]string{
		wire.HeaderNode:     "node-1",
		"Authorization":     "Bearer secret",
		wire.HeaderProtocol: "1",
		wire.HeaderAgent:    "test-version",
	}
	for h, v := range want {
		if got := r.Header.Get(h); got != v {
			c.t.Errorf("header %s = %q, want %q", h, got, v)
		}
	}
	c.mu.Lock()
	refuse := c.refuse > 0
	c.refuse--
	c.mu.Unlock()
	if refuse {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUpgradeRequired)
		json.NewEncoder(w).Encode(wire.ErrorBody{Error: wire.ErrorDetail{Code: "protocol_mismatch", Message: refusalMessage}})
		return
	}
	ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		c.t.Errorf("upgrade: %v", err)
		return
	}
	sess, err := yamux.Server(wire.NetConn(ws), wire.SessionConfig())
	if err != nil {
		c.t.Errorf("yamux: %v", err)
		return
	}
	st, err := sess.AcceptStream()
	if err != nil {
		c.t.Errorf("accept event stream: %v", err)
		return
	}
	events := wire.NewEventReader(st)
	env, err := events.Read()
	if err != nil || env.Type != wire.EventHello {
		c.t.Errorf("first event %+v, %v; want hello", env, err)
		return
	}
	var hello wire.Hello
	if err := env.Decode(&hello); err != nil {
		c.t.Error(err)
		return
	}
	if err := wire.NewEventWriter(st).Write(wire.EventWelcome, wire.Welcome{
		ProtocolVersion: wire.ProtocolVersion, NodeID: "node-1", HeartbeatInterval: wire.Duration(50 * time.Millisecond),
	}); err != nil {
		c.t.Error(err)
		return
	}
	c.conns <- &coreConn{sess: sess, hello: hello, events: events}
}

// get sends a request to the agent API through a stream the core opens.
func (cc *coreConn) get(t *testing.T, path string) string {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) { return cc.sess.Open() },
	}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://agent" + path)
	if err != nil {
		t.Fatalf("GET %s through the tunnel: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// next returns the next event that is not a heartbeat.
func (cc *coreConn) next(t *testing.T) (wire.Envelope, int) {
	t.Helper()
	heartbeats := 0
	for {
		env, err := cc.events.Read()
		if err != nil {
			t.Fatalf("read event: %v", err)
		}
		if env.Type != wire.EventHeartbeat {
			return env, heartbeats
		}
		heartbeats++
	}
}

// syncBuffer is a log destination the test can read while the client writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestTunnel(t *testing.T) {
	c := &core{t: t, refuse: 1, conns: make(chan *coreConn, 1)}
	srv := httptest.NewServer(c)
	defer srv.Close()

	logs := &syncBuffer{}
	q := tunnel.NewQueue(16)
	api := http.NewServeMux()
	api.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "pong") })
	var hellos atomic.Int32
	client, err := tunnel.New(tunnel.Config{
		CoreURL:      srv.URL,
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

	conn := accept(t, c)
	if !strings.Contains(logs.String(), refusalMessage) || !strings.Contains(logs.String(), "426") {
		t.Errorf("the 426 refusal was not logged with its message:\n%s", logs)
	}
	if conn.hello.ProtocolVersion != wire.ProtocolVersion || conn.hello.AgentVersion != "test-version" ||
		len(conn.hello.Servers) != 1 || conn.hello.Servers[0].ServerID != "s1" {
		t.Errorf("hello = %+v", conn.hello)
	}

	if got := conn.get(t, "/ping"); got != "pong" {
		t.Errorf("GET /ping through the tunnel = %q", got)
	}

	// Events arrive in order, with heartbeats between them.
	q.Publish(wire.EventConsoleOutput, wire.ConsoleOutput{ServerID: "s1", Lines: []string{"hello"}})
	q.Publish(wire.EventServerState, wire.ServerState{ServerID: "s1", State: wire.StateStopping})
	env, _ := conn.next(t)
	var out wire.ConsoleOutput
	if env.Type != wire.EventConsoleOutput || env.Decode(&out) != nil || out.Lines[0] != "hello" {
		t.Fatalf("first event %s %s", env.Type, env.Data)
	}
	env, _ = conn.next(t)
	var st wire.ServerState
	if env.Type != wire.EventServerState || env.Decode(&st) != nil || st.ServerID != "s1" {
		t.Fatalf("second event %s %s", env.Type, env.Data)
	}
	// Heartbeats keep coming at the core's interval.
	time.Sleep(200 * time.Millisecond)
	q.Publish(wire.EventServerState, wire.ServerState{ServerID: "s1", State: wire.StateStopped})
	if _, beats := conn.next(t); beats < 2 {
		t.Errorf("%d heartbeats in 200ms at a 50ms interval", beats)
	}

	// The core drops the connection: the agent comes back with a new Hello.
	conn.sess.Close()
	conn = accept(t, c)
	if n := hellos.Load(); n != 2 {
		t.Errorf("%d hellos after a reconnect, want 2", n)
	}
	if got := conn.get(t, "/ping"); got != "pong" {
		t.Errorf("GET /ping after reconnecting = %q", got)
	}
}

func accept(t *testing.T, c *core) *coreConn {
	t.Helper()
	select {
	case conn := <-c.conns:
		return conn
	case <-time.After(10 * time.Second):
		t.Fatal("the agent did not connect")
		return nil
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
