// Package tunneltest is a stand-in core for tests of the agent's side of
// the tunnel: it accepts agent connections the way the core does (node
// credential checked, Hello in, Welcome out) and hands each one to the
// test, which then sends requests to the agent API and reads events. The
// requests the agent sends the core go to Core.Remote.
// (The core's own tests use the core's gatewaytest agent the other way
// round.)
package tunneltest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/yamux"

	"catalyst.dev/sdk/wire"
)

// timeout bounds every wait of a test on the agent.
const timeout = 30 * time.Second

// Core serves wire.PathConnect on a local HTTP server.
type Core struct {
	// URL is the core's base URL, for the agent's core_url.
	URL string
	// Before, when set, sees each authenticated connect request first; it
	// may answer it itself and return false to refuse the connection.
	Before func(w http.ResponseWriter, r *http.Request) bool
	// Remote, when set, serves the requests the agent sends the core on
	// the streams it opens after Welcome; without it they go unanswered.
	Remote http.Handler

	t                  testing.TB
	nodeID, credential string
	heartbeat          time.Duration
	conns              chan *Conn
}

// Start runs a Core that lets in the agent of nodeID presenting
// credential, and asks it for a heartbeat every heartbeat. It stops when
// the test ends.
func Start(t testing.TB, nodeID, credential string, heartbeat time.Duration) *Core {
	c := &Core{t: t, nodeID: nodeID, credential: credential, heartbeat: heartbeat, conns: make(chan *Conn, 1)}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

func (c *Core) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != wire.PathConnect {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get(wire.HeaderNode) != c.nodeID || r.Header.Get("Authorization") != "Bearer "+c.credential {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if c.Before != nil && !c.Before(w, r) {
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
	stream, err := sess.AcceptStream()
	if err != nil {
		c.t.Errorf("accept the event stream: %v", err)
		return
	}
	events := wire.NewEventReader(stream)
	env, err := events.Read()
	var hello wire.Hello
	if err != nil || env.Type != wire.EventHello || env.Decode(&hello) != nil {
		c.t.Errorf("first event %+v, %v; want hello", env, err)
		return
	}
	if err := wire.NewEventWriter(stream).Write(wire.EventWelcome, wire.Welcome{
		ProtocolVersion: wire.ProtocolVersion, NodeID: c.nodeID, HeartbeatInterval: wire.Duration(c.heartbeat),
	}); err != nil {
		c.t.Errorf("send welcome: %v", err)
		return
	}
	if c.Remote != nil {
		// The session accepts only the streams the agent opens; serving
		// ends when it closes.
		go func() { _ = http.Serve(sess, c.Remote) }()
	}
	c.conns <- &Conn{Sess: sess, Hello: hello, stream: stream, events: events}
}

// Accept waits for the agent's next connection.
func (c *Core) Accept(t testing.TB) *Conn {
	t.Helper()
	select {
	case conn := <-c.conns:
		return conn
	case <-time.After(timeout):
		t.Fatal("the agent did not connect")
		return nil
	}
}

// Conn is one agent connection, after Welcome.
type Conn struct {
	Sess  *yamux.Session
	Hello wire.Hello

	stream *yamux.Stream
	events *wire.EventReader
}

// Do sends a request to the agent API on a stream of its own, with body
// (when not nil) as JSON, and returns the answer's status and body.
func (cc *Conn) Do(t testing.TB, method, path string, body any) (int, string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) { return cc.Sess.Open() },
	}}
	defer client.CloseIdleConnections()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://agent"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s through the tunnel: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// Next returns the next event that is not a heartbeat, and how many
// heartbeats came before it.
func (cc *Conn) Next(t testing.TB) (wire.Envelope, int) {
	t.Helper()
	cc.stream.SetReadDeadline(time.Now().Add(timeout))
	heartbeats := 0
	for {
		env := cc.read(t)
		if env.Type != wire.EventHeartbeat {
			return env, heartbeats
		}
		heartbeats++
	}
}

// WaitState reads events until server id reports state.
func (cc *Conn) WaitState(t testing.TB, id, state string) {
	t.Helper()
	cc.stream.SetReadDeadline(time.Now().Add(timeout))
	for {
		env := cc.read(t)
		var st wire.ServerState
		if env.Type == wire.EventServerState && env.Decode(&st) == nil && st.ServerID == id && st.State == state {
			return
		}
	}
}

func (cc *Conn) read(t testing.TB) wire.Envelope {
	t.Helper()
	env, err := cc.events.Read()
	if err != nil {
		t.Fatalf("read event: %v", err)
	}
	return env
}
