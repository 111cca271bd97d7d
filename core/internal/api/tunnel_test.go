package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
)

// The tunnel route refuses in the API's envelope, before any upgrade.
func TestAgentConnectRefusals(t *testing.T) {
	f := newFixture(t, "", nil)
	ctx := context.Background()
	token, _ := f.api.Nodes.NewDeployToken(ctx, f.node)
	_, cred, err := f.api.Nodes.Enrol(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	ws := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
	hdr := func(node, cred, protocol string) map[string]string {
		h := map[string]string{wire.HeaderNode: node, wire.HeaderProtocol: protocol}
		for k, v := range ws {
			h[k] = v
		}
		if cred != "" {
			h["Authorization"] = "Bearer " + cred
		}
		return h
	}
	cases := []struct {
		name   string
		hdr    map[string]string
		status int
		code   string
		msg    string
	}{
		{"no credential", hdr(f.node.ID, "", "1"), 401, "unauthenticated", "Authorization"},
		{"wrong credential", hdr(f.node.ID, "catn_nope", "1"), 401, "unauthenticated", ""},
		{"another node's credential", hdr(store.NewID(), cred, "1"), 401, "unauthenticated", ""},
		{"old protocol", hdr(f.node.ID, cred, "0"), 426, "protocol_mismatch", "upgrade catalyst-agent"},
		{"not a WebSocket", map[string]string{wire.HeaderNode: f.node.ID, "Authorization": "Bearer " + cred, wire.HeaderProtocol: "1"}, 400, "websocket_required", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := send(t, f.api, "GET", wire.PathConnect, "", nil, tc.hdr)
			if got.Status != tc.status || got.Error == nil || got.Error.Code != tc.code || !strings.Contains(got.Error.Message, tc.msg) {
				t.Fatalf("got %d %s; want %d %s", got.Status, got.Body, tc.status, tc.code)
			}
		})
	}
}

// Through the real API and tunnel: node views, power and console, and
// the errors a user sees when the node is away.
func TestServersThroughTheTunnel(t *testing.T) {
	f := newFixture(t, "", nil)
	owner := roleOwner
	id := f.server.ID

	// Offline: 503 naming the node.
	got := f.do(owner, "POST", "/api/servers/"+id+"/power", map[string]string{"action": "start"})
	if got.Status != http.StatusServiceUnavailable || got.Error.Code != "node_offline" || !strings.Contains(got.Error.Message, f.node.ID) {
		t.Fatalf("start on an offline node: %d %s", got.Status, got.Body)
	}
	if got := f.do(roleAdmin, "GET", "/api/admin/nodes/"+f.node.ID, nil); !strings.Contains(string(got.Data), `"online":false`) {
		t.Fatalf("offline node view: %s", got.Data)
	}

	fake := f.connectAgent()
	if got := f.do(roleAdmin, "GET", "/api/admin/nodes/"+f.node.ID, nil); !strings.Contains(string(got.Data), `"online":true`) ||
		!strings.Contains(string(got.Data), `"version":"test"`) {
		t.Fatalf("online node view: %s", got.Data)
	}
	got = f.do(owner, "POST", "/api/servers/"+id+"/power", map[string]string{"action": "start"})
	if got.Status != http.StatusAccepted {
		t.Fatalf("start: %d %s", got.Status, got.Body)
	}
	waitForState(t, f, id, store.StateRunning)
	got = f.do(owner, "POST", "/api/servers/"+id+"/power", map[string]string{"action": "start"})
	if got.Status != http.StatusConflict || got.Error.Code != "state_conflict" || !strings.Contains(got.Error.Message, "running") {
		t.Fatalf("start while running: %d %s", got.Status, got.Body)
	}
	if got := f.do(owner, "POST", "/api/servers/"+id+"/command", map[string]string{"command": "say hi"}); got.Status != http.StatusNoContent {
		t.Fatalf("command: %d %s", got.Status, got.Body)
	}
	if s, _ := fake.Server(id); len(s.Commands) != 1 {
		t.Fatalf("agent got %q", s.Commands)
	}
	// The agent says not running (its view raced ours): 409 not_running.
	fake.Put(id, wire.StateStopped)
	if got := f.do(owner, "POST", "/api/servers/"+id+"/command", map[string]string{"command": "say hi"}); got.Status != http.StatusConflict || got.Error.Code != "not_running" {
		t.Fatalf("command the agent refuses: %d %s", got.Status, got.Body)
	}
	// Every action was audited.
	entries, _ := f.store.ListAudit(context.Background(), store.AuditFilter{ServerID: id})
	actions := map[string]int{}
	for _, e := range entries {
		actions[e.Action+"/"+e.Outcome]++
	}
	if actions["server.power.start/success"] != 1 || actions["server.power.start/failure"] != 2 || actions["server.command/success"] != 1 {
		t.Fatalf("audit: %v", actions)
	}
}

// A deleted node's agent loses its tunnel at once rather than talking to
// a node the core no longer has.
func TestDeletingANodeClosesItsTunnel(t *testing.T) {
	f := newFixture(t, "", nil)
	f.connectAgent()
	if got := f.do(roleAdmin, "DELETE", "/api/servers/"+f.server.ID, nil); got.Status != http.StatusNoContent {
		t.Fatalf("delete server: %d %s", got.Status, got.Body)
	}
	if got := f.do(roleAdmin, "DELETE", "/api/admin/nodes/"+f.node.ID, nil); got.Status != http.StatusNoContent {
		t.Fatalf("delete node: %d %s", got.Status, got.Body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.api.Gateway.Online(f.node.ID) {
		if time.Now().After(deadline) {
			t.Fatal("the deleted node's agent is still connected")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestImageImportIsLimited(t *testing.T) {
	f := newFixture(t, "", func(c *config.Config) { c.Gateway.ImageImportMaxMB = 1 })
	fake := f.connectAgent()
	path := "/api/admin/nodes/" + f.node.ID + "/images"
	if got := f.do(roleAdmin, "POST", path, make([]byte, 512<<10)); got.Status != http.StatusOK || fake.Imported != 512<<10 {
		t.Fatalf("small image: %d %s (agent read %d)", got.Status, got.Body, fake.Imported)
	}
	if got := f.do(roleAdmin, "POST", path, make([]byte, 2<<20)); got.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized image: %d %s", got.Status, got.Body)
	}
}

func waitForState(t *testing.T, f *fixture, id, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		srv, err := f.store.ServerByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if srv.State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server is %s, want %s", srv.State, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
