package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/plugins/alerts-webhook/internal/sink"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugin/host"
	"catalyst.dev/sdk/plugintest"
	"catalyst.dev/sdk/webhook"
)

var binary string // the plugin, built once by TestMain

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

const secret = "conformance-secret"

// receiver is the other end of the webhook: /ok accepts deliveries whose
// signature webhook.Verify accepts (and answers 401 to any other), the
// other paths answer with the status they name.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	verified map[string][]byte // body by delivery ID
	rejected []string
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{verified: map[string][]byte{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/429":
		w.Header().Set("Retry-After", "7")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	case "/500":
		http.Error(w, "receiver broke", http.StatusInternalServerError)
		return
	case "/404":
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	err := webhook.Verify([]byte(secret), r.Header, body, time.Now(), webhook.DefaultTolerance)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err != nil {
		rc.rejected = append(rc.rejected, err.Error())
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rc.verified[r.Header.Get(webhook.HeaderID)] = body
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) conformance() plugintest.AlertSinkOptions {
	cfg := func(path string) map[string]any {
		return map[string]any{"url": rc.URL + path, "secret": secret, "timeout": "5s"}
	}
	return plugintest.AlertSinkOptions{
		Config: cfg("/ok"),
		Failures: []plugintest.AlertFailure{
			{
				Name: "receiver rate-limits with Retry-After", Config: cfg("/429"),
				Alerts:        []plugin.Alert{plugintest.SampleAlert("r-429")},
				WantRetryable: true, WantRetryAfter: true,
			},
			{
				Name: "receiver fails", Config: cfg("/500"),
				Alerts:        []plugin.Alert{plugintest.SampleAlert("r-500")},
				WantRetryable: true,
			},
			{
				Name: "receiver does not exist", Config: cfg("/404"),
				Alerts: []plugin.Alert{plugintest.SampleAlert("r-404")},
			},
			{
				Name:   "alert without title",
				Alerts: []plugin.Alert{{ID: "untitled", Severity: plugin.SeverityInfo}},
			},
		},
	}
}

// check asserts that every delivery reached the receiver verified and
// that the body has exactly the documented fields.
func (rc *receiver) check(t *testing.T) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.rejected) > 0 {
		t.Errorf("the receiver refused %d deliveries: %v", len(rc.rejected), rc.rejected)
	}
	for _, id := range []string{"plugintest-1", "plugintest-dup", "plugintest-min"} {
		if rc.verified[id] == nil {
			t.Errorf("no verified delivery with ID %s", id)
		}
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(rc.verified["plugintest-1"], &got); err != nil {
		t.Fatalf("body: %v", err)
	}
	documented := []string{"body", "id", "labels", "node", "occurred_at", "server", "severity", "status", "title", "type", "url", "version"}
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, documented) {
		t.Errorf("body fields %v, want the documented %v", keys, documented)
	}
	var subject map[string]any
	if err := json.Unmarshal(got["server"], &subject); err != nil || len(subject) != 2 || subject["id"] == nil || subject["name"] == nil {
		t.Errorf("server = %s, want {\"id\":…,\"name\":…}", got["server"])
	}
	if string(got["version"]) != "1" || string(got["id"]) != `"plugintest-1"` {
		t.Errorf("version %s id %s, want 1 and \"plugintest-1\"", got["version"], got["id"])
	}
}

func TestConformance(t *testing.T) {
	t.Run("in-process", func(t *testing.T) {
		rc := newReceiver(t)
		plugintest.AlertSink(t, plugintest.InProcess(sink.New(hclog.NewNullLogger())), rc.conformance())
		rc.check(t)
	})
	t.Run("binary", func(t *testing.T) {
		rc := newReceiver(t)
		plugintest.AlertSink(t, plugintest.Binary(binary), rc.conformance())
		rc.check(t)
	})
}

// loadBinary loads the built plugin as the core does, configured with cfg.
func loadBinary(t *testing.T, cfg string) (plugin.AlertSink, error) {
	t.Helper()
	h, err := host.New(host.WithLogger(hclog.NewNullLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	if err := h.Load(context.Background(), []host.Spec{{Name: "webhook", Path: binary, ConfigJSON: plugin.Config(cfg)}}); err != nil {
		return nil, err
	}
	return h.AlertSink("webhook")
}

// The receiver's Retry-After reaches the core intact across the plugin
// boundary.
func TestBinaryPassesTheRetryHint(t *testing.T) {
	rc := newReceiver(t)
	s, err := loadBinary(t, `{"url":"`+rc.URL+`/429","secret":"`+secret+`"}`)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Deliver(context.Background(), plugintest.SampleAlert("hint"))
	var de *plugin.DeliveryError
	if !errors.As(err, &de) || !de.Retryable || de.RetryAfter != 7*time.Second {
		t.Fatalf("Deliver = %v, want retryable after 7s", err)
	}
	if !strings.Contains(de.Error(), "429") {
		t.Errorf("error %q does not give the status", de)
	}
}

// The built plugin, loaded as the core loads it, refuses a bad config
// with a message naming the key.
func TestBinaryRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name, config, key string
	}{
		{name: "bad url", config: `{"url":"ftp://hooks.example.com/x"}`, key: "url"},
		{name: "bad timeout", config: `{"url":"https://hooks.example.com/x","timeout":"soon"}`, key: "timeout"},
		{name: "reserved header", config: `{"url":"https://hooks.example.com/x","headers":{"Catalyst-Webhook-Id":"x"}}`, key: "headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadBinary(t, tt.config)
			if err == nil {
				t.Fatal("the plugin accepted a bad config")
			}
			if !strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %q does not name %q", err, tt.key)
			}
		})
	}
}
