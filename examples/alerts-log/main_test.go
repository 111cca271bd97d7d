package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugintest"
)

var binary string // the plugin, built once by TestMain

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

func TestConformance(t *testing.T) {
	opts := func(t *testing.T) plugintest.AlertSinkOptions {
		path := filepath.Join(t.TempDir(), "alerts.jsonl")
		return plugintest.AlertSinkOptions{
			Config: map[string]any{"path": path},
			Failures: []plugintest.AlertFailure{
				{
					Name:   "rate limited",
					Config: map[string]any{"path": path, "max_per_minute": 1},
					Alerts: []plugin.Alert{plugintest.SampleAlert("a"), plugintest.SampleAlert("b")},
					// The second alert in the minute must wait.
					WantRetryable:  true,
					WantRetryAfter: true,
				},
				{
					Name:   "alert without title",
					Alerts: []plugin.Alert{{ID: "untitled", Severity: plugin.SeverityInfo}},
				},
			},
		}
	}
	t.Run("in-process", func(t *testing.T) {
		plugintest.AlertSink(t, plugintest.InProcess(newSink(hclog.NewNullLogger())), opts(t))
	})
	t.Run("binary", func(t *testing.T) {
		o := opts(t)
		plugintest.AlertSink(t, plugintest.Binary(binary), o)
		if b, err := os.ReadFile(o.Config["path"].(string)); err != nil || len(b) == 0 {
			t.Fatalf("no alert reached the file: %v", err)
		}
	})
}
