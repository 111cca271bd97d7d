package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/webhook"
)

// delivery is one request as a receiver saw it.
type delivery struct {
	header http.Header
	body   []byte
}

// newReceiver is a real HTTP endpoint that records deliveries and answers
// with status.
func newReceiver(t *testing.T, status int) (*httptest.Server, func() []delivery) {
	t.Helper()
	var mu sync.Mutex
	var got []delivery
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, delivery{header: r.Header.Clone(), body: body})
		mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []delivery {
		mu.Lock()
		defer mu.Unlock()
		return append([]delivery(nil), got...)
	}
}

// configure applies cfg the way the SDK does before Configure: checked
// against the schema, defaults filled in.
func configure(t *testing.T, s *Sink, cfg map[string]any) error {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := s.ConfigSchema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	applied, err := schema.Apply(raw)
	if err != nil {
		return err
	}
	return s.Configure(context.Background(), applied)
}

func sampleAlert() plugin.Alert {
	return plugin.Alert{
		ID: "alert-7", Severity: plugin.SeverityWarning, Title: "Disk almost full", Body: "survival-1 uses 93% of its disk",
		ServerID: "srv-1", Labels: map[string]string{plugin.LabelType: "disk", plugin.LabelValue: "93%"},
		OccurredAt: time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC),
	}
}

func TestDeliverPostsASignedPayload(t *testing.T) {
	srv, got := newReceiver(t, http.StatusOK)
	s := New(hclog.NewNullLogger())
	secret := "receiver-and-plugin-share-this"
	if err := configure(t, s, map[string]any{
		"url": srv.URL + "/catalyst", "secret": secret,
		"headers": map[string]string{"Authorization": "Bearer t0ken"},
	}); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	a := sampleAlert()
	if err := s.Deliver(context.Background(), a); err != nil {
		t.Fatalf("Deliver: %v", err)
	}

	deliveries := got()
	if len(deliveries) != 1 {
		t.Fatalf("receiver got %d deliveries, want 1", len(deliveries))
	}
	d := deliveries[0]
	if err := webhook.Verify([]byte(secret), d.header, d.body, time.Now(), webhook.DefaultTolerance); err != nil {
		t.Errorf("receiver's Verify: %v", err)
	}
	if id := d.header.Get(webhook.HeaderID); id != a.ID {
		t.Errorf("%s = %q, want the alert ID %q", webhook.HeaderID, id, a.ID)
	}
	if auth := d.header.Get("Authorization"); auth != "Bearer t0ken" {
		t.Errorf("Authorization = %q, want the configured header", auth)
	}
	p, err := NewPayload(a, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := p.Encode()
	if !bytes.Equal(d.body, want) {
		t.Errorf("body\n got %s\nwant %s", d.body, want)
	}
}

func TestDeliverWithoutSecretIsUnsignedAndWarned(t *testing.T) {
	srv, got := newReceiver(t, http.StatusNoContent)
	var logs bytes.Buffer
	s := New(hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Warn}))
	if err := configure(t, s, map[string]any{"url": srv.URL}); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	if !strings.Contains(logs.String(), "unsigned") {
		t.Errorf("no warning about unsigned deliveries in the log: %q", logs.String())
	}
	if err := s.Deliver(context.Background(), sampleAlert()); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if h := got()[0].header; h.Get(webhook.HeaderSignature) != "" || h.Get(webhook.HeaderTimestamp) != "" {
		t.Errorf("unsigned delivery carries signature headers: %v", h)
	}
}

func TestDeliverRefusesAnAlertWithoutTitle(t *testing.T) {
	srv, got := newReceiver(t, http.StatusOK)
	s := New(hclog.NewNullLogger())
	if err := configure(t, s, map[string]any{"url": srv.URL, "secret": "k"}); err != nil {
		t.Fatal(err)
	}
	a := sampleAlert()
	a.Title = ""
	err := s.Deliver(context.Background(), a)
	var de *plugin.DeliveryError
	if !errors.As(err, &de) || de.Retryable || !errors.Is(err, plugin.ErrInvalidArgument) {
		t.Fatalf("Deliver = %v, want a permanent ErrInvalidArgument", err)
	}
	if n := len(got()); n != 0 {
		t.Errorf("receiver got %d deliveries, want none", n)
	}
}

func TestConfigureRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  map[string]any
		key  string // the error must name it
	}{
		{name: "no url", cfg: map[string]any{}, key: "url"},
		{name: "url without scheme", cfg: map[string]any{"url": "hooks.example.com/x"}, key: "url"},
		{name: "url with another scheme", cfg: map[string]any{"url": "ftp://hooks.example.com/x"}, key: "url"},
		{name: "url without host", cfg: map[string]any{"url": "https:///x"}, key: "url"},
		{name: "url not a string", cfg: map[string]any{"url": 42}, key: "url"},
		{name: "timeout not a duration", cfg: map[string]any{"url": "https://h.example", "timeout": "ten seconds"}, key: "timeout"},
		{name: "timeout negative", cfg: map[string]any{"url": "https://h.example", "timeout": "-1s"}, key: "timeout"},
		{name: "timeout zero", cfg: map[string]any{"url": "https://h.example", "timeout": "0s"}, key: "timeout"},
		{name: "ca_file missing", cfg: map[string]any{"url": "https://h.example", "ca_file": filepath.Join(dir, "missing.pem")}, key: "ca_file"},
		{name: "ca_file not PEM", cfg: map[string]any{"url": "https://h.example", "ca_file": notPEM}, key: "ca_file"},
		{name: "header overriding the signature", cfg: map[string]any{"url": "https://h.example", "headers": map[string]string{"Catalyst-Webhook-Signature": "v1=00"}}, key: "headers"},
		{name: "header overriding Content-Type", cfg: map[string]any{"url": "https://h.example", "headers": map[string]string{"Content-Type": "text/plain"}}, key: "headers"},
		{name: "header with a bad name", cfg: map[string]any{"url": "https://h.example", "headers": map[string]string{"Bad Name": "x"}}, key: "headers"},
		{name: "unknown key", cfg: map[string]any{"url": "https://h.example", "retries": 3}, key: "retries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := configure(t, New(hclog.NewNullLogger()), tt.cfg)
			if !errors.Is(err, plugin.ErrInvalidArgument) {
				t.Fatalf("Configure = %v, want ErrInvalidArgument", err)
			}
			if !strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %q does not name %q", err, tt.key)
			}
		})
	}
}

func TestConfigureKeepsThePreviousConfigOnFailure(t *testing.T) {
	srv, got := newReceiver(t, http.StatusOK)
	s := New(hclog.NewNullLogger())
	if err := configure(t, s, map[string]any{"url": srv.URL, "secret": "k"}); err != nil {
		t.Fatal(err)
	}
	if err := configure(t, s, map[string]any{"url": "ftp://elsewhere.example"}); err == nil {
		t.Fatal("bad config accepted")
	}
	if err := s.Deliver(context.Background(), sampleAlert()); err != nil {
		t.Fatalf("Deliver after a refused reconfiguration: %v", err)
	}
	if n := len(got()); n != 1 {
		t.Errorf("receiver got %d deliveries, want 1", n)
	}
}

func TestCAFileTrustsAPrivateReceiver(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	s := New(hclog.NewNullLogger())
	if err := configure(t, s, map[string]any{"url": srv.URL, "secret": "k", "ca_file": ca}); err != nil {
		t.Fatal(err)
	}
	if err := s.Deliver(context.Background(), sampleAlert()); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
}

func TestDeliverBeforeConfigureFails(t *testing.T) {
	if err := New(hclog.NewNullLogger()).Deliver(context.Background(), sampleAlert()); err == nil {
		t.Fatal("an unconfigured sink delivered")
	}
}
