package main

import (
	"fmt"
	"maps"
	"os"
	"testing"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/plugins/backup-s3/internal/s3store"
	"catalyst.dev/plugins/backup-s3/internal/s3test"
	"catalyst.dev/sdk/plugintest"
)

// The plugin and the S3 server, built once by TestMain.
var binary, s3server string

func TestMain(m *testing.M) { os.Exit(buildAndRun(m)) }

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "backup-s3-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if binary, err = plugintest.BuildPlugin(dir, "."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if s3server, err = s3test.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// Both runs go to a real S3 server. The in-process run uses the smallest
// parts S3 allows, so its 100 MiB round trip is a 20-part multipart upload
// with parts in parallel; the binary run, as Catalyst launches the plugin,
// keeps the defaults and a 32 MiB round trip (two 16 MiB parts).
func TestConformance(t *testing.T) {
	srv := s3test.Start(t, s3server)
	t.Run("in-process", func(t *testing.T) {
		cfg := srv.Config()
		maps.Copy(cfg, map[string]any{"prefix": "in-process/", "part_size_mb": 5, "concurrency": 3})
		plugintest.BackupStore(t, plugintest.InProcess(s3store.New(hclog.NewNullLogger())), plugintest.BackupStoreOptions{Config: cfg})
	})
	t.Run("binary", func(t *testing.T) {
		cfg := srv.Config()
		cfg["prefix"] = "binary/"
		plugintest.BackupStore(t, plugintest.Binary(binary), plugintest.BackupStoreOptions{Config: cfg, LargeSize: 32 << 20})
	})
}
