package containerd_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sasha-s/go-deadlock"

	"catalyst.dev/agent/internal/runtime"
	"catalyst.dev/agent/internal/runtime/containerd"
	"catalyst.dev/agent/internal/runtime/network"
	"catalyst.dev/agent/testkit/lockedbuf"
	"catalyst.dev/agent/testkit/testimage"
	"catalyst.dev/agent/testkit/testruntime"
)

// One private containerd, one image (both from testruntime) and one bridge
// serve every test of the package; each test makes its own servers with
// IDs of its own.
type env struct {
	img      testimage.Image
	dir      string // scratch, as long as the env lives
	stateDir string
	bridge   network.BridgeConfig
	net      *network.Bridge // one per process, as on a node
	rt       *containerd.Runtime
	base     *testruntime.Env
	ownDir   string // the bridge's state and owner.json
}

var shared struct {
	once sync.Once
	env  *env
	err  error
}

func TestMain(m *testing.M) {
	// go-cni swaps its mutexes for go-deadlock's in race builds, whose
	// goroutine IDs are all 0 under this Go: every concurrent CNI call would
	// be reported as a recursive lock and end the test binary.
	deadlock.Opts.Disable = true
	code := testruntime.Main(m)
	if e := shared.env; e != nil {
		e.close()
	}
	os.Exit(code)
}

// setup returns the package's environment, starting it on first use. It
// skips tb (fails it under CI=true) where containerd cannot run.
func setup(tb testing.TB) *env {
	tb.Helper()
	base := testruntime.Get(tb)
	shared.once.Do(func() { shared.env, shared.err = newEnv(base) })
	if shared.err != nil {
		tb.Fatalf("test environment: %v", shared.err)
	}
	return shared.env
}

func newEnv(base *testruntime.Env) (*env, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	reapStale(ctx)
	dir, err := os.MkdirTemp("", envPrefix)
	if err != nil {
		return nil, err
	}
	e := &env{img: base.Image, dir: base.Dir, stateDir: base.StateDir, base: base, ownDir: dir}
	suffix := randomHex(3)
	e.bridge = network.BridgeConfig{
		Dir:    filepath.Join(dir, "network"),
		Name:   "catalyst-test-" + suffix,
		Bridge: "ctst" + suffix,
		Subnet: fmt.Sprintf("10.250.%d.0/24", randomByte()),
	}
	if e.net, err = network.NewBridge(e.bridge); err != nil {
		e.close()
		return nil, err
	}
	// What reapStale needs, should this process die without cleaning up.
	owner, _ := json.Marshal(envOwner{PID: os.Getpid(), Bridge: e.bridge})
	if err := os.WriteFile(filepath.Join(dir, "owner.json"), owner, 0o600); err != nil {
		e.close()
		return nil, err
	}
	if e.rt, err = e.runtime(ctx); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

const envPrefix = "catalyst-runtime-test-"

type envOwner struct {
	PID    int
	Bridge network.BridgeConfig
}

// reapStale removes the network state of environments whose test process
// died without cleaning up (their containers go with their containerd, see
// testenv): CNI teardown of every namespace left, then the bridge.
func reapStale(ctx context.Context) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), envPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner.json"))
		var owner envOwner
		if err != nil || json.Unmarshal(b, &owner) != nil || syscall.Kill(owner.PID, 0) == nil {
			continue
		}
		if br, err := network.NewBridge(owner.Bridge); err == nil {
			nss, _ := os.ReadDir(filepath.Join(owner.Bridge.Dir, "netns"))
			for _, ns := range nss {
				if n := ns.Name(); !strings.HasSuffix(n, ".ports") && !strings.HasSuffix(n, ".ready") {
					br.Detach(ctx, n)
				}
			}
		}
		exec.Command("ip", "link", "del", owner.Bridge.Bridge).Run()
		os.RemoveAll(dir)
	}
}

// runtime connects a new Runtime on the bridge to the containerd, as an
// agent (re)start would.
func (e *env) runtime(ctx context.Context, opts ...containerd.Opt) (*containerd.Runtime, error) {
	return e.base.NewRuntime(ctx, append([]containerd.Opt{containerd.WithNetwork(e.net)}, opts...)...)
}

// close runs after testruntime.Main stopped the containerd, and with it
// every container.
func (e *env) close() {
	if e.rt != nil {
		e.rt.Close()
	}
	if e.bridge.Bridge != "" {
		exec.Command("ip", "link", "del", e.bridge.Bridge).Run()
	}
	os.RemoveAll(e.ownDir)
}

// server creates a server from the test image (spec fields filled in where
// empty) and deletes it when the test ends.
func (e *env) server(t testing.TB, spec runtime.Spec) runtime.Spec {
	t.Helper()
	return e.serverOn(t, e.rt, spec)
}

// serverOn is server on another runtime, which must outlive the test's
// cleanups (close it in a t.Cleanup registered first).
func (e *env) serverOn(t testing.TB, rt *containerd.Runtime, spec runtime.Spec) runtime.Spec {
	t.Helper()
	if spec.ID == "" {
		spec.ID = "t-" + randomHex(6)
	}
	if spec.Image == "" {
		spec.Image = e.img.Ref
	}
	if spec.Volume == "" {
		spec.Volume = filepath.Join(t.TempDir(), "volume")
	}
	ctx := context.Background()
	if err := rt.Create(ctx, spec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() {
		if err := rt.Delete(context.Background(), spec.ID); err != nil {
			t.Errorf("Delete: %v", err)
		}
	})
	return spec
}

// started creates, starts and attaches to a server, waiting for its banner.
func (e *env) started(t testing.TB, spec runtime.Spec) (runtime.Spec, *output, *stdin) {
	t.Helper()
	return e.startedOn(t, e.rt, spec)
}

// startedOn is started on another runtime (see serverOn).
func (e *env) startedOn(t testing.TB, rt *containerd.Runtime, spec runtime.Spec) (runtime.Spec, *output, *stdin) {
	t.Helper()
	spec = e.serverOn(t, rt, spec)
	ctx := context.Background()
	if err := rt.Start(ctx, spec.ID); err != nil {
		t.Fatalf("Start: %v", err)
	}
	out := &output{}
	w, err := rt.Attach(ctx, spec.ID, out)
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	out.waitFor(t, testimage.BannerDone)
	return spec, out, &stdin{t: t, w: w}
}

type stdin struct {
	t testing.TB
	w interface{ Write([]byte) (int, error) }
}

func (s *stdin) send(line string) {
	s.t.Helper()
	if _, err := s.w.Write([]byte(line + "\n")); err != nil {
		s.t.Fatalf("write %q to stdin: %v", line, err)
	}
}

// waitFor waits up to 20s for s to appear in the output.
// output collects what a server prints and lets a test wait for a line.
type output struct{ lockedbuf.Buffer }

func (o *output) waitFor(t testing.TB, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !o.Contains(s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in output after 20s:\n%s", s, o.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// freePort is a port free on every address, picked below the kernel's
// ephemeral range (32768 and up by default): the DNAT rule a test's port
// mapping installs must never catch another test package's connection to
// a port-0 listener of its own.
func freePort(t testing.TB) uint16 {
	t.Helper()
	for range 200 {
		port := 20000 + mrand.IntN(12000)
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			continue
		}
		l.Close()
		return uint16(port)
	}
	t.Fatal("no free port between 20000 and 32000")
	return 0
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func randomByte() byte {
	b := make([]byte, 1)
	rand.Read(b)
	return b[0]
}
