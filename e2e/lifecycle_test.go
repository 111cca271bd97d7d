package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"catalyst.dev/agent/testkit/testimage"
)

// logs returns the server's recent console lines.
func (c *cluster) logs(id string) string {
	var out struct {
		Lines []string `json:"lines"`
	}
	c.must(http.MethodGet, "/api/servers/"+id+"/logs?lines=500", nil, &out)
	return strings.Join(out.Lines, "\n")
}

func (c *cluster) waitLog(id, want string) {
	c.t.Helper()
	c.eventually(20*time.Second, fmt.Sprintf("%q in the console of %s", want, id), func() bool {
		return strings.Contains(c.logs(id), want)
	})
}

func (c *cluster) power(id, action string) {
	c.t.Helper()
	c.must(http.MethodPost, "/api/servers/"+id+"/power", map[string]string{"action": action}, nil)
}

func (c *cluster) command(id, line string) {
	c.t.Helper()
	c.must(http.MethodPost, "/api/servers/"+id+"/command", map[string]string{"command": line}, nil)
}

// setEnv sets one of the server's template variables.
func (c *cluster) setEnv(id, name, value string) {
	c.t.Helper()
	c.must(http.MethodPatch, "/api/servers/"+id, map[string]any{"environment": map[string]string{name: value}}, nil)
}

// What gamesrv prints when it gets SIGTERM: a stop that had to fall back
// to signals.
const gotSIGTERM = "received terminated"

// createServer creates a server on the cluster's node and waits for its
// install to finish. Its restart policy is "never": a test that makes it
// crash wants it to stay crashed (TestLiveConsole tests the restarts).
func (c *cluster) createServer(name string, env map[string]string) server {
	c.t.Helper()
	return c.createServerWith(name, map[string]any{"environment": env})
}

// createServerWith creates a server with fields over the defaults and
// waits for its install.
func (c *cluster) createServerWith(name string, fields map[string]any) server {
	c.t.Helper()
	req := map[string]any{
		"name": name, "node_id": c.nodeID, "template_id": c.templateID,
		"memory_mb": 256, "cpu_percent": 100, "disk_mb": 1024,
		"restart": map[string]any{"mode": "never"},
	}
	for k, v := range fields {
		req[k] = v
	}
	var s server
	c.must(http.MethodPost, "/api/servers", req, &s)
	c.waitState(s.ID, "stopped", 60*time.Second)
	return c.server(s.ID)
}

func (c *cluster) volume(id string) string {
	return filepath.Join(c.dir, "agent-data", "volumes", id)
}

// step runs one stage of a scenario. Stages share one cluster and depend
// on each other, so they are not subtests: the first failure ends the test.
func step(t *testing.T, name string, f func()) {
	t.Helper()
	t.Logf("--- %s", name)
	f()
}

// The whole life of a server through the real binaries: install, start,
// console, port, stop, kill, crash, the agent and the core restarting
// underneath, delete.
func TestServerLifecycle(t *testing.T) {
	c := newCluster(t, clusterOptions{})
	s := c.createServer("lifecycle", nil)

	step(t, "install ran in the volume", func() {
		b, err := os.ReadFile(filepath.Join(c.volume(s.ID), "installed.txt"))
		if err != nil || !strings.Contains(string(b), "installed by gamesrv") {
			t.Fatalf("installed.txt: %q, %v", b, err)
		}
	})

	step(t, "start reaches running after the banner", func() {
		// The game holds its startup-done line until told "ready": until
		// then the server must stay starting.
		c.setEnv(s.ID, "GAMESRV_HOLD_DONE", "1")
		c.power(s.ID, "start")
		c.waitLog(s.ID, testimage.HoldingDone)
		if st := c.server(s.ID).State; st != "starting" {
			t.Fatalf("state before the startup-done line = %q, want starting", st)
		}
		c.command(s.ID, "ready")
		c.waitState(s.ID, "running", 60*time.Second)
		if logs := c.logs(s.ID); !strings.Contains(logs, testimage.BannerDone) {
			t.Fatalf("running without the banner in the console:\n%s", logs)
		}
		c.setEnv(s.ID, "GAMESRV_HOLD_DONE", "0")
	})

	step(t, "command is echoed in the console", func() {
		c.command(s.ID, "say hello-e2e")
		c.waitLog(s.ID, "> echo: say hello-e2e")
	})

	step(t, "mapped port answers on the host", func() {
		port := s.Allocations[0].Port
		got, err := dialLine(fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil || got != testimage.PortAnswer {
			t.Fatalf("127.0.0.1:%d answered %q, %v; want %q", port, got, err, testimage.PortAnswer)
		}
	})

	step(t, "a second start while running is refused", func() {
		err := c.call(http.MethodPost, "/api/servers/"+s.ID+"/power", map[string]string{"action": "start"}, nil)
		var ae *apiError
		if !errors.As(err, &ae) || ae.Status != http.StatusConflict {
			t.Fatalf("start while running: %v, want 409", err)
		}
	})

	step(t, "stop uses the stop command", func() {
		c.power(s.ID, "stop")
		c.waitState(s.ID, "stopped", 30*time.Second)
		if logs := c.logs(s.ID); !strings.Contains(logs, "Stopping the server") || strings.Contains(logs, gotSIGTERM) {
			t.Fatalf("stopped other than by the stop command reaching the game:\n%s", logs)
		}
	})

	step(t, "a crash is reported as crashed", func() {
		c.power(s.ID, "start")
		c.waitState(s.ID, "running", 60*time.Second)
		c.command(s.ID, "crash 3")
		c.waitState(s.ID, "crashed", 30*time.Second)
	})

	step(t, "kill ends a server that ignores stop", func() {
		c.setEnv(s.ID, "GAMESRV_IGNORE_STOP", "1")
		c.power(s.ID, "start")
		c.waitState(s.ID, "running", 60*time.Second)
		c.waitLog(s.ID, "ignore-stop mode")
		c.power(s.ID, "stop")
		c.waitLog(s.ID, "stop ignored")
		if st := c.server(s.ID).State; st != "stopping" {
			t.Fatalf("state after an ignored stop = %q, want stopping", st)
		}
		c.power(s.ID, "kill")
		c.waitState(s.ID, "stopped", 30*time.Second)
		// The stop's own fallback (SIGTERM after the stop timeout, then
		// SIGKILL) must not be what ended it.
		if logs := c.logs(s.ID); strings.Contains(logs, gotSIGTERM) {
			t.Fatalf("the server got SIGTERM: the stop timed out before the kill ended it:\n%s", logs)
		}
		c.setEnv(s.ID, "GAMESRV_IGNORE_STOP", "0")
	})

	step(t, "the agent restarting leaves the server running and reattaches", func() {
		c.power(s.ID, "start")
		c.waitState(s.ID, "running", 60*time.Second)
		pid := c.taskPID(s.ID)
		c.agent.kill()
		port := s.Allocations[0].Port
		if got, err := dialLine(fmt.Sprintf("127.0.0.1:%d", port)); err != nil || got != testimage.PortAnswer {
			t.Fatalf("with the agent dead, the server no longer answers: %q, %v", got, err)
		}
		c.waitOnline(false)
		c.startAgent()
		c.waitOnline(true)
		if st := c.server(s.ID).State; st != "running" {
			t.Fatalf("after the agent came back the core says %q, want running", st)
		}
		if got := c.taskPID(s.ID); got != pid {
			t.Fatalf("the server's process is %s, was %s: restarted, not reattached", got, pid)
		}
		// Commands reach the process and its output the new agent.
		c.command(s.ID, "say reattached")
		c.waitLog(s.ID, "> echo: say reattached")
	})

	step(t, "the agent reports a server that stopped while it was away", func() {
		c.agent.kill()
		// The process exits while no agent watches it.
		if out, err := ctr("task", "kill", "--signal", "SIGKILL", s.ID); err != nil {
			t.Fatalf("ctr task kill: %v\n%s", err, out)
		}
		c.eventually(10*time.Second, "the task stopped", func() bool { return c.taskPID(s.ID) == "" })
		c.startAgent()
		c.waitOnline(true)
		// Killed with no one asking: a crash.
		c.waitState(s.ID, "crashed", 20*time.Second)
	})

	step(t, "restarting the core loses nothing", func() {
		c.power(s.ID, "start")
		c.waitState(s.ID, "running", 60*time.Second)
		c.command(s.ID, "say before-core-restart")
		c.waitLog(s.ID, "> echo: say before-core-restart")
		var before, after map[string]any
		c.must(http.MethodGet, "/api/servers/"+s.ID, nil, &before)
		pid := c.taskPID(s.ID)
		c.core.stop(t)
		c.startCore()
		c.waitOnline(true) // the node's credential still works
		// The administrator's session still works, and the server is as it was.
		c.must(http.MethodGet, "/api/servers/"+s.ID, nil, &after)
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("after a core restart the server is\n%v\nwas\n%v", after, before)
		}
		if got := c.taskPID(s.ID); got != pid {
			t.Fatalf("the server's process is %s, was %s: a core restart restarted it", got, pid)
		}
		if logs := c.logs(s.ID); !strings.Contains(logs, "> echo: say before-core-restart") {
			t.Fatalf("console history lost:\n%s", logs)
		}
		c.command(s.ID, "say after-core-restart")
		c.waitLog(s.ID, "> echo: say after-core-restart")
	})

	step(t, "delete removes container, snapshot and volume", func() {
		c.must(http.MethodDelete, "/api/servers/"+s.ID, nil, nil)
		err := c.call(http.MethodGet, "/api/servers/"+s.ID, nil, nil)
		var ae *apiError
		if !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
			t.Fatalf("deleted server still answers: %v", err)
		}
		if _, err := os.Stat(c.volume(s.ID)); !os.IsNotExist(err) {
			t.Errorf("volume left behind: %v", err)
		}
		if out, _ := ctr("containers", "list", "-q"); strings.Contains(out, s.ID) {
			t.Errorf("container left behind:\n%s", out)
		}
		if out, _ := ctr("snapshots", "list"); strings.Contains(out, s.ID) {
			t.Errorf("snapshot left behind:\n%s", out)
		}
	})
}

// ctr runs containerd's own CLI against the private containerd, in the
// agent's namespace.
func ctr(args ...string) (string, error) {
	return ctrIn("catalyst", args...)
}

// taskPID is the PID of the server's running process as containerd sees
// it, or "" when none runs.
func (c *cluster) taskPID(id string) string {
	c.t.Helper()
	out, err := ctr("task", "list")
	if err != nil {
		c.t.Fatalf("ctr task list: %v\n%s", err, out)
	}
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == id && f[2] == "RUNNING" {
			return f[1]
		}
	}
	return ""
}
