// Package plugintest holds conformance suites for Catalyst plugins. A
// plugin author runs them from the plugin's own tests, twice: in-process
// (fast, debuggable, every call still crossing a real gRPC connection) and
// against the built binary (launched exactly as Catalyst launches it):
//
//	func TestConformance(t *testing.T) {
//		cfg := map[string]any{"dir": t.TempDir()}
//		t.Run("in-process", func(t *testing.T) {
//			plugintest.BackupStore(t, plugintest.InProcess(&store{}), plugintest.BackupStoreOptions{Config: cfg})
//		})
//		t.Run("binary", func(t *testing.T) {
//			plugintest.BackupStore(t, plugintest.Binary(binPath), plugintest.BackupStoreOptions{Config: cfg})
//		})
//	}
package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugin/host"
)

// Target is a plugin under test.
type Target interface {
	// open returns a configured client of the plugin's kind; it is closed
	// when the test ends.
	open(t testing.TB, kind plugin.Kind, cfg plugin.Config) plugin.Base
	String() string
}

// InProcess serves impl in the test process over go-plugin's in-memory
// gRPC connection: no process boundary, but every call goes through the
// SDK's gRPC adapters as it would in production.
func InProcess(impl plugin.Base) Target { return inProcess{impl} }

type inProcess struct{ impl plugin.Base }

func (inProcess) String() string { return "in-process" }

func (p inProcess) open(t testing.TB, kind plugin.Kind, cfg plugin.Config) plugin.Base {
	t.Helper()
	set, err := plugin.PluginSet(p.impl, testLogger(t))
	if err != nil {
		t.Fatalf("plugin set: %v", err)
	}
	client, server := goplugin.TestPluginGRPCConn(t, false, set)
	t.Cleanup(func() {
		// Closing the client shuts the server down through go-plugin's
		// controller; stopping it here as well would race with that.
		_ = client.Close()
		select {
		case <-server.DoneCh:
		case <-time.After(5 * time.Second):
			server.Stop()
		}
	})
	raw, err := client.Dispense(string(kind))
	if err != nil {
		t.Fatalf("dispense %s: %v", kind, err)
	}
	b := raw.(plugin.Base)
	if err := b.Configure(context.Background(), cfg); err != nil {
		t.Fatalf("configure: %v", err)
	}
	return b
}

// Binary launches the plugin executable at path through the Catalyst
// plugin host: handshake, mTLS, checksum-free launch, health checks.
// env adds "KEY=VALUE" pairs to the plugin's environment.
func Binary(path string, env ...string) Target { return binary{path: path, env: env} }

type binary struct {
	path string
	env  []string
}

func (b binary) String() string { return "binary " + filepath.Base(b.path) }

func (b binary) open(t testing.TB, kind plugin.Kind, cfg plugin.Config) plugin.Base {
	t.Helper()
	h, err := host.New(host.WithLogger(testLogger(t)))
	if err != nil {
		t.Fatalf("plugin host: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("close plugin host: %v", err)
		}
	})
	spec := host.Spec{Name: "under-test", Path: b.path, ConfigJSON: cfg, Env: b.env}
	if err := h.Load(context.Background(), []host.Spec{spec}); err != nil {
		t.Fatalf("load %s: %v", b.path, err)
	}
	var c plugin.Base
	switch kind {
	case plugin.KindBackupStore:
		c, err = h.BackupStore(spec.Name)
	case plugin.KindAlertSink:
		c, err = h.AlertSink(spec.Name)
	case plugin.KindScheduler:
		c, err = h.Scheduler(spec.Name)
	case plugin.KindTemplateSource:
		c, err = h.TemplateSource(spec.Name)
	case plugin.KindPolicy:
		c, err = h.Policy(spec.Name)
	default:
		err = fmt.Errorf("unknown kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Main is a plugin's TestMain: it builds the plugin main package pkg once
// (building is the slow part of a binary run), sets *binary to the
// executable for Binary, runs the tests and exits.
//
//	var binary string
//
//	func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }
func Main(m *testing.M, pkg string, binary *string) { os.Exit(buildAndRun(m, pkg, binary)) }

func buildAndRun(m *testing.M, pkg string, binary *string) int {
	dir, err := os.MkdirTemp("", "plugintest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "plugintest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *binary, err = BuildPlugin(dir, pkg); err != nil {
		fmt.Fprintln(os.Stderr, "plugintest:", err)
		return 1
	}
	return m.Run()
}

// BuildPlugin compiles the plugin main package pkg (an import path or a
// directory such as ".") into dir and returns the executable's path.
func BuildPlugin(dir, pkg string) (string, error) {
	out := filepath.Join(dir, "plugin-under-test")
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %w", pkg, err)
	}
	return out, nil
}

func encodeConfig(t testing.TB, cfg map[string]any) plugin.Config {
	t.Helper()
	if cfg == nil {
		return plugin.Config("{}")
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("encode config: %v", err)
	}
	return b
}

func testLogger(t testing.TB) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "plugin", Level: hclog.Warn, Output: logWriter{t}})
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
