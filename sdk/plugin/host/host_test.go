package host_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugin/host"
)

// startStore runs the test store in a fresh host, holding one object "k",
// and returns the host, the store and the plugin's pid.
func startStore(t *testing.T) (*host.Host, plugin.BackupStore, int) {
	t.Helper()
	h := newHost(t)
	if err := h.Load(context.Background(), []host.Spec{storeSpec(t, "store")}); err != nil {
		t.Fatal(err)
	}
	s, err := h.BackupStore("store")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), "k", strings.NewReader("v"), nil); err != nil {
		t.Fatal(err)
	}
	return h, s, h.Status()[0].PID
}

func TestLoadFromHCLAndCall(t *testing.T) {
	dir := t.TempDir()
	src := fmt.Sprintf(`
plugin_dir = %q
plugin "backups" {
  path = "testplugin"
  sha256 = %q
  config {
    dir    = %q
    tags   = ["a", "b"]
    labels = { region = "eu" }
    fsync  = true
  }
}
`, filepath.Dir(testPlugin), mustSHA256(t, testPlugin), dir)
	f, err := host.Parse("plugins.hcl", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := newHost(t, host.WithPluginDir(f.PluginDir))
	if err := h.Load(context.Background(), f.Plugins); err != nil {
		t.Fatal(err)
	}
	store, err := h.BackupStore("backups")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := store.Put(ctx, "a/b", strings.NewReader("hello"), map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	rc, info, err := store.Get(ctx, "a/b")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "hello" || info.Size != 5 || info.Metadata["k"] != "v" {
		t.Fatalf("got %q %+v", got, info)
	}

	st := h.Status()
	if len(st) != 1 {
		t.Fatalf("status: %+v", st)
	}
	s := st[0]
	if s.Name != "backups" || s.Kind != plugin.KindBackupStore || s.Version != "0.0.1" ||
		s.APIVersion != "v1" || s.Health != host.HealthHealthy || s.PID == 0 || s.Restarts != 0 {
		t.Fatalf("status: %+v", s)
	}
	if _, err := h.AlertSink("backups"); err == nil {
		t.Fatal("a backup store was handed out as an alert sink")
	}
	if _, err := h.BackupStore("nope"); !errors.Is(err, host.ErrUnknownPlugin) {
		t.Fatalf("unknown plugin: %v", err)
	}
}

func TestKill9RestartsPluginAndNextCallSucceeds(t *testing.T) {
	h, store, pid := startStore(t)
	ctx := context.Background()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid, 5*time.Second)

	// Data lives in the directory, so the restarted plugin sees it.
	if _, err := store.Stat(ctx, "k"); err != nil {
		t.Fatalf("first call after kill -9: %v", err)
	}
	s := h.Status()[0]
	if s.PID == pid || s.PID == 0 || s.Restarts != 1 || s.Health != host.HealthHealthy {
		t.Fatalf("status after restart: %+v", s)
	}
}

func TestConcurrentCallersShareOneRestart(t *testing.T) {
	h, store, pid := startStore(t)
	ctx := context.Background()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			if _, err := store.Stat(ctx, "k"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("call during restart: %v", err)
	}
	if s := h.Status()[0]; s.Restarts != 1 {
		t.Fatalf("want exactly one restart, got %+v", s)
	}
}

func TestCallInFlightWhenPluginDiesIsRetriedOnce(t *testing.T) {
	_, store, pid := startStore(t)
	ctx := context.Background()
	// Stop the plugin so the call is certainly in flight when it dies.
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := store.List(ctx, "")
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("idempotent call across a crash: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("call did not return")
	}
}

func TestHungPluginIsRestartedByHealthChecks(t *testing.T) {
	h, _, pid := startStore(t)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := h.Status()[0]
		if s.Restarts == 1 && s.Health == host.HealthHealthy && s.PID != pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hung plugin not restarted: %+v", s)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitGone(t, pid, 5*time.Second)
}

func TestWrongSHA256IsRefused(t *testing.T) {
	h := newHost(t)
	spec := storeSpec(t, "pinned")
	spec.SHA256 = strings.Repeat("ab", 32)
	err := h.Load(context.Background(), []host.Spec{spec})
	if !errors.Is(err, host.ErrChecksumMismatch) {
		t.Fatalf("want checksum mismatch, got %v", err)
	}
	actual := mustSHA256(t, testPlugin)
	for _, want := range []string{`"pinned"`, spec.SHA256, actual, testPlugin} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if len(h.Status()) != 0 {
		t.Fatalf("refused plugin is listed: %+v", h.Status())
	}
}

func TestConfigProblemsAreDiagnosticsWithFileAndLine(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		summary string
		line    int
	}{
		{"unknown key", `dir = "/tmp/x"
    bukket = "b"`, "Unsupported argument", 6},
		{"missing required key", `fsync = true`, "Missing required argument", 4},
		{"wrong type", `dir = "/tmp/x"
    fsync = ["yes"]`, "Incorrect attribute value type", 6},
		{"wrong element type", `dir = "/tmp/x"
    tags = [["nested"]]`, "Incorrect attribute value type", 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fmt.Sprintf(`
plugin "store" {
  path = %q
  config {
    %s
  }
}
`, testPlugin, tt.config)
			f, err := host.Parse("plugins.hcl", []byte(src), nil)
			if err != nil {
				t.Fatal(err)
			}
			h := newHost(t)
			err = h.Load(context.Background(), f.Plugins)
			var de *host.DiagnosticsError
			if !errors.As(err, &de) {
				t.Fatalf("want *DiagnosticsError, got %v", err)
			}
			d := de.Diags[0]
			if !strings.Contains(d.Summary, tt.summary) || d.Subject == nil ||
				d.Subject.Filename != "plugins.hcl" || d.Subject.Start.Line != tt.line {
				t.Fatalf("diagnostic %q at %v, want %q at plugins.hcl:%d", d.Summary, d.Subject, tt.summary, tt.line)
			}
			if want := fmt.Sprintf("plugins.hcl:%d:", tt.line); !strings.Contains(err.Error(), want) {
				t.Fatalf("message %q lacks %s", err, want)
			}
			if len(h.Status()) != 0 {
				t.Fatal("a misconfigured plugin was left running")
			}
		})
	}
}

func TestPluginBlockProblemsAreDiagnostics(t *testing.T) {
	src := `
plugin "a" {
  path = "x"
  sha256 = "nothex"
  colour = "red"
}
plugin "a" {
  path = "y"
}
`
	_, err := host.Parse("plugins.hcl", []byte(src), nil)
	var de *host.DiagnosticsError
	if !errors.As(err, &de) {
		t.Fatalf("want diagnostics, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"plugins.hcl:4:", "Invalid sha256", "plugins.hcl:5:", "Unsupported argument", "plugins.hcl:7:", "Duplicate plugin"} {
		if !strings.Contains(msg, want) {
			t.Errorf("diagnostics %q lack %q", msg, want)
		}
	}
}

func TestPanicInPluginBecomesInternalError(t *testing.T) {
	h, store, _ := startStore(t)
	ctx := context.Background()
	_, err := store.Stat(ctx, "panic")
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("want Internal error, got %v", err)
	}
	if _, err := store.Stat(ctx, "missing"); !errors.Is(err, plugin.ErrNotFound) {
		t.Fatalf("plugin unusable after a panic: %v", err)
	}
	if s := h.Status()[0]; s.Restarts != 0 {
		t.Fatalf("a panic restarted the plugin: %+v", s)
	}
}

// Unavailable is also how a call to a dead process fails; from a live
// plugin it is the answer, passed on without restarting the plugin.
func TestPluginsOwnUnavailableIsPassedOn(t *testing.T) {
	h, store, pid := startStore(t)
	for range 3 {
		if _, err := store.Stat(context.Background(), "unavailable"); !errors.Is(err, plugin.ErrUnavailable) {
			t.Fatalf("want ErrUnavailable, got %v", err)
		}
	}
	if s := h.Status()[0]; s.Restarts != 0 || s.PID != pid {
		t.Fatalf("an Unavailable answer restarted the plugin: %+v", s)
	}
}

func TestCloseLeavesNoPluginProcess(t *testing.T) {
	h, err := host.New(host.WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Load(context.Background(), []host.Spec{storeSpec(t, "a"), storeSpec(t, "b")}); err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, s := range h.Status() {
		pids = append(pids, s.PID)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		waitGone(t, pid, 5*time.Second)
	}
}

func TestHostKilledBySIGKILLLeavesNoPluginProcess(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(),
		"CATALYST_HELPER_HOST=1",
		"CATALYST_HELPER_PLUGIN="+testPlugin,
		"CATALYST_HELPER_DIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper host: %v: %s", err, stderr.String())
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || processGone(pid) {
		t.Fatalf("helper host reported plugin pid %q", line)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitGone(t, pid, 5*time.Second)
}

func TestUnixSocketPathsStayShort(t *testing.T) {
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 90))
	if err := os.MkdirAll(long, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", long) // a host with a long TMPDIR must still work
	_, store, _ := startStore(t)
	if _, err := store.List(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
}

func mustSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// The plugin's own watch on its parent ends it even where the kernel's
// parent-death signal is not set (other platforms, other hosts): here the
// parent is a shell killed with SIGKILL.
func TestPluginExitsWhenItsParentDies(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	sh := exec.Command("sh", "-c", `"$0" >/dev/null 2>&1 & echo $! > "$1"; sleep 60`, testPlugin, pidFile)
	sh.Env = append(os.Environ(),
		plugin.Handshake.MagicCookieKey+"="+plugin.Handshake.MagicCookieValue,
		"PLUGIN_PROTOCOL_VERSIONS=1")
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	deadline := time.Now().Add(5 * time.Second)
	for pid == 0 {
		if b, err := os.ReadFile(pidFile); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if time.Now().After(deadline) {
			_ = sh.Process.Kill()
			t.Fatal("shell did not start the plugin")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let the plugin reach Serve
	if err := sh.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = sh.Wait()
	waitGone(t, pid, 5*time.Second)
}

// Start, as the core and the agent call it, renders a config block that
// does not fit with the configuration's own excerpt, and leaves nothing
// running.
func TestStartRendersConfigProblemsWithExcerpts(t *testing.T) {
	src := fmt.Sprintf(`
plugin "store" {
  path = %q
  config {
    fsync = true
  }
}
`, testPlugin)
	parser := hclparse.NewParser()
	f, diags := parser.ParseHCL([]byte(src), "plugins.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var cfg struct {
		Plugins []host.Block `hcl:"plugin,block"`
	}
	if diags := gohcl.DecodeBody(f.Body, nil, &cfg); diags.HasErrors() {
		t.Fatal(diags)
	}
	specs, diags := host.DecodeBlocks(cfg.Plugins, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	h, err := host.Start(context.Background(), specs, parser.Files(), host.WithLogger(testLogger(t)))
	if err == nil {
		h.Close()
		t.Fatal("a plugin missing its required dir started")
	}
	for _, want := range []string{"invalid plugin configuration", "plugins.hcl:4:", "  config {\n"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q lacks %q", err, want)
		}
	}
	var de *host.DiagnosticsError
	if !errors.As(err, &de) || de.Files == nil {
		t.Fatalf("error %v is not a DiagnosticsError with the files", err)
	}
}
