// Package testenv runs a private containerd for tests: its own root, state,
// socket and config under a short temporary directory, so that several test
// packages can each run one at the same time and none touches the node's
// real containerd.
//
// In a test:
//
//	ctd := testenv.Start(t) // skips (or fails when CI=true) without containerd/runc
//	rt, err := containerd.New(ctx, ctd.Address, …)
//
// From TestMain, where there is no *testing.T, use Available, New and Stop.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"golang.org/x/sys/unix"
)

// Binaries a private containerd needs, looked up on PATH.
var required = []string{"containerd", "containerd-shim-runc-v2", "runc"}

// Available reports why a private containerd cannot run on this machine, or
// nil when it can.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("containerd tests need root")
	}
	var missing []string
	for _, b := range required {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s on PATH (Debian: apt-get install containerd runc)", strings.Join(missing, ", "))
	}
	return nil
}

// Containerd is a running private containerd.
type Containerd struct {
	// Address is the containerd API socket.
	Address string
	// Dir holds everything the instance writes: root/, state/, the config,
	// the socket and containerd.log.
	Dir string

	cmd    *exec.Cmd
	exited chan struct{} // closed when the daemon process has exited
}

// Start starts a private containerd for tb and stops it in tb.Cleanup. When
// containerd cannot run here it skips tb, or fails it if CI=true (CI must
// run these tests, not skip them).
func Start(tb testing.TB) *Containerd {
	tb.Helper()
	Require(tb)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := New(ctx)
	if err != nil {
		tb.Fatalf("start private containerd: %v", err)
	}
	tb.Cleanup(func() {
		if err := c.Stop(); err != nil {
			tb.Errorf("stop private containerd: %v", err)
		}
	})
	return c
}

// Require skips tb, or fails it when CI=true, if containerd cannot run here.
func Require(tb testing.TB) {
	tb.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("private containerd unavailable in CI: %v", err)
		}
		tb.Skipf("private containerd unavailable: %v", err)
	}
}

// New starts a private containerd and waits until it serves its API. The
// caller must call Stop. Instances left by test processes that died without
// cleaning up are removed first.
func New(ctx context.Context) (*Containerd, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	reapStale(ctx)
	// Unix socket paths must stay under 108 bytes: keep the directory short
	// and directly under /tmp whatever TMPDIR says.
	dir, err := os.MkdirTemp("/tmp", dirPrefix)
	if err != nil {
		return nil, err
	}
	c := &Containerd{Address: filepath.Join(dir, "c.sock"), Dir: dir}
	err = os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600)
	if err == nil {
		err = os.WriteFile(c.config(), []byte(configFile(dir, c.Address)), 0o600)
	}
	if err == nil {
		err = c.start(ctx)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

const (
	dirPrefix = "ctd-"
	ownerFile = "owner" // the pid of the test process that owns the instance
)

func (c *Containerd) config() string { return filepath.Join(c.Dir, "config.toml") }

// start runs the daemon on the instance's config and waits for its API.
func (c *Containerd) start(ctx context.Context) error {
	logf, err := os.OpenFile(filepath.Join(c.Dir, "containerd.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	c.exited = make(chan struct{})
	c.cmd = exec.Command("containerd", "--config", c.config())
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// Should the test binary die (a timeout panic), take the daemon with it.
		Pdeathsig: syscall.SIGKILL,
	}

	// Pdeathsig fires when the thread that forked exits, not the process:
	// fork from a locked thread that lives exactly as long as the daemon.
	started := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		defer close(c.exited)
		defer logf.Close()
		if err := c.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = c.cmd.Wait()
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start containerd: %w", err)
	}
	if err := c.waitServing(ctx); err != nil {
		c.Stop()
		return err
	}
	return nil
}

// reapStale removes instances whose owning test process is gone (killed by
// a test timeout, say): it restarts the daemon on the instance's own state
// so that Stop can remove its containers through the API, as it would have.
func reapStale(ctx context.Context) {
	dirs, _ := filepath.Glob(filepath.Join("/tmp", dirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or an instance still being set up
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil || syscall.Kill(pid, 0) == nil {
			continue // its owner lives
		}
		c := &Containerd{Address: filepath.Join(dir, "c.sock"), Dir: dir}
		// A daemon that outlived its owner would hold the metadata lock.
		killProcs(func(args []string) bool {
			return strings.HasSuffix(args[0], "containerd") && slices.Contains(args, c.config())
		})
		os.Remove(c.Address)
		if err := c.start(ctx); err != nil {
			killShims(c.Address)
			unmountUnder(dir)
			os.RemoveAll(dir)
			continue
		}
		c.Stop()
	}
}

func (c *Containerd) waitServing(ctx context.Context) error {
	for {
		if _, err := os.Stat(c.Address); err == nil {
			cl, err := client.New(c.Address, client.WithTimeout(5*time.Second))
			if err == nil {
				ok, err := cl.IsServing(ctx)
				cl.Close()
				if ok && err == nil {
					return nil
				}
			}
		}
		select {
		case <-c.exited:
			return fmt.Errorf("containerd exited during start:\n%s", c.Log())
		case <-ctx.Done():
			return fmt.Errorf("containerd did not serve %s: %w\n%s", c.Address, ctx.Err(), c.Log())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Log returns the tail of the daemon's log, for failure messages.
func (c *Containerd) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "containerd.log"))
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}

// Stop removes every task and container still in the instance (in every
// namespace), stops the daemon (its process group: TERM, then KILL), ends
// leftover shims, unmounts what is left under Dir and removes Dir.
func (c *Containerd) Stop() error {
	var errs []error
	nss, err := c.removeAll()
	if err != nil {
		errs = append(errs, err)
	}
	pgid := c.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-c.exited
	}
	// Shims run in process groups of their own so that they outlive a
	// daemon restart; end the ones that served this instance.
	killShims(c.Address)
	removeCgroupParents(nss)
	if err := unmountUnder(c.Dir); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeAll returns the namespaces it found.
func (c *Containerd) removeAll() ([]string, error) {
	select {
	case <-c.exited:
		return nil, nil
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := client.New(c.Address)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	nss, err := cl.NamespaceService().List(ctx)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, ns := range nss {
		nctx := namespaces.WithNamespace(ctx, ns)
		containers, err := cl.Containers(nctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, ctr := range containers {
			if task, err := ctr.Task(nctx, nil); err == nil {
				if st, err := task.Status(nctx); err == nil && st.Status != client.Stopped {
					if wait, err := task.Wait(nctx); err == nil {
						_ = task.Kill(nctx, syscall.SIGKILL, client.WithKillAll)
						select {
						case <-wait:
						case <-time.After(10 * time.Second):
						}
					}
				}
				if _, err := task.Delete(nctx, client.WithProcessKill); err != nil {
					errs = append(errs, fmt.Errorf("delete task %s/%s: %w", ns, ctr.ID(), err))
				}
			}
			if err := ctr.Delete(nctx, client.WithSnapshotCleanup); err != nil {
				errs = append(errs, fmt.Errorf("delete container %s/%s: %w", ns, ctr.ID(), err))
			}
		}
	}
	return nss, errors.Join(errs...)
}

// removeCgroupParents removes the per-namespace parent cgroups runc leaves
// (/<namespace> in every hierarchy) once they are empty; a parent another
// instance still uses is not empty, and rmdir leaves it.
func removeCgroupParents(nss []string) {
	for _, ns := range nss {
		dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", ns))
		dirs = append(dirs, filepath.Join("/sys/fs/cgroup", ns))
		for _, d := range dirs {
			_ = unix.Rmdir(d)
		}
	}
}

// killShims SIGKILLs every containerd-shim serving address.
func killShims(address string) {
	killProcs(func(args []string) bool {
		return strings.Contains(args[0], "containerd-shim") && slices.Contains(args, address)
	})
}

// killProcs SIGKILLs every process whose argument list match accepts.
func killProcs(match func(args []string) bool) {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			continue
		}
		if !match(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// unmountUnder lazily unmounts every mount point below dir, deepest first,
// so that RemoveAll never walks into a mounted file system.
func unmountUnder(dir string) error {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	var errs []error
	for _, p := range points {
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// configFile is a containerd 1.6+ (config version 2) configuration that keeps
// every path under dir. The CRI plugin is off: Catalyst drives containerd
// through its own client, which picks the io.containerd.runc.v2 runtime and
// the cgroupfs driver (runc's default, and what this kind of machine — no
// systemd as init — has).
func configFile(dir, address string) string {
	return fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.internal.v1.restart",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = %[3]q

[ttrpc]
  address = %[4]q

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = %[5]q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), address, address+".ttrpc", filepath.Join(dir, "opt"))
}
