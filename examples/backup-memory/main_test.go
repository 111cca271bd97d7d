package main

import (
	"fmt"
	"os"
	"testing"

	"catalyst.dev/sdk/plugintest"
)

var binary string // the plugin, built once by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "backup-memory-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if binary, err = plugintest.BuildPlugin(dir, "."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestConformance(t *testing.T) {
	opts := plugintest.BackupStoreOptions{Config: map[string]any{"max_object_mb": 200}}
	t.Run("in-process", func(t *testing.T) {
		plugintest.BackupStore(t, plugintest.InProcess(newStore()), opts)
	})
	t.Run("binary", func(t *testing.T) {
		plugintest.BackupStore(t, plugintest.Binary(binary), opts)
	})
}
