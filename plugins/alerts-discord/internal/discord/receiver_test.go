package discord

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/plugin"
)

// token is the secret part of every test webhook URL; no error or log
// line may contain it.
const token = "s3cr3t-T0KEN-do-not-leak"

// wireMessage is Discord's Execute Webhook body as Discord documents it,
// declared apart from the sink's own types so a wrong JSON name shows.
type wireMessage struct {
	Content         string      `json:"content"`
	Username        string      `json:"username"`
	AvatarURL       string      `json:"avatar_url"`
	Embeds          []wireEmbed `json:"embeds"`
	AllowedMentions *struct {
		Parse []string `json:"parse"`
		Roles []string `json:"roles"`
		Users []string `json:"users"`
	} `json:"allowed_mentions"`
}

type wireEmbed struct {
	Title       string `json:"title"`
	URL         string `json:"url"`
	Description string `json:"description"`
	Color       int    `json:"color"`
	Fields      []struct {
		Name   string `json:"name"`
		Value  string `json:"value"`
		Inline bool   `json:"inline"`
	} `json:"fields"`
	Timestamp string `json:"timestamp"`
	Footer    struct {
		Text string `json:"text"`
	} `json:"footer"`
	Author *struct {
		Name string `json:"name"`
	} `json:"author"`
}

// field returns the value of the field called name.
func (e wireEmbed) field(name string) (string, bool) {
	for _, f := range e.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// posted is one request the receiver took.
type posted struct {
	path  string
	query url.Values
	msg   wireMessage
}

// receiver stands in for Discord: a real HTTP server that decodes every
// message strictly and answers as the test tells it (by default 200 with
// the created message, as Discord does with wait=true).
type receiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	got    []posted
	answer func(w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("receiver: %s with Content-Type %q, want a JSON POST", r.Method, r.Header.Get("Content-Type"))
		}
		var m wireMessage
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			t.Errorf("receiver: decode message: %v", err)
			http.Error(w, `{"message": "Invalid Form Body", "code": 50035}`, http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.got = append(rc.got, posted{path: r.URL.Path, query: r.URL.Query(), msg: m})
		answer := rc.answer
		rc.mu.Unlock()
		if answer != nil {
			answer(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id": "1", "type": 0, "content": ""}`))
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// url is the webhook URL of webhook id, as Discord's UI hands it out.
func (rc *receiver) url(id string) string {
	return rc.srv.URL + "/api/webhooks/" + id + "/" + token
}

// respond makes the receiver answer every further request with f.
func (rc *receiver) respond(f func(w http.ResponseWriter, r *http.Request)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answer = f
}

// messages returns what the receiver has taken so far.
func (rc *receiver) messages() []posted {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]posted(nil), rc.got...)
}

// last returns the only embed of the last message, failing without one.
func (rc *receiver) last(t *testing.T) (wireMessage, wireEmbed) {
	t.Helper()
	got := rc.messages()
	if len(got) == 0 {
		t.Fatal("the receiver got no message")
	}
	m := got[len(got)-1].msg
	if len(m.Embeds) != 1 {
		t.Fatalf("message has %d embeds, want 1", len(m.Embeds))
	}
	return m, m.Embeds[0]
}

// newSink returns a sink configured with cfg as the host would: checked
// against the schema, with defaults filled in. webhook_url defaults to
// webhook 1 of rc, allow_insecure_url to true.
func newSink(t *testing.T, rc *receiver, cfg map[string]any) *Sink {
	t.Helper()
	s := New(hclog.NewNullLogger())
	full := map[string]any{"allow_insecure_url": true}
	if rc != nil {
		full["webhook_url"] = rc.url("1")
	}
	for k, v := range cfg {
		full[k] = v
	}
	if err := configure(s, full); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return s
}

// configure applies cfg the way the SDK does before calling Configure.
func configure(s *Sink, cfg map[string]any) error {
	ctx := context.Background()
	schema, err := s.ConfigSchema(ctx)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	applied, err := schema.Apply(raw)
	if err != nil {
		return err
	}
	return s.Configure(ctx, applied)
}

// deliveryError returns err as a *plugin.DeliveryError, failing otherwise,
// and checks it does not give the token away.
func deliveryError(t *testing.T, err error) *plugin.DeliveryError {
	t.Helper()
	var de *plugin.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("want *plugin.DeliveryError, got %T: %v", err, err)
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("error gives the webhook token away: %v", err)
	}
	return de
}

// crashAlert is what the core sends when a server crashes.
func crashAlert(id string) plugin.Alert {
	return plugin.Alert{
		ID:       id,
		Severity: plugin.SeverityCritical,
		Title:    "Server crashed",
		Body:     "survival-1 exited with code 137 (out of memory)",
		ServerID: "3f0c9f5e-1f1e-4d43-8d1e-6f0e2b7c9a10",
		NodeID:   "node-eu-1",
		Labels: map[string]string{
			plugin.LabelType:       "server_crashed",
			plugin.LabelStatus:     plugin.StatusFiring,
			plugin.LabelServerName: "survival-1",
			plugin.LabelNodeName:   "Frankfurt 1",
			plugin.LabelRule:       "crashes",
			"game":                 "minecraft",
			"exit_code":            "137",
		},
		OccurredAt: time.Date(2026, 11, 21, 3, 0, 0, 0, time.FixedZone("CET", 3600)),
		URL:        "https://panel.example.com/servers/3f0c9f5e",
	}
}
