package containerd_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"catalyst.dev/agent/internal/runtime"
	"catalyst.dev/agent/internal/runtime/containerd"
	"catalyst.dev/agent/internal/runtime/network"
	"catalyst.dev/agent/testkit/testimage"
)

func TestImportNamesAndUnpacksTheArchive(t *testing.T) {
	e := setup(t)
	ctx := namespaces.WithNamespace(context.Background(), e.rt.Namespace())
	img, err := e.rt.Client().GetImage(ctx, testimage.Ref)
	if err != nil {
		t.Fatalf("image %s after import: %v", testimage.Ref, err)
	}
	if ok, err := img.IsUnpacked(ctx, "overlayfs"); err != nil || !ok {
		t.Fatalf("image not unpacked into overlayfs: %v %v", ok, err)
	}
}

func TestServerLifecycle(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	port := freePort(t)
	spec, out, in := e.started(t, runtime.Spec{
		Env:    []string{fmt.Sprintf("SERVER_PORT=%d", port)},
		Ports:  []runtime.Port{{Port: port, Protocol: "tcp"}, {Port: port, Protocol: "udp"}},
		Limits: runtime.Limits{MemoryBytes: 256 << 20, CPUPercent: 100, Pids: 64},
	})

	out.waitFor(t, "gamesrv: stderr is connected")
	in.send("hello world")
	out.waitFor(t, "> echo: hello world")

	if st, err := e.rt.State(ctx, spec.ID); err != nil || st != runtime.StateRunning {
		t.Fatalf("State = %q, %v; want running", st, err)
	}
	ids, err := e.rt.List(ctx)
	if err != nil || !slices.Contains(ids, spec.ID) {
		t.Fatalf("List = %v, %v; want it to contain %s", ids, err, spec.ID)
	}

	t.Run("runs as the non-root user", func(t *testing.T) {
		in.send("whoami")
		out.waitFor(t, "uid=988 gid=988")
		cctx := namespaces.WithNamespace(ctx, e.rt.Namespace())
		ctr, err := e.rt.Client().LoadContainer(cctx, spec.ID)
		if err != nil {
			t.Fatal(err)
		}
		task, err := ctr.Task(cctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", task.Pid()))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(status), "\nUid:\t988\t988\t988\t988\n") {
			t.Errorf("the host sees the process with other uids:\n%s", status)
		}
		info, err := os.Stat(spec.Volume)
		if err != nil {
			t.Fatal(err)
		}
		if st := info.Sys().(*syscall.Stat_t); st.Uid != 988 || st.Gid != 988 {
			t.Errorf("volume owned by %d:%d, want 988:988", st.Uid, st.Gid)
		}
		in.send("write /home/container/hello.txt")
		out.waitFor(t, "write ok /home/container/hello.txt")
		if _, err := os.Stat(filepath.Join(spec.Volume, "hello.txt")); err != nil {
			t.Errorf("file written in the container is not in the volume: %v", err)
		}
	})

	t.Run("mapped port answers from the host", func(t *testing.T) {
		addrs := []string{"127.0.0.1"}
		if ip := hostAddress(); ip != "" {
			addrs = append(addrs, ip)
		}
		for _, a := range addrs {
			for _, proto := range []string{"tcp", "udp"} {
				got, err := ask(proto, net.JoinHostPort(a, fmt.Sprint(port)))
				if err != nil || got != testimage.PortAnswer {
					t.Errorf("%s %s:%d answered %q, %v; want %q", proto, a, port, got, err, testimage.PortAnswer)
				}
			}
		}
	})

	t.Run("limits reach the cgroup", func(t *testing.T) {
		pidsMax := fmt.Sprintf("/sys/fs/cgroup/pids/%s/%s/pids.max", e.rt.Namespace(), spec.ID) // v1
		if _, err := os.Stat(pidsMax); err != nil {
			pidsMax = fmt.Sprintf("/sys/fs/cgroup/%s/%s/pids.max", e.rt.Namespace(), spec.ID) // v2
		}
		b, err := os.ReadFile(pidsMax)
		if err != nil || strings.TrimSpace(string(b)) != "64" {
			t.Errorf("%s = %q, %v; want 64", pidsMax, b, err)
		}
	})

	t.Run("stats are plausible", func(t *testing.T) {
		// Every thread of the server spins; the quota holds it to one core.
		in.send("burn 1500ms")
		out.waitFor(t, "Burning CPU")
		time.Sleep(200 * time.Millisecond)
		first, err := e.rt.Stats(ctx, spec.ID)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		second, err := e.rt.Stats(ctx, spec.ID)
		if err != nil {
			t.Fatal(err)
		}
		pct := second.CPUPercent(first)
		t.Logf("stats: %+v, cpu %.1f%%", second, pct)
		if second.CPU <= first.CPU {
			t.Errorf("CPU time %v then %v while burning", first.CPU, second.CPU)
		}
		// Loose bounds: CI shares two cores with other tests.
		if pct < 5 || pct > 130 {
			t.Errorf("CPU %.1f%% while burning with a one-core limit", pct)
		}
		if second.MemoryBytes == 0 || second.MemoryBytes > 256<<20 {
			t.Errorf("memory %d bytes", second.MemoryBytes)
		}
		if second.MemoryLimitBytes != 256<<20 {
			t.Errorf("memory limit %d, want %d", second.MemoryLimitBytes, 256<<20)
		}
		if second.Pids < 1 || second.Pids > 64 {
			t.Errorf("pids %d", second.Pids)
		}
		if second.NetRxBytes == 0 || second.NetTxBytes == 0 {
			t.Errorf("network rx %d tx %d after answering connections", second.NetRxBytes, second.NetTxBytes)
		}
	})

	t.Run("stop command stops it with exit 0", func(t *testing.T) {
		if err := e.rt.Stop(ctx, spec.ID, "stop", 10*time.Second); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		exit, err := e.rt.WaitExit(ctx, spec.ID)
		if err != nil || exit.Code != 0 || exit.OOMKilled || exit.ExitedAt.IsZero() {
			t.Fatalf("WaitExit = %+v, %v; want code 0", exit, err)
		}
		out.waitFor(t, "Stopping the server")
		if st, err := e.rt.State(ctx, spec.ID); err != nil || st != runtime.StateStopped {
			t.Fatalf("State = %q, %v; want stopped", st, err)
		}
		if err := e.rt.Stop(ctx, spec.ID, "stop", time.Second); err != nil {
			t.Errorf("Stop of a stopped server: %v", err)
		}
		if _, err := e.rt.Stats(ctx, spec.ID); !errors.Is(err, runtime.ErrNotRunning) {
			t.Errorf("Stats of a stopped server: %v, want ErrNotRunning", err)
		}
	})

	t.Run("starts again", func(t *testing.T) {
		if err := e.rt.Start(ctx, spec.ID); err != nil {
			t.Fatalf("Start: %v", err)
		}
		again := &output{}
		w, err := e.rt.Attach(ctx, spec.ID, again)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		again.waitFor(t, testimage.BannerDone)
		if got, err := dialLine(fmt.Sprintf("127.0.0.1:%d", port)); err != nil || got != testimage.PortAnswer {
			t.Errorf("port after restart: %q, %v", got, err)
		}
	})
}

func TestDeleteLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	port := freePort(t)
	spec, _, _ := e.started(t, runtime.Spec{
		Env:   []string{fmt.Sprintf("SERVER_PORT=%d", port)},
		Ports: []runtime.Port{{Port: port, Protocol: "tcp"}},
	})
	netns := filepath.Join(e.bridge.Dir, "netns", spec.ID)
	if _, err := os.Stat(netns); err != nil {
		t.Fatalf("no network namespace while running: %v", err)
	}

	if err := e.rt.Delete(ctx, spec.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	cctx := namespaces.WithNamespace(ctx, e.rt.Namespace())
	cl := e.rt.Client()
	if _, err := cl.LoadContainer(cctx, spec.ID); err == nil {
		t.Error("container still exists")
	}
	if _, err := cl.TaskService().Get(cctx, &tasks.GetRequest{ContainerID: spec.ID}); err == nil {
		t.Error("task still exists")
	}
	if _, err := cl.SnapshotService("overlayfs").Stat(cctx, spec.ID); err == nil {
		t.Error("snapshot still exists")
	}
	if _, err := os.Stat(netns); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("network namespace file: %v", err)
	}
	if nat, err := exec.Command("iptables-save", "-t", "nat").Output(); err == nil && strings.Contains(string(nat), spec.ID) {
		t.Errorf("iptables still mention %s", spec.ID)
	}
	if st, err := e.rt.State(ctx, spec.ID); err != nil || st != runtime.StateAbsent {
		t.Errorf("State = %q, %v; want absent", st, err)
	}
	if _, err := os.Stat(spec.Volume); err != nil {
		t.Errorf("the volume is the caller's to remove, but: %v", err)
	}
	if err := e.rt.Delete(ctx, spec.ID); err != nil {
		t.Errorf("second Delete: %v", err)
	}
	if err := runtime.RemoveVolume(spec.Volume); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(spec.Volume); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("volume after RemoveVolume: %v", err)
	}
}

func TestExitReporting(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct {
		name    string
		limits  runtime.Limits
		command string
		code    int
		oom     bool
	}{
		{name: "crash reports its exit code", command: "crash 3", code: 3},
		{name: "oom with a small memory limit is flagged", limits: runtime.Limits{MemoryBytes: 32 << 20}, command: "oom", code: 137, oom: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec, _, in := e.started(t, runtime.Spec{Limits: tt.limits})
			in.send(tt.command)
			exit, err := e.rt.WaitExit(context.Background(), spec.ID)
			if err != nil {
				t.Fatalf("WaitExit: %v", err)
			}
			if exit.Code != tt.code || exit.OOMKilled != tt.oom {
				t.Fatalf("exit = %+v, want code %d oom %v", exit, tt.code, tt.oom)
			}
		})
	}
}

func TestServerIgnoringStop(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	ignoring := runtime.Spec{Env: []string{"GAMESRV_IGNORE_STOP=1"}}

	t.Run("Stop escalates to SIGTERM, then SIGKILL", func(t *testing.T) {
		t.Parallel()
		spec, out, _ := e.started(t, ignoring)
		start := time.Now()
		if err := e.rt.Stop(ctx, spec.ID, "stop", time.Second); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		took := time.Since(start)
		exit, err := e.rt.WaitExit(ctx, spec.ID)
		if err != nil || exit.Code != 137 {
			t.Fatalf("WaitExit = %+v, %v; want 137 (SIGKILL)", exit, err)
		}
		out.waitFor(t, "stop ignored")
		out.waitFor(t, "received terminated, ignoring it")
		// timeout (1s) plus the runtime's grace (1s) before SIGKILL
		if took < 2*time.Second {
			t.Errorf("Stop returned after %v, before the timeout and grace ran out", took)
		}
	})

	t.Run("Kill ends it at once", func(t *testing.T) {
		t.Parallel()
		spec, _, _ := e.started(t, ignoring)
		if err := e.rt.Kill(ctx, spec.ID); err != nil {
			t.Fatalf("Kill: %v", err)
		}
		exit, err := e.rt.WaitExit(ctx, spec.ID)
		if err != nil || exit.Code != 137 {
			t.Fatalf("WaitExit = %+v, %v; want 137", exit, err)
		}
		if err := e.rt.Kill(ctx, spec.ID); !errors.Is(err, runtime.ErrNotRunning) {
			t.Errorf("Kill of a stopped server: %v, want ErrNotRunning", err)
		}
	})
}

func TestReadOnlyRootfs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	spec, out, in := e.started(t, runtime.Spec{ReadOnlyRootfs: true})
	in.send("write /gamesrv-was-here")
	out.waitFor(t, "write failed /gamesrv-was-here")
	if !strings.Contains(out.String(), "read-only file system") {
		t.Errorf("write outside the volume failed for another reason:\n%s", out)
	}
	in.send("write /home/container/ok.txt")
	out.waitFor(t, "write ok /home/container/ok.txt")
	in.send("write /tmp/scratch")
	out.waitFor(t, "write ok /tmp/scratch")
	if _, err := os.Stat(filepath.Join(spec.Volume, "ok.txt")); err != nil {
		t.Errorf("volume write: %v", err)
	}
}

func TestReattachAfterAgentRestart(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()

	// The first "agent" starts the server, then goes away entirely.
	first, err := e.runtime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	spec := e.server(t, runtime.Spec{Env: []string{"GAMESRV_TICK=100ms"}})
	if err := first.Start(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	out1 := &output{}
	w1, err := first.Attach(ctx, spec.ID, out1)
	if err != nil {
		t.Fatal(err)
	}
	out1.waitFor(t, "tick 2")
	if _, err := w1.Write([]byte("before restart\n")); err != nil {
		t.Fatal(err)
	}
	out1.waitFor(t, "> echo: before restart")
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	seen := out1.String()
	time.Sleep(500 * time.Millisecond) // ticks pile up in the pipe meanwhile

	// A new "agent" process: a fresh client finds and reattaches.
	second, err := e.runtime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	ids, err := second.List(ctx)
	if err != nil || !slices.Contains(ids, spec.ID) {
		t.Fatalf("List = %v, %v", ids, err)
	}
	if st, err := second.State(ctx, spec.ID); err != nil || st != runtime.StateRunning {
		t.Fatalf("State = %q, %v", st, err)
	}
	out2 := &output{}
	w2, err := second.Attach(ctx, spec.ID, out2)
	if err != nil {
		t.Fatalf("reattach: %v", err)
	}
	defer w2.Close()
	// Output written while no agent was attached arrives first.
	lastSeen := lastTick(seen)
	out2.waitFor(t, fmt.Sprintf("tick %d\n", lastSeen+1))
	if _, err := w2.Write([]byte("after restart\n")); err != nil {
		t.Fatal(err)
	}
	out2.waitFor(t, "> echo: after restart")
	if out2.Contains("stdin closed") || out1.Contains("stdin closed") {
		t.Fatal("the server's stdin was closed when the first agent went away")
	}

	exited := make(chan runtime.ExitState, 1)
	go func() {
		st, _ := second.WaitExit(ctx, spec.ID)
		exited <- st
	}()
	if err := second.Stop(ctx, spec.ID, "stop", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if st := <-exited; st.Code != 0 {
		t.Fatalf("exit after reattach: %+v", st)
	}
}

func TestExitWhileNoAgentWatchedIsReportedToTheNext(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	spec, out, in := e.started(t, runtime.Spec{})
	in.send("crash 5")
	out.waitFor(t, "Crashing with exit code 5")
	time.Sleep(200 * time.Millisecond) // exited before anyone waits

	next, err := e.runtime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	if st, err := next.State(ctx, spec.ID); err != nil || st != runtime.StateStopped {
		t.Fatalf("State = %q, %v; want stopped", st, err)
	}
	exit, err := next.WaitExit(ctx, spec.ID)
	if err != nil || exit.Code != 5 || exit.ExitedAt.IsZero() {
		t.Fatalf("WaitExit = %+v, %v; want code 5", exit, err)
	}
	if _, err := next.Attach(ctx, spec.ID, &output{}); !errors.Is(err, runtime.ErrNotRunning) {
		t.Errorf("Attach to an exited server: %v, want ErrNotRunning", err)
	}
}

func lastTick(s string) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var k int
		if _, err := fmt.Sscanf(sc.Text(), "tick %d", &k); err == nil {
			n = k
		}
	}
	return n
}

func TestInstall(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct {
		name   string
		code   int
		script string // run as /bin/sh /mnt/install/install.sh when set
	}{
		{"successful installer", 0, ""},
		{"failing installer reports its code", 7, ""},
		{"script is mounted and run", 3, "# install\n/gamesrv install --exit 3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			volume := filepath.Join(t.TempDir(), "volume")
			out := &output{}
			spec := runtime.InstallSpec{
				ID:     "t-" + randomHex(6),
				Image:  e.img.Ref,
				Argv:   []string{"/gamesrv", "install", "--exit", fmt.Sprint(tt.code)},
				Volume: volume,
			}
			if tt.script != "" {
				spec.Argv = []string{"/bin/sh", runtime.InstallScriptPath}
				spec.Script = tt.script
			}
			code, err := e.rt.Install(ctx, spec, out)
			if err != nil {
				t.Fatalf("Install: %v", err)
			}
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			for _, s := range []string{"Installing into /mnt/server", "installer: wrote installed.txt", "Install complete"} {
				if !out.Contains(s) {
					t.Errorf("installer output lacks %q:\n%s", s, out)
				}
			}
			b, err := os.ReadFile(filepath.Join(volume, "installed.txt"))
			if err != nil || !strings.Contains(string(b), "uid 0") {
				t.Fatalf("installed.txt: %q, %v", b, err)
			}
			info, err := os.Stat(filepath.Join(volume, "config"))
			if err != nil {
				t.Fatal(err)
			}
			if st := info.Sys().(*syscall.Stat_t); st.Uid != 988 || st.Gid != 988 {
				t.Errorf("installed files owned by %d:%d, want 988:988", st.Uid, st.Gid)
			}
			ids, err := e.rt.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if strings.HasSuffix(id, "-install") {
					t.Errorf("installer container %s left behind", id)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(e.stateDir, "install", spec.ID+"*")); len(left) > 0 {
				t.Errorf("install script left behind: %v", left)
			}
		})
	}
}

func dialLine(addr string) (string, error) { return ask("tcp", addr) }

// ask connects to the test server's port (tcp) or sends it a datagram (udp)
// and returns the line it answers.
func ask(proto, addr string) (string, error) {
	c, err := net.DialTimeout(proto, addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if proto == "udp" {
		if _, err := c.Write([]byte("ping")); err != nil {
			return "", err
		}
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// hostAddress is one of this machine's own non-loopback IPv4 addresses.
func hostAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !strings.HasPrefix(n.IP.String(), "10.250.") {
			return n.IP.String()
		}
	}
	return ""
}

func TestHostNetworking(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	rt, err := e.runtime(ctx, containerd.WithNetwork(network.Host{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	port := freePort(t)
	spec, _, _ := e.startedOn(t, rt, runtime.Spec{Env: []string{fmt.Sprintf("SERVER_PORT=%d", port)}})
	if got, err := dialLine(fmt.Sprintf("127.0.0.1:%d", port)); err != nil || got != testimage.PortAnswer {
		t.Fatalf("host port %d answered %q, %v", port, got, err)
	}
	st, err := rt.Stats(ctx, spec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.NetRxBytes != 0 || st.NetTxBytes != 0 {
		t.Errorf("host networking reported per-container traffic %d/%d", st.NetRxBytes, st.NetTxBytes)
	}
}

func TestCreateRejects(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	existing := e.server(t, runtime.Spec{})
	volume := filepath.Join(t.TempDir(), "volume")
	tests := []struct {
		name string
		spec runtime.Spec
		is   error
	}{
		{name: "an ID in use", spec: runtime.Spec{ID: existing.ID, Image: e.img.Ref, Volume: volume}, is: runtime.ErrExists},
		{name: "an invalid ID", spec: runtime.Spec{ID: "no/slashes", Image: e.img.Ref, Volume: volume}},
		{name: "a relative volume", spec: runtime.Spec{ID: "t-" + randomHex(6), Image: e.img.Ref, Volume: "volume"}},
		{name: "an unknown protocol", spec: runtime.Spec{ID: "t-" + randomHex(6), Image: e.img.Ref, Volume: volume,
			Ports: []runtime.Port{{Port: 25565, Protocol: "sctp"}}}},
		{name: "an image that is nowhere", spec: runtime.Spec{ID: "t-" + randomHex(6), Image: "127.0.0.1:1/none/such:1", Volume: volume}},
	}
	for _, tt := range tests {
		err := e.rt.Create(ctx, tt.spec)
		if err == nil {
			e.rt.Delete(ctx, tt.spec.ID)
			t.Errorf("Create with %s succeeded", tt.name)
			continue
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("Create with %s: %v, want %v", tt.name, err, tt.is)
		}
	}
	if _, err := e.rt.Attach(ctx, "t-absent", &output{}); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Attach to an absent server: %v, want ErrNotFound", err)
	}
	if err := e.rt.Start(ctx, "t-absent"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Start of an absent server: %v, want ErrNotFound", err)
	}
}
