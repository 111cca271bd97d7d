package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"catalyst.dev/core/internal/alerts"
	"catalyst.dev/core/internal/metrics"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/webhook"
	"catalyst.dev/sdk/wire"
)

// signedReceiver is a webhook endpoint that keeps the deliveries whose
// signature verifies with secret.
type signedReceiver struct {
	mu     sync.Mutex
	secret string
	bodies []string
	srv    *httptest.Server
}

func newSignedReceiver(t *testing.T) *signedReceiver {
	r := &signedReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := webhook.Verify([]byte(r.secret), req.Header, body, time.Now(), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		r.bodies = append(r.bodies, string(body))
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *signedReceiver) events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, b := range r.bodies {
		var p struct {
			Event string `json:"event"`
		}
		_ = json.Unmarshal([]byte(b), &p)
		out = append(out, p.Event)
	}
	return out
}

func TestAlertRulesAreValidated(t *testing.T) {
	f := newFixture(t, "", nil)
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"type": "temperature", "severity": "warning"}, "type"},
		{map[string]any{"type": "cpu", "threshold": 150, "severity": "warning"}, "threshold"},
		{map[string]any{"type": "cpu", "threshold": 90, "severity": "urgent"}, "severity"},
		{map[string]any{"type": "server_crashed", "for_seconds": 30, "severity": "warning"}, "for_seconds"},
		{map[string]any{"severity": "warning"}, "type"},
	} {
		got := f.do(roleAdmin, http.MethodPost, "/api/admin/alert-rules", tc.body)
		if got.Status != http.StatusUnprocessableEntity || got.Error == nil || got.Error.Field != tc.field {
			t.Errorf("POST %v = %d %s, want 422 naming %s", tc.body, got.Status, got.Body, tc.field)
		}
	}
	// A server cannot watch its node.
	got := f.do(roleOwner, http.MethodPost, "/api/servers/"+f.server.ID+"/alert-rules", map[string]any{"type": "node_offline", "severity": "critical"})
	if got.Status != http.StatusUnprocessableEntity || got.Error.Field != "type" {
		t.Errorf("a server's node_offline rule: %d %s", got.Status, got.Body)
	}
	// A rule of another server is not found through this one.
	other, err := f.api.Alerts.CreateRule(context.Background(), f.server.ID, alertsSpec("cpu", 90))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.do(roleAdmin, http.MethodPatch, "/api/admin/alert-rules/"+other.ID, map[string]any{"threshold": 50}); got.Status != http.StatusNotFound {
		t.Errorf("a server's rule edited as an admin-wide one: %d %s", got.Status, got.Body)
	}
}

// A server's own memory rule fires on its samples, reaches the server's
// webhook and its alert list, and resolves when memory drops.
func TestServerRuleRaisesAndResolvesThroughTheWebhook(t *testing.T) {
	f := newFixture(t, "", nil)
	rcv := newSignedReceiver(t)
	got := f.do(roleOwner, http.MethodPost, "/api/servers/"+f.server.ID+"/webhooks",
		map[string]any{"url": rcv.srv.URL + "/hook", "events": []string{"alert.firing", "alert.resolved"}})
	if got.Status != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", got.Status, got.Body)
	}
	var created struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	_ = json.Unmarshal(got.Data, &created)
	rcv.mu.Lock()
	rcv.secret = created.Secret
	rcv.mu.Unlock()
	if list := f.do(roleOwner, http.MethodGet, "/api/servers/"+f.server.ID+"/webhooks", nil); strings.Contains(string(list.Body), created.Secret) {
		t.Fatalf("the webhook list shows the secret: %s", list.Body)
	}
	got = f.do(roleOwner, http.MethodPost, "/api/servers/"+f.server.ID+"/alert-rules",
		map[string]any{"type": "memory", "threshold": 80, "severity": "critical"})
	if got.Status != http.StatusCreated {
		t.Fatalf("create rule: %d %s", got.Status, got.Body)
	}

	sample := func(usedMB uint64) {
		f.api.Alerts.OnSamples(f.node.ID, []metrics.ServerSample{{ServerStats: wire.ServerStats{
			ServerID: f.server.ID, At: time.Now(), MemoryBytes: usedMB << 20, MemoryLimitBytes: 1000 << 20}}})
	}
	sample(500)
	sample(950)
	waitUntil(t, "the alert.firing delivery", func() bool { return len(rcv.events()) == 1 })
	var open []store.Alert
	_ = json.Unmarshal(f.do(roleOwner, http.MethodGet, "/api/servers/"+f.server.ID+"/alerts?status=open", nil).Data, &open)
	if len(open) != 1 || open[0].Type != "memory" || open[0].Value != "95.0%" || !strings.Contains(open[0].Title, f.server.Name) {
		t.Fatalf("open alerts %+v", open)
	}
	sample(960) // still above: nothing new
	sample(100)
	waitUntil(t, "the alert.resolved delivery", func() bool { return len(rcv.events()) == 2 })
	if ev := rcv.events(); ev[0] != "alert.firing" || ev[1] != "alert.resolved" {
		t.Fatalf("events %v", ev)
	}
	var log []store.Delivery
	_ = json.Unmarshal(f.do(roleOwner, http.MethodGet, "/api/servers/"+f.server.ID+"/webhooks/"+created.ID+"/deliveries", nil).Data, &log)
	if len(log) != 2 || log[0].Status != store.DeliveryDelivered {
		t.Fatalf("delivery log %+v", log)
	}
	// The admin-wide view has it too, resolved.
	var all []store.Alert
	_ = json.Unmarshal(f.do(roleAdmin, http.MethodGet, "/api/admin/alerts?type=memory", nil).Data, &all)
	if len(all) != 1 || all[0].Status != store.AlertResolved || all[0].ResolvedBy != "" {
		t.Fatalf("admin alerts %+v", all)
	}
}

func TestWebhooksAreValidatedAndTested(t *testing.T) {
	f := newFixture(t, "", nil)
	path := "/api/servers/" + f.server.ID + "/webhooks"
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"url": "ftp://example.com/x", "events": []string{"*"}}, "url"},
		{map[string]any{"url": "https://", "events": []string{"*"}}, "url"},
		{map[string]any{"url": "https://example.com/x", "events": []string{"server.exploded"}}, "events"},
		{map[string]any{"url": "https://example.com/x", "events": []string{}}, "events"},
		{map[string]any{"url": "https://example.com/x", "events": []string{"*"}, "secret": "short"}, "secret"},
	} {
		got := f.do(roleOwner, http.MethodPost, path, tc.body)
		if got.Status != http.StatusUnprocessableEntity || got.Error == nil || got.Error.Field != tc.field {
			t.Errorf("POST %v = %d %s, want 422 naming %s", tc.body, got.Status, got.Body, tc.field)
		}
	}

	rcv := newSignedReceiver(t)
	rcv.secret = "a-secret-chosen-by-the-owner"
	got := f.do(roleOwner, http.MethodPost, path, map[string]any{"url": rcv.srv.URL, "events": []string{"backup.completed"}, "secret": rcv.secret})
	var w struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(got.Data, &w)
	got = f.do(roleOwner, http.MethodPost, path+"/"+w.ID+"/test", nil)
	var d store.Delivery
	_ = json.Unmarshal(got.Data, &d)
	if got.Status != http.StatusOK || d.Status != store.DeliveryDelivered || d.Event != "webhook.test" {
		t.Fatalf("test delivery: %d %s", got.Status, got.Body)
	}
	if ev := rcv.events(); len(ev) != 1 || ev[0] != "webhook.test" {
		t.Fatalf("receiver got %v", ev)
	}

	// A receiver refusing the signature: the test answers with its error.
	rcv.mu.Lock()
	rcv.secret = "not-the-secret-any-more"
	rcv.mu.Unlock()
	got = f.do(roleOwner, http.MethodPost, path+"/"+w.ID+"/test", nil)
	_ = json.Unmarshal(got.Data, &d)
	if d.Status != store.DeliveryFailed || !strings.Contains(d.LastError, "401") {
		t.Fatalf("test against a refusing receiver: %s", got.Body)
	}

	// Rotating shows the new secret once.
	got = f.do(roleOwner, http.MethodPatch, path+"/"+w.ID, map[string]any{"rotate_secret": true})
	var rotated struct {
		Secret string `json:"secret"`
	}
	_ = json.Unmarshal(got.Data, &rotated)
	if !strings.HasPrefix(rotated.Secret, "whsec_") {
		t.Fatalf("rotate: %s", got.Body)
	}
}

func alertsSpec(typ string, threshold float64) alerts.RuleSpec {
	return alerts.RuleSpec{Type: &typ, Threshold: &threshold, Severity: ptr("warning")}
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
