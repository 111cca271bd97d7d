package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/gateway/gatewaytest"
	"catalyst.dev/core/internal/nodes"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
)

// recorder is a Handler that keeps what it is told, in order.
type recorder struct {
	mu     sync.Mutex
	log    []string
	events []wire.Envelope
	notify chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1000)} }

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.log = append(r.log, s)
	r.mu.Unlock()
	r.notify <- struct{}{}
}

func (r *recorder) OnHello(_ context.Context, nodeID string, h wire.Hello) {
	r.add("hello " + h.AgentVersion)
}

func (r *recorder) OnEvent(_ context.Context, nodeID string, e wire.Envelope) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.add("event " + e.Type)
}

func (r *recorder) OnDisconnect(nodeID string) { r.add("disconnect") }

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

// waitFor waits until the log holds want as its last entries.
func (r *recorder) waitFor(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		got := r.snapshot()
		if len(got) >= len(want) && strings.Join(got[len(got)-len(want):], "|") == strings.Join(want, "|") {
			return
		}
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("handler saw %q, want it to end with %q", got, want)
		}
	}
}

type world struct {
	gw         *gateway.Gateway
	rec        *recorder
	srv        *httptest.Server
	store      *store.Store
	node       *store.Node
	credential string
}

func newWorld(t *testing.T, opts gateway.Options) *world {
	t.Helper()
	return newWorldRemote(t, opts, nil)
}

// newWorldRemote is newWorld with remote serving the agents' requests.
func newWorldRemote(t *testing.T, opts gateway.Options, remote http.Handler) *world {
	t.Helper()
	s := storetest.SQLite(t)
	ns := nodes.NewService(s)
	ctx := context.Background()
	n, token, err := ns.Create(ctx, nodes.NewNode{Name: "n1", FQDN: "n1.example.com", MemoryMB: 1024, DiskMB: 1024})
	if err != nil {
		t.Fatal(err)
	}
	_, cred, err := ns.Enrol(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	gw := gateway.New(s, ns, hclog.NewNullLogger(), opts)
	rec := newRecorder()
	gw.SetHandler(rec)
	if remote != nil {
		gw.SetRemote(remote)
	}
	// The API maps Connect's errors to statuses; this is the same mapping
	// in miniature, enough to see which error came back.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := gw.Connect(w, r)
		var pe *gateway.ProtocolError
		switch {
		case err == nil:
		case errors.Is(err, gateway.ErrUnauthenticated):
			http.Error(w, err.Error(), http.StatusUnauthorized)
		case errors.As(err, &pe):
			http.Error(w, err.Error(), http.StatusUpgradeRequired)
		default:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	t.Cleanup(func() {
		gw.Close()
		srv.Close()
	})
	return &world{gw: gw, rec: rec, srv: srv, store: s, node: n, credential: cred}
}

func (w *world) dial(t *testing.T, fake http.Handler, version string) *gatewaytest.Agent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := gatewaytest.Dial(ctx, gatewaytest.Config{URL: w.srv.URL, NodeID: w.node.ID, Credential: w.credential,
		Handler: fake, Hello: wire.Hello{AgentVersion: version, Capabilities: []string{wire.CapImageImport}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func TestConnectRefusals(t *testing.T) {
	w := newWorld(t, gateway.Options{})
	cases := []struct {
		name       string
		node, cred string
		protocol   int
		status     int
		body       string
	}{
		{"no credential", "node", "", 0, 401, "Authorization"},
		{"wrong credential", "node", "catn_wrong", 0, 401, "Authorization"},
		{"unknown node", "00000000-0000-0000-0000-000000000000", "cred", 0, 401, "Authorization"},
		{"old protocol", "node", "cred", -1, 426, "upgrade catalyst-agent"},
		{"newer protocol", "node", "cred", wire.ProtocolVersion + 1, 426, "upgrade the core"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			node, cred := tc.node, tc.cred
			if node == "node" {
				node = w.node.ID
			}
			if cred == "cred" {
				cred = w.credential
			}
			protocol := tc.protocol
			if protocol == 0 && tc.status != 426 {
				protocol = wire.ProtocolVersion
			}
			_, err := gatewaytest.Dial(context.Background(), gatewaytest.Config{URL: w.srv.URL, NodeID: node, Credential: cred, Protocol: protocol})
			var re *gatewaytest.RefusedError
			if !errors.As(err, &re) || re.Status != tc.status || !strings.Contains(re.Body, tc.body) {
				t.Fatalf("dial = %v, want %d mentioning %q", err, tc.status, tc.body)
			}
		})
	}
	if w.gw.Online(w.node.ID) {
		t.Fatal("a refused agent is online")
	}
}

func TestHelloWelcomeAndRecordsTheAgent(t *testing.T) {
	w := newWorld(t, gateway.Options{HeartbeatInterval: 7 * time.Second})
	a := w.dial(t, nil, "1.2.3")
	if a.Welcome.NodeID != w.node.ID || time.Duration(a.Welcome.HeartbeatInterval) != 7*time.Second || a.Welcome.ProtocolVersion != wire.ProtocolVersion {
		t.Fatalf("welcome = %+v", a.Welcome)
	}
	w.rec.waitFor(t, "hello 1.2.3")
	info, ok := w.gw.Info(w.node.ID)
	if !ok || info.AgentVersion != "1.2.3" || len(info.Capabilities) != 1 {
		t.Fatalf("info = %+v, %v", info, ok)
	}
	n, err := w.store.NodeByID(context.Background(), w.node.ID)
	if err != nil || n.AgentVersion != "1.2.3" || n.LastSeenAt == nil {
		t.Fatalf("node after hello = %+v, %v", n, err)
	}
}

func TestBadHelloIsRefusedWithTheReason(t *testing.T) {
	w := newWorld(t, gateway.Options{HelloTimeout: time.Second})
	// A hello with a protocol the core does not speak is refused on the
	// stream, with the reason (wire.AcceptHello's tests cover the rest).
	_, err := gatewaytest.Dial(context.Background(), gatewaytest.Config{URL: w.srv.URL, NodeID: w.node.ID, Credential: w.credential,
		Hello: wire.Hello{ProtocolVersion: wire.ProtocolVersion + 5}})
	if err == nil || !strings.Contains(err.Error(), "upgrade the core") {
		t.Fatalf("dial with a bad hello = %v", err)
	}
	if w.gw.Online(w.node.ID) {
		t.Fatal("refused agent is online")
	}
}

func TestCoreCallsTheAgentOverAStream(t *testing.T) {
	w := newWorld(t, gateway.Options{})
	fake := gatewaytest.NewFake()
	fake.Put("s1", wire.StateRunning)
	w.dial(t, fake, "v")
	w.rec.waitFor(t, "hello v")
	c, err := w.gw.Agent(w.node.ID)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Command(ctx, "s1", "say hi"); err != nil {
		t.Fatal(err)
	}
	// The fake's console history is the commands it was sent.
	if lines, err := c.Logs(ctx, "s1", 10); err != nil || len(lines) != 1 || lines[0] != "say hi" {
		t.Fatalf("Logs = %q, %v", lines, err)
	}
	// The agent's errors come back typed.
	err = c.Power(ctx, "nope", wire.PowerStart)
	var ae *gateway.AgentError
	if !errors.As(err, &ae) || ae.Code != wire.CodeNotFound || ae.Status != 404 {
		t.Fatalf("power on an unknown server = %v", err)
	}
	fake.Put("s2", wire.StateStopped)
	if err := c.Command(ctx, "s2", "x"); !errors.As(err, &ae) || ae.Code != wire.CodeNotRunning {
		t.Fatalf("command to a stopped server = %v", err)
	}
	res, err := c.ImportImage(ctx, strings.NewReader(strings.Repeat("x", 5<<20)))
	if err != nil || len(res.Images) != 1 || fake.Imported != 5<<20 {
		t.Fatalf("import = %+v, %v (agent read %d bytes)", res, err, fake.Imported)
	}
	if _, err := w.gw.Agent("other-node"); !errors.Is(err, gateway.ErrNodeOffline) {
		t.Fatalf("agent of an unknown node: %v", err)
	}
}

func TestEventsArriveInOrder(t *testing.T) {
	w := newWorld(t, gateway.Options{})
	a := w.dial(t, nil, "v")
	w.rec.waitFor(t, "hello v")
	const n = 200
	for i := range n {
		if err := a.Send(wire.EventConsoleOutput, wire.ConsoleOutput{ServerID: "s", Lines: []string{strings.Repeat("x", i)}}); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			if err := a.Send(wire.EventHeartbeat, wire.Heartbeat{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	deadline := time.After(10 * time.Second)
	for {
		w.rec.mu.Lock()
		got := len(w.rec.events)
		w.rec.mu.Unlock()
		if got == n {
			break
		}
		select {
		case <-w.rec.notify:
		case <-deadline:
			t.Fatalf("handler got %d events, want %d", got, n)
		}
	}
	w.rec.mu.Lock()
	defer w.rec.mu.Unlock()
	for i, e := range w.rec.events {
		var co wire.ConsoleOutput
		if err := e.Decode(&co); err != nil || len(co.Lines[0]) != i {
			t.Fatalf("event %d out of order: %+v %v", i, co, err)
		}
	}
}

func TestSecondTunnelReplacesTheFirst(t *testing.T) {
	w := newWorld(t, gateway.Options{})
	first := w.dial(t, nil, "one")
	w.rec.waitFor(t, "hello one")
	w.dial(t, nil, "two")
	select {
	case <-first.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the first tunnel was not closed")
	}
	w.rec.waitFor(t, "hello one", "hello two")
	if info, _ := w.gw.Info(w.node.ID); info.AgentVersion != "two" {
		t.Fatalf("current agent = %q, want two", info.AgentVersion)
	}
	// The replaced tunnel's end does not take the node offline.
	if !w.gw.Online(w.node.ID) {
		t.Fatal("node offline after its tunnel was replaced")
	}
	if got := w.rec.snapshot(); strings.Contains(strings.Join(got, "|"), "disconnect") {
		t.Fatalf("replacement reported a disconnect: %q", got)
	}
}

func TestEventsRecordTheLastContact(t *testing.T) {
	w := newWorld(t, gateway.Options{TouchEvery: time.Millisecond})
	a := w.dial(t, nil, "v")
	w.rec.waitFor(t, "hello v")
	lastSeen := func() time.Time {
		n, err := w.store.NodeByID(context.Background(), w.node.ID)
		if err != nil || n.LastSeenAt == nil {
			t.Fatalf("node = %+v, %v", n, err)
		}
		return *n.LastSeenAt
	}
	atHello := lastSeen()
	time.Sleep(20 * time.Millisecond)
	if err := a.Send(wire.EventHeartbeat, wire.Heartbeat{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !lastSeen().After(atHello) {
		if time.Now().After(deadline) {
			t.Fatal("a heartbeat did not move last_seen_at")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSilentAgentGoesOffline(t *testing.T) {
	w := newWorld(t, gateway.Options{HeartbeatInterval: 100 * time.Millisecond, OfflineAfter: 400 * time.Millisecond})
	a := w.dial(t, nil, "v")
	w.rec.waitFor(t, "hello v")
	// Heartbeats keep it online well past OfflineAfter.
	for range 8 {
		time.Sleep(100 * time.Millisecond)
		if err := a.Send(wire.EventHeartbeat, wire.Heartbeat{}); err != nil {
			t.Fatal(err)
		}
	}
	if !w.gw.Online(w.node.ID) {
		t.Fatal("a heartbeating agent went offline")
	}
	// Then silence.
	w.rec.waitFor(t, "disconnect")
	if w.gw.Online(w.node.ID) {
		t.Fatal("silent agent still online")
	}
	select {
	case <-a.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the silent agent's tunnel is still open")
	}
}

func TestMisbehavingAgentIsDisconnected(t *testing.T) {
	cases := map[string][]byte{
		"oversized event": []byte(`{"type":"console_output","data":"` + strings.Repeat("x", wire.MaxEventBytes) + "\"}\n"),
		"not json":        []byte("hello there\n"),
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, gateway.Options{})
			a := w.dial(t, nil, "v")
			w.rec.waitFor(t, "hello v")
			_ = a.SendRaw(raw)
			w.rec.waitFor(t, "disconnect")
			select {
			case <-a.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("tunnel still open")
			}
		})
	}
}

func TestCloseEndsEveryTunnel(t *testing.T) {
	w := newWorld(t, gateway.Options{})
	a := w.dial(t, nil, "v")
	w.rec.waitFor(t, "hello v")
	w.gw.Close()
	select {
	case <-a.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("tunnel open after Close")
	}
	if _, err := gatewaytest.Dial(context.Background(), gatewaytest.Config{URL: w.srv.URL, NodeID: w.node.ID, Credential: w.credential}); err == nil {
		t.Fatal("closed gateway accepted a tunnel")
	}
}
