package main

import (
	"testing"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/plugins/backup-local/internal/localstore"
	"catalyst.dev/sdk/plugintest"
)

var binary string // the plugin, built once by TestMain

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

// The in-process run does the 100 MiB round trip; the binary run, which
// proves the plugin as Catalyst launches it, keeps it to 32 MiB.
func TestConformance(t *testing.T) {
	t.Run("in-process", func(t *testing.T) {
		cfg := map[string]any{"dir": t.TempDir()}
		plugintest.BackupStore(t, plugintest.InProcess(localstore.New(hclog.NewNullLogger())), plugintest.BackupStoreOptions{Config: cfg})
	})
	t.Run("binary", func(t *testing.T) {
		cfg := map[string]any{"dir": t.TempDir(), "fsync": false, "partial_max_age": "30m"}
		plugintest.BackupStore(t, plugintest.Binary(binary), plugintest.BackupStoreOptions{Config: cfg, LargeSize: 32 << 20})
	})
}
