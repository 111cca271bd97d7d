package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/live"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
	"github.com/gorilla/websocket"
)

// socket is a test client of a server's live feed.
type socket struct {
	t  *testing.T
	ws *websocket.Conn
}

type socketMsg struct {
	Type      string   `json:"type"`
	Lines     []string `json:"lines"`
	State     string   `json:"state"`
	Reason    string   `json:"reason"`
	ExitCode  *int     `json:"exit_code"`
	OOMKilled bool     `json:"oom_killed"`
	CrashLoop bool     `json:"crash_loop"`
	Level     string   `json:"level"`
	Message   string   `json:"message"`
	Source    string   `json:"source"`
	Dropped   int      `json:"dropped"`
	Request   string   `json:"request"`
	Code      string   `json:"code"`
	Seconds   int      `json:"seconds"`
	CPU       float64  `json:"cpu_percent"`
}

// openSocket gets a ticket as role and opens the server's socket with it.
func (f *fixture) openSocket(t *testing.T, srv *httptest.Server, r role) *socket {
	t.Helper()
	got := f.do(r, "POST", "/api/servers/"+f.server.ID+"/ws/ticket", nil)
	if got.Status != http.StatusCreated {
		t.Fatalf("ticket as %s: %d %s", r, got.Status, got.Body)
	}
	var tk socketTicket
	if err := json.Unmarshal(got.Data, &tk); err != nil {
		t.Fatal(err)
	}
	ws, resp, err := websocket.DefaultDialer.Dial(wsURL(srv, f.server.ID, tk.Ticket), nil)
	if err != nil {
		t.Fatalf("dial as %s: %v (%v)", r, err, resp)
	}
	t.Cleanup(func() { ws.Close() })
	return &socket{t: t, ws: ws}
}

func wsURL(srv *httptest.Server, serverID, ticket string) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/servers/" + serverID + "/ws?ticket=" + ticket
}

// next reads the next message, failing after 10s.
func (s *socket) next() socketMsg {
	s.t.Helper()
	_ = s.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := s.ws.ReadMessage()
	if err != nil {
		s.t.Fatalf("read: %v", err)
	}
	var m socketMsg
	if err := json.Unmarshal(b, &m); err != nil {
		s.t.Fatalf("message %s: %v", b, err)
	}
	return m
}

// until reads until a message of type typ, which it returns.
func (s *socket) until(typ string) socketMsg {
	s.t.Helper()
	for {
		if m := s.next(); m.Type == typ {
			return m
		}
	}
}

func (s *socket) send(v any) {
	s.t.Helper()
	if err := s.ws.WriteJSON(v); err != nil {
		s.t.Fatal(err)
	}
}

// closed waits for the socket to be closed by the core and returns the code.
func (s *socket) closed() int {
	s.t.Helper()
	for {
		_ = s.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, err := s.ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			s.t.Fatalf("socket ended without a close frame: %v", err)
		}
		return ce.Code
	}
}

func TestSocketCarriesTheServersLiveFeed(t *testing.T) {
	f := newFixture(t, "", nil)
	fake := f.connectAgent()
	srv := httptest.NewServer(f.api)
	t.Cleanup(srv.Close)

	s := f.openSocket(t, srv, roleOwner)
	if m := s.next(); m.Type != live.TypeStatus || m.State != store.StateStopped {
		t.Fatalf("first message %+v, want status stopped", m)
	}
	// Console output arrives in order, batches intact.
	for i := range 50 {
		if err := fake.Emit(wire.EventConsoleOutput, wire.ConsoleOutput{ServerID: f.server.ID, Lines: []string{lineN(2 * i), lineN(2*i + 1)}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 100; {
		m := s.until(live.TypeConsoleOutput)
		for _, l := range m.Lines {
			if l != lineN(i) {
				t.Fatalf("line %d is %q", i, l)
			}
			i++
		}
	}
	// (Events an agent sends for another node's server are dropped: see
	// TestEventsFromAnotherNodeAreDropped in package live.)
	_ = fake.Emit(wire.EventConsoleThrottled, wire.ConsoleThrottled{ServerID: f.server.ID, Dropped: 7})
	if m := s.until(live.TypeThrottled); m.Source != "node" || m.Dropped != 7 {
		t.Fatalf("throttled %+v", m)
	}
	_ = fake.Emit(wire.EventDaemonMessage, wire.DaemonMessage{ServerID: f.server.ID, Level: wire.LevelWarning, Message: "restarting in 5s"})
	if m := s.until(live.TypeDaemonMessage); m.Level != wire.LevelWarning || m.Message != "restarting in 5s" {
		t.Fatalf("daemon message %+v", m)
	}
	_ = fake.Emit(wire.EventResourceStats, wire.ResourceStats{Servers: []wire.ServerStats{{ServerID: f.server.ID, CPUPercent: 12.5}}})
	if m := s.until(live.TypeStats); m.CPU != 12.5 {
		t.Fatalf("stats %+v", m)
	}

	// A power action on the socket goes through the state machine; the
	// status changes come back on the socket.
	s.send(map[string]string{"type": "set_state", "state": "start"})
	if m := s.until(live.TypeStatus); m.State != store.StateStarting {
		t.Fatalf("status %+v, want starting", m)
	}
	if m := s.until(live.TypeStatus); m.State != store.StateRunning {
		t.Fatalf("status %+v, want running", m)
	}
	s.send(map[string]string{"type": "send_command", "command": "say hello"})
	s.send(map[string]any{"type": "request_logs", "lines": 10})
	s.until(live.TypeLogs)
	if got, _ := fake.Server(f.server.ID); len(got.Commands) != 1 || got.Commands[0] != "say hello" {
		t.Fatalf("agent got commands %q", got.Commands)
	}
	s.send(map[string]string{"type": "set_state", "state": "explode"})
	if m := s.until(live.TypeError); m.Request != "set_state" || m.Code != "invalid_field" {
		t.Fatalf("bad state %+v", m)
	}
	s.send(map[string]string{"type": "dance"})
	if m := s.until(live.TypeError); m.Code != "unknown_type" {
		t.Fatalf("unknown type %+v", m)
	}
	// A crash report carries the exit code and the crash loop.
	code := 3
	_ = fake.Emit(wire.EventServerState, wire.ServerState{ServerID: f.server.ID, State: wire.StateCrashed, ExitCode: &code, CrashLoop: true, Reason: "crashed 6 times within 10m0s"})
	m := s.until(live.TypeStatus)
	if m.State != store.StateCrashed || m.ExitCode == nil || *m.ExitCode != 3 || !m.CrashLoop {
		t.Fatalf("crash status %+v", m)
	}
	if got := f.do(roleOwner, "GET", "/api/servers/"+f.server.ID, nil); !strings.Contains(string(got.Data), `"last_exit_code":3`) || !strings.Contains(string(got.Data), `"crash_count":1`) {
		t.Fatalf("server after the crash: %s", got.Data)
	}
	// Socket actions are audited like the REST ones.
	entries, _ := f.store.ListAudit(context.Background(), store.AuditFilter{ServerID: f.server.ID})
	actions := map[string]int{}
	for _, e := range entries {
		actions[e.Action+"/"+e.Outcome]++
	}
	if actions["server.power.start/success"] != 1 || actions["server.command/success"] != 1 || actions["server.power.explode/failure"] != 0 {
		t.Fatalf("audit: %v", actions)
	}
}

func lineN(i int) string { return "line " + strconv.Itoa(i) + " " + strings.Repeat("x", i%7) }

func TestSocketFiltersByPermission(t *testing.T) {
	// The "without" subuser lacks server.console: status yes, console no.
	f := newFixture(t, "server.console", nil)
	fake := f.connectAgent()
	srv := httptest.NewServer(f.api)
	t.Cleanup(srv.Close)
	s := f.openSocket(t, srv, roleSubWithout)
	s.next() // status
	_ = fake.Emit(wire.EventConsoleOutput, wire.ConsoleOutput{ServerID: f.server.ID, Lines: []string{"secret"}})
	_ = fake.Emit(wire.EventDaemonMessage, wire.DaemonMessage{ServerID: f.server.ID, Level: "info", Message: "visible"})
	if m := s.next(); m.Type != live.TypeDaemonMessage {
		t.Fatalf("got %+v before the daemon message: console output leaked", m)
	}
	s.send(map[string]string{"type": "send_command", "command": "op me"})
	if m := s.until(live.TypeError); m.Code != "forbidden" {
		t.Fatalf("command without permission: %+v", m)
	}
	// Losing access closes the socket at once.
	if got := f.do(roleOwner, "DELETE", "/api/servers/"+f.server.ID+"/subusers/"+f.users[roleSubWithout].ID, nil); got.Status != http.StatusNoContent {
		t.Fatalf("remove subuser: %d %s", got.Status, got.Body)
	}
	if code := s.closed(); code != live.CloseRevoked {
		t.Fatalf("close code %d, want %d", code, live.CloseRevoked)
	}
}

func TestSocketTickets(t *testing.T) {
	f := newFixture(t, "", nil)
	srv := httptest.NewServer(f.api)
	t.Cleanup(srv.Close)
	got := f.do(roleOwner, "POST", "/api/servers/"+f.server.ID+"/ws/ticket", nil)
	var tk socketTicket
	_ = json.Unmarshal(got.Data, &tk)
	if tk.Ticket == "" || time.Until(tk.ExpiresAt) > ticketTTL {
		t.Fatalf("ticket %+v", tk)
	}
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(srv, f.server.ID, tk.Ticket), nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.Close()
	for name, url := range map[string]string{
		"spent":   wsURL(srv, f.server.ID, tk.Ticket),
		"unknown": wsURL(srv, f.server.ID, "nope"),
	} {
		_, resp, err := websocket.DefaultDialer.Dial(url, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s ticket: %v %v", name, err, resp)
		}
	}
	// A ticket is for one server.
	other := &store.Server{Name: "other", OwnerID: f.users[roleOwner].ID, NodeID: f.node.ID, TemplateID: f.tmpl.ID,
		State: store.StateStopped, Image: "img", Startup: "run", MemoryMB: 1, DiskMB: 1, PidsLimit: 1}
	if err := f.store.CreateServer(context.Background(), other, nil); err != nil {
		t.Fatal(err)
	}
	got = f.do(roleOwner, "POST", "/api/servers/"+f.server.ID+"/ws/ticket", nil)
	_ = json.Unmarshal(got.Data, &tk)
	if _, resp, err := websocket.DefaultDialer.Dial(wsURL(srv, other.ID, tk.Ticket), nil); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("ticket for another server: %v %v", err, resp)
	}
	// The Authorization header works too, for non-browser clients; a
	// foreign Origin does not.
	hdr := http.Header{"Authorization": {"Bearer " + f.tokens[roleOwner].Token}}
	ws, _, err = websocket.DefaultDialer.Dial(strings.Replace(wsURL(srv, f.server.ID, ""), "?ticket=", "", 1), hdr)
	if err != nil {
		t.Fatalf("header auth: %v", err)
	}
	ws.Close()
	hdr.Set("Origin", "https://evil.example")
	if _, resp, err := websocket.DefaultDialer.Dial(strings.Replace(wsURL(srv, f.server.ID, ""), "?ticket=", "", 1), hdr); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v %v", err, resp)
	}
}

func TestSocketLimits(t *testing.T) {
	f := newFixture(t, "", func(c *config.Config) {
		// Every socket is warned at once: the token lives 15 minutes.
		c.WebSocket.TokenWarning = "1h"
		c.WebSocket.CommandsPerSecond = 0.001
		c.WebSocket.CommandBurst = 2
	})
	f.connectAgent()
	srv := httptest.NewServer(f.api)
	t.Cleanup(srv.Close)

	s := f.openSocket(t, srv, roleOwner)
	if m := s.until(live.TypeTokenExpiring); m.Seconds <= 0 {
		t.Fatalf("token_expiring %+v", m)
	}
	// A fresh token of the same user is taken without reconnecting; one
	// of another user is refused.
	s.send(map[string]string{"type": "auth", "token": f.tokens[roleAdmin].Token})
	if m := s.until(live.TypeError); m.Request != "auth" || m.Code != "other_user" {
		t.Fatalf("auth as another user: %+v", m)
	}
	s.send(map[string]string{"type": "auth", "token": f.tokens[roleOwner].Token})
	s.until(live.TypeAuthSuccess)

	// Commands beyond the burst are refused until the rate allows more
	// (the first two reach the state machine, which refuses them: the
	// server is stopped).
	for range 3 {
		s.send(map[string]string{"type": "send_command", "command": "x"})
	}
	for i, want := range []string{"state_conflict", "state_conflict", "rate_limited"} {
		if m := s.until(live.TypeError); m.Code != want {
			t.Fatalf("command %d: %+v, want %s", i+1, m, want)
		}
	}
	// A message over 32 KiB closes the socket with 1009.
	s.send(map[string]string{"type": "send_command", "command": strings.Repeat("a", 40<<10)})
	if code := s.closed(); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
}
