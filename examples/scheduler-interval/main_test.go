package main

import (
	"testing"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/plugintest"
)

var binary string // the plugin, built once by TestMain

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

func TestConformance(t *testing.T) {
	opts := plugintest.SchedulerOptions{
		Config:      map[string]any{"min_interval": "50ms"},
		Spec:        "@every 200ms",
		InvalidSpec: "0 3 * * *", // cron syntax: not this plugin's
	}
	t.Run("in-process", func(t *testing.T) {
		plugintest.Scheduler(t, plugintest.InProcess(newScheduler(hclog.NewNullLogger())), opts)
	})
	t.Run("binary", func(t *testing.T) {
		plugintest.Scheduler(t, plugintest.Binary(binary), opts)
	})
}
