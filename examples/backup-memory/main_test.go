package main

import (
	"testing"

	"catalyst.dev/sdk/plugintest"
)

var binary string // the plugin, built once by TestMain

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

func TestConformance(t *testing.T) {
	opts := plugintest.BackupStoreOptions{Config: map[string]any{"max_object_mb": 200}}
	t.Run("in-process", func(t *testing.T) {
		plugintest.BackupStore(t, plugintest.InProcess(newStore()), opts)
	})
	t.Run("binary", func(t *testing.T) {
		plugintest.BackupStore(t, plugintest.Binary(binary), opts)
	})
}
