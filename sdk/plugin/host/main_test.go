package host_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/plugin/host"
)

// testPlugin is the SDK's test plugin, built once for this test binary.
var testPlugin string

func TestMain(m *testing.M) {
	if os.Getenv("CATALYST_HELPER_HOST") != "" {
		os.Exit(helperHost())
	}
	dir, err := os.MkdirTemp("", "sdk-host-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testPlugin = filepath.Join(dir, "testplugin")
	build := exec.Command("go", "build", "-o", testPlugin, "catalyst.dev/sdk/internal/testplugins/cmd/testplugin")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build test plugin:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// helperHost runs a host with one plugin, prints the plugin's pid and
// waits to be killed: the test of what a host's death leaves behind.
func helperHost() int {
	// SIGKILL leaves no chance to remove the socket directory: keep it
	// in the test's temp dir.
	h, err := host.New(host.WithSocketDir(os.Getenv("CATALYST_HELPER_DIR")))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	spec := host.Spec{Name: "store", Path: os.Getenv("CATALYST_HELPER_PLUGIN"),
		ConfigJSON: []byte(fmt.Sprintf(`{"dir": %q}`, os.Getenv("CATALYST_HELPER_DIR")))}
	if err := h.Load(context.Background(), []host.Spec{spec}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(h.Status()[0].PID)
	time.Sleep(time.Hour)
	return 0
}

func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Level: hclog.Warn, Output: testWriter{t}})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// newHost returns a host that checks health quickly and restarts without
// much delay, closed when the test ends.
func newHost(t *testing.T, opts ...host.Option) *host.Host {
	t.Helper()
	opts = append([]host.Option{
		host.WithLogger(testLogger(t)),
		host.WithHealthCheck(200*time.Millisecond, time.Second),
		host.WithBackoff(50*time.Millisecond, time.Second, time.Minute),
	}, opts...)
	h, err := host.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Error(err)
		}
	})
	return h
}

// storeSpec declares the test plugin as a directory store in a fresh dir.
func storeSpec(t *testing.T, name string) host.Spec {
	return host.Spec{Name: name, Path: testPlugin, ConfigJSON: []byte(fmt.Sprintf(`{"dir": %q}`, t.TempDir()))}
}

// processGone reports whether pid has exited (a zombie counts as exited:
// nobody may be left to reap a re-parented plugin in a container).
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name.
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ')' && i+2 < len(b) {
			return b[i+2] == 'Z' || b[i+2] == 'X'
		}
	}
	return false
}

func waitGone(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("plugin process %d still running after %s", pid, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
