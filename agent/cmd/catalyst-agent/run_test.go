package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/hashicorp/yamux"

	"catalyst.dev/agent/internal/runtime"
	"catalyst.dev/agent/testkit/testimage"
	"catalyst.dev/agent/testkit/testruntime"
	"catalyst.dev/sdk/wire"
)

func TestMain(m *testing.M) { os.Exit(testruntime.Main(m)) }

// core accepts agent connections the way the real core does, as far as
// this test needs: Hello in, Welcome out, then the test drives the agent.
type core struct {
	t     *testing.T
	conns chan *coreConn
}

type coreConn struct {
	sess   *yamux.Session
	hello  wire.Hello
	events chan wire.Envelope
}

func (c *core) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer secret" || r.Header.Get(wire.HeaderNode) != "node-1" {
		w.WriteHeader(http.StatusUnauthorized)
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
		c.t.Errorf("event stream: %v", err)
		return
	}
	rd := wire.NewEventReader(st)
	env, err := rd.Read()
	var hello wire.Hello
	if err != nil || env.Decode(&hello) != nil {
		c.t.Errorf("hello: %+v %v", env, err)
		return
	}
	wire.NewEventWriter(st).Write(wire.EventWelcome, wire.Welcome{ProtocolVersion: 1, NodeID: "node-1", HeartbeatInterval: wire.Duration(time.Second)})
	cc := &coreConn{sess: sess, hello: hello, events: make(chan wire.Envelope, 1024)}
	go func() {
		defer close(cc.events)
		for {
			env, err := rd.Read()
			if err != nil {
				return
			}
			cc.events <- env
		}
	}()
	c.conns <- cc
}

func (cc *coreConn) do(t *testing.T, method, path string, body any) (int, string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) { return cc.sess.Open() },
	}}
	defer client.CloseIdleConnections()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, "http://agent"+path, bytes.NewReader(b))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// waitState reads events until server id reports state.
func (cc *coreConn) waitState(t *testing.T, id, state string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case env, ok := <-cc.events:
			if !ok {
				t.Fatalf("event stream ended before %s was %s", id, state)
			}
			var st wire.ServerState
			if env.Type == wire.EventServerState && env.Decode(&st) == nil && st.ServerID == id && st.State == state {
				return
			}
		case <-timeout:
			t.Fatalf("%s never reported %s", id, state)
		}
	}
}

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

// startAgent runs `catalyst-agent run` in the test's process and returns
// a function that stops it and checks it stopped cleanly.
func startAgent(t *testing.T, configPath string) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--config", configPath}, logs) }()
	return func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v\n%s", err, logs)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("run did not return after cancel\n%s", logs)
		}
	}
}

func TestRunServesTheCoreAndLeavesServersRunning(t *testing.T) {
	env := testruntime.Get(t)
	c := &core{t: t, conns: make(chan *coreConn, 1)}
	srv := httptest.NewServer(c)
	defer srv.Close()

	dir := t.TempDir()
	configPath := filepath.Join(dir, "agent.hcl")
	cfg := fmt.Sprintf(`core_url = %q
node_id = "node-1"
credential = "secret"
data_dir = %q
containerd {
  address = %q
}
network {
  mode = "host"
}
log {
  level = "debug"
}
`, srv.URL, filepath.Join(dir, "data"), env.Containerd.Address)
	if err := os.WriteFile(configPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := imageImport(context.Background(), []string{env.Image.Archive, "--config", configPath}, &out); err != nil {
		t.Fatalf("image import: %v", err)
	}
	if strings.TrimSpace(out.String()) != testimage.Ref {
		t.Errorf("image import printed %q, want %q", out.String(), testimage.Ref)
	}

	stop := startAgent(t, configPath)
	conn := accept(t, c)
	if !strings.HasPrefix(conn.hello.Resources.Runtime, "containerd ") || conn.hello.Resources.CPUCores < 1 || len(conn.hello.Servers) != 0 {
		t.Errorf("hello = %+v", conn.hello)
	}
	id := uuid.NewString()
	t.Cleanup(func() { env.Runtime.Delete(context.Background(), id) })
	if status, body := conn.do(t, "PUT", wire.AgentServerPath(id, ""), wire.ServerConfig{
		Image: testimage.Ref, Env: map[string]string{"GAMESRV_TICK": "1h"}, StopCommand: "stop",
		StartupDone: []string{testimage.BannerDone},
	}); status != http.StatusNoContent {
		t.Fatalf("configure: %d %s", status, body)
	}
	if status, body := conn.do(t, "POST", wire.AgentServerPath(id, "/power"), wire.PowerRequest{Action: wire.PowerStart}); status != http.StatusNoContent {
		t.Fatalf("start: %d %s", status, body)
	}
	conn.waitState(t, id, wire.StateRunning)
	stop()

	// The agent is gone; its server is not.
	if st, err := env.Runtime.State(context.Background(), id); err != nil || st != runtime.StateRunning {
		t.Fatalf("server after the agent exited: %v, %v; want running", st, err)
	}

	// The next agent reports it running in its Hello and can stop it.
	stop = startAgent(t, configPath)
	defer stop()
	conn = accept(t, c)
	if len(conn.hello.Servers) != 1 || conn.hello.Servers[0].ServerID != id || conn.hello.Servers[0].State != wire.StateRunning {
		t.Fatalf("hello after restart reports %+v, want %s running", conn.hello.Servers, id)
	}
	if status, body := conn.do(t, "POST", wire.AgentServerPath(id, "/power"), wire.PowerRequest{Action: wire.PowerStop}); status != http.StatusAccepted {
		t.Fatalf("stop: %d %s", status, body)
	}
	conn.waitState(t, id, wire.StateStopped)
}

func accept(t *testing.T, c *core) *coreConn {
	t.Helper()
	select {
	case conn := <-c.conns:
		return conn
	case <-time.After(30 * time.Second):
		t.Fatal("the agent did not connect")
		return nil
	}
}
