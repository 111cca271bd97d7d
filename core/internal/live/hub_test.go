package live_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"catalyst.dev/core/internal/live"
	"catalyst.dev/sdk/wire"
	"github.com/gorilla/websocket"
	"github.com/hashicorp/go-hclog"
)

// allowAll is a socket user with every permission; its actions do nothing.
type allowAll struct{}

func (allowAll) Command(context.Context, string) error          { return nil }
func (allowAll) Power(context.Context, string) error            { return nil }
func (allowAll) Logs(context.Context, int) ([]string, error)    { return nil, nil }
func (allowAll) Stats(context.Context) (wire.ServerStats, bool) { return wire.ServerStats{}, false }
func (allowAll) Reauth(context.Context, string) (live.Access, time.Time, error) {
	return live.Access{Read: true, Console: true}, time.Time{}, nil
}
func (allowAll) Recheck(context.Context) (live.Access, error) {
	return live.Access{Read: true, Console: true}, nil
}
func (allowAll) Describe(err error) (string, string) { return "error", err.Error() }

const (
	serverID = "11111111-1111-1111-1111-111111111111"
	nodeID   = "node-1"
)

// serve runs hub sockets for serverID on a test HTTP server.
func serve(t *testing.T, hub *live.Hub) string {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		hub.Serve(r.Context(), ws, live.Session{ServerID: serverID, NodeID: nodeID, UserID: "u", State: "running",
			Access: live.Access{Read: true, Console: true}}, allowAll{})
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(hub.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	// A small read buffer, so that a client that stops reading soon stops
	// the core's writes to it.
	return dialWith(t, url, websocket.Dialer{ReadBufferSize: 1024})
}

// dialStalled is dial with a small kernel receive buffer too, which would
// otherwise grow to tcp_rmem's maximum (32 MiB on some machines) while the
// client does not read.
func dialStalled(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	return dialWith(t, url, websocket.Dialer{ReadBufferSize: 1024, NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err != nil {
			return nil, err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			// Above loopback's 64 KiB segments, or a window reopened
			// after the client stalled waits for the sender's probes.
			_ = tc.SetReadBuffer(256 << 10)
		}
		return c, nil
	}})
}

func dialWith(t *testing.T, url string, d websocket.Dialer) *websocket.Conn {
	t.Helper()
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func console(hub *live.Hub, from, n int) {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = "line " + strconv.Itoa(from+i) + " " + strings.Repeat("p", 200)
	}
	raw, _ := json.Marshal(wire.ConsoleOutput{ServerID: serverID, Lines: lines})
	hub.OnEvent(context.Background(), nodeID, wire.Envelope{Type: wire.EventConsoleOutput, Data: raw})
}

type msg struct {
	Type    string   `json:"type"`
	Lines   []string `json:"lines"`
	Source  string   `json:"source"`
	Dropped int      `json:"dropped"`
}

func read(t *testing.T, ws *websocket.Conn) msg {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m msg
	if err := ws.ReadJSON(&m); err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

func lineNo(t *testing.T, l string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.Fields(l)[1])
	if err != nil {
		t.Fatalf("line %q", l)
	}
	return n
}

// A browser that stops reading loses its oldest messages, and is told so;
// the publisher never waits for it and a reading browser gets everything
// in order.
func TestSlowSocketDoesNotHoldUpOthers(t *testing.T) {
	hub := live.New(hclog.NewNullLogger(), live.Options{QueueSize: 64})
	url := serve(t, hub)
	slow, fast := dialStalled(t, url), dial(t, url)
	for _, ws := range []*websocket.Conn{slow, fast} {
		if m := read(t, ws); m.Type != live.TypeStatus {
			t.Fatalf("first message %+v", m)
		}
	}
	for hub.Clients() != 2 {
		time.Sleep(time.Millisecond)
	}

	// 40,000 lines of ~210 bytes: far more than the slow socket's buffers
	// hold (the core's kernel send buffer alone grows to 4 MiB). Each batch is published once the fast socket has read the one
	// before, so the fast socket never falls behind; the slow one never
	// reads, and publishing must go on regardless.
	const batches, per = 4000, 10
	next := 0
	for b := range batches {
		console(hub, b*per, per)
		for next < (b+1)*per {
			m := read(t, fast)
			if m.Type != live.TypeConsoleOutput {
				t.Fatalf("fast socket got %+v", m)
			}
			for _, l := range m.Lines {
				if got := lineNo(t, l); got != next {
					t.Fatalf("fast socket: line %d, want %d", got, next)
				}
				next++
			}
		}
	}

	// The slow socket now reads: lines in order with a gap, and a notice
	// saying how many messages it lost.
	var dropped, last, seen = 0, -1, 0
	for seen < 64 {
		m := read(t, slow)
		switch m.Type {
		case live.TypeThrottled:
			if m.Source != "socket" || m.Dropped <= 0 {
				t.Fatalf("throttled %+v", m)
			}
			dropped += m.Dropped
		case live.TypeConsoleOutput:
			for _, l := range m.Lines {
				n := lineNo(t, l)
				if n <= last {
					t.Fatalf("slow socket: line %d after %d", n, last)
				}
				last = n
			}
			if last == batches*per-1 {
				seen = 64
			}
		}
	}
	if dropped == 0 {
		t.Fatal("the slow socket was not told it lost messages")
	}
}

// Events from a node other than the server's are not forwarded.
func TestEventsFromAnotherNodeAreDropped(t *testing.T) {
	hub := live.New(hclog.NewNullLogger(), live.Options{})
	ws := dial(t, serve(t, hub))
	read(t, ws) // status
	for hub.Clients() != 1 {
		time.Sleep(time.Millisecond)
	}
	raw, _ := json.Marshal(wire.ConsoleOutput{ServerID: serverID, Lines: []string{"forged"}})
	hub.OnEvent(context.Background(), "node-2", wire.Envelope{Type: wire.EventConsoleOutput, Data: raw})
	console(hub, 0, 1)
	if m := read(t, ws); len(m.Lines) != 1 || lineNo(t, m.Lines[0]) != 0 {
		t.Fatalf("got %+v, want the real node's line", m)
	}
	// Every line an agent reports is counted (for /metrics), watched or not.
	if hub.ConsoleLines() != 2 {
		t.Fatalf("console lines counted %d, want 2", hub.ConsoleLines())
	}
}
