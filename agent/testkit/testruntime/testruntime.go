// Package testruntime gives a test package one private containerd (see
// testenv) with the test image (see testimage) imported, and containerd
// runtimes on it with host networking, for tests of what sits on top of
// the runtime: the server manager, the agent API, the agent command.
//
// In the package's TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testruntime.Main(m)) }
//
// and in a test:
//
//	env := testruntime.Get(t) // skips (fails when CI=true) without containerd
//	env.Runtime.Create(ctx, runtime.Spec{Image: env.Image.Ref, …})
package testruntime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"catalyst.dev/agent/internal/runtime/containerd"
	"catalyst.dev/agent/internal/runtime/network"
	"catalyst.dev/agent/testkit/testenv"
	"catalyst.dev/agent/testkit/testimage"
)

// Env is a private containerd with the test image imported.
type Env struct {
	Containerd *testenv.Containerd
	Image      testimage.Image
	// Dir is a scratch directory that lives as long as the Env.
	Dir string
	// StateDir is the runtimes' state directory (console FIFOs).
	StateDir string
	// Runtime is connected to the containerd; tests share it.
	Runtime *containerd.Runtime
}

// The one Env of the test binary, started on first use.
var shared struct {
	once sync.Once
	env  *Env
	err  error
}

// Main runs the tests and then stops the Env, if one was started. It
// returns the exit code for os.Exit.
func Main(m *testing.M) int {
	code := m.Run()
	if e := shared.env; e != nil {
		e.close()
	}
	return code
}

// Get returns the package's Env, starting it on first use. It skips tb, or
// fails it when CI=true, where containerd cannot run.
func Get(tb testing.TB) *Env {
	tb.Helper()
	testenv.Require(tb)
	shared.once.Do(func() { shared.env, shared.err = start() })
	if shared.err != nil {
		tb.Fatalf("test runtime: %v", shared.err)
	}
	return shared.env
}

func start() (*Env, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "catalyst-testruntime-")
	if err != nil {
		return nil, err
	}
	e := &Env{Dir: dir, StateDir: filepath.Join(dir, "state")}
	if e.Image, err = testimage.Build(ctx, dir); err != nil {
		e.close()
		return nil, err
	}
	if e.Containerd, err = testenv.New(ctx); err != nil {
		e.close()
		return nil, err
	}
	if e.Runtime, err = e.NewRuntime(ctx); err != nil {
		e.close()
		return nil, err
	}
	f, err := os.Open(e.Image.Archive)
	if err != nil {
		e.close()
		return nil, err
	}
	defer f.Close()
	if _, err := e.Runtime.Import(ctx, f); err != nil {
		e.close()
		return nil, fmt.Errorf("import test image: %w", err)
	}
	return e, nil
}

// NewRuntime connects another runtime to the containerd, as a restarted
// agent would. The caller closes it.
func (e *Env) NewRuntime(ctx context.Context, opts ...containerd.Opt) (*containerd.Runtime, error) {
	opts = append([]containerd.Opt{
		containerd.WithStateDir(e.StateDir),
		containerd.WithNetwork(network.Host{}),
		containerd.WithStopGrace(time.Second),
	}, opts...)
	return containerd.New(ctx, e.Containerd.Address, opts...)
}

func (e *Env) close() {
	if e.Runtime != nil {
		e.Runtime.Close()
	}
	if e.Containerd != nil {
		if err := e.Containerd.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop containerd:", err)
		}
	}
	os.RemoveAll(e.Dir)
}
