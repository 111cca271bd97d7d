package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/plugins/alerts-discord/internal/discord"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugintest"
)

var binary string // the plugin, built once by TestMain

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

// discordStandIn answers like Discord: webhook "ok" takes messages,
// "limited" is rate limited, "gone" was deleted. It counts the messages
// it took.
func discordStandIn(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var taken atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Query().Get("wait") != "true" {
			t.Errorf("stand-in: %s %s, want a POST with wait=true", r.Method, r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/ok"):
			taken.Add(1)
			_, _ = w.Write([]byte(`{"id": "1", "type": 0}`))
		case strings.HasSuffix(r.URL.Path, "/limited"):
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message": "Unknown Webhook", "code": 10015}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &taken
}

func TestConformance(t *testing.T) {
	opts := func(srv *httptest.Server) plugintest.AlertSinkOptions {
		cfg := func(webhook string) map[string]any {
			return map[string]any{
				"webhook_url":        srv.URL + "/api/webhooks/1/" + webhook,
				"allow_insecure_url": true,
				"mention":            "<@&123>",
				"username":           "Catalyst",
			}
		}
		return plugintest.AlertSinkOptions{
			Config: cfg("ok"),
			Failures: []plugintest.AlertFailure{
				{
					Name:           "429 rate limited",
					Config:         cfg("limited"),
					Alerts:         []plugin.Alert{plugintest.SampleAlert("limited")},
					WantRetryable:  true,
					WantRetryAfter: true,
				},
				{
					Name:   "404 webhook deleted",
					Config: cfg("gone"),
					Alerts: []plugin.Alert{plugintest.SampleAlert("gone")},
				},
			},
		}
	}
	t.Run("in-process", func(t *testing.T) {
		srv, taken := discordStandIn(t)
		plugintest.AlertSink(t, plugintest.InProcess(discord.New(hclog.NewNullLogger())), opts(srv))
		// Three alerts, one of them delivered twice: three messages.
		if n := taken.Load(); n != 3 {
			t.Errorf("Discord took %d messages, want 3", n)
		}
	})
	t.Run("binary", func(t *testing.T) {
		srv, taken := discordStandIn(t)
		plugintest.AlertSink(t, plugintest.Binary(binary), opts(srv))
		if n := taken.Load(); n != 3 {
			t.Errorf("Discord took %d messages, want 3", n)
		}
	})
}
