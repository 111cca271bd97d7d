package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"catalyst.dev/agent/internal/runtime"
	"catalyst.dev/agent/internal/tunnel/tunneltest"
	"catalyst.dev/agent/testkit/lockedbuf"
	"catalyst.dev/agent/testkit/testimage"
	"catalyst.dev/agent/testkit/testruntime"
	"catalyst.dev/sdk/wire"
)

func TestMain(m *testing.M) { os.Exit(testruntime.Main(m)) }

// startAgent runs `catalyst-agent run` in the test's process and returns
// a function that stops it and checks it stopped cleanly.
func startAgent(t *testing.T, configPath string) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &lockedbuf.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--config", configPath}, logs) }()
	return func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v\n%s", err, logs)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("run did not return after cancel\n%s", logs)
		}
	}
}

func TestRunServesTheCoreAndLeavesServersRunning(t *testing.T) {
	env := testruntime.Get(t)
	core := tunneltest.Start(t, "node-1", "secret", time.Second)

	dir := t.TempDir()
	configPath := filepath.Join(dir, "agent.hcl")
	cfg := fmt.Sprintf(`core_url = %q
node_id = "node-1"
credential = "secret"
data_dir = %q
containerd {
  address = %q
}
network {
  mode = "host"
}
log {
  level = "debug"
}
stats {
  interval        = "500ms"
  health_interval = "1s"
}
`, core.URL, filepath.Join(dir, "data"), env.Containerd.Address)
	if err := os.WriteFile(configPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := imageImport(context.Background(), []string{env.Image.Archive, "--config", configPath}, &out); err != nil {
		t.Fatalf("image import: %v", err)
	}
	if strings.TrimSpace(out.String()) != testimage.Ref {
		t.Errorf("image import printed %q, want %q", out.String(), testimage.Ref)
	}

	stop := startAgent(t, configPath)
	conn := core.Accept(t)
	if !strings.HasPrefix(conn.Hello.Resources.Runtime, "containerd ") || conn.Hello.Resources.CPUCores < 1 || len(conn.Hello.Servers) != 0 {
		t.Errorf("hello = %+v", conn.Hello)
	}
	id := uuid.NewString()
	t.Cleanup(func() { env.Runtime.Delete(context.Background(), id) })
	if status, body := conn.Do(t, "PUT", wire.AgentServerPath(id, ""), wire.ServerConfig{
		Image: testimage.Ref, Env: map[string]string{"GAMESRV_TICK": "1h"}, StopCommand: "stop",
		StartupDone: []string{testimage.BannerDone},
	}); status != http.StatusNoContent {
		t.Fatalf("configure: %d %s", status, body)
	}
	if status, body := conn.Do(t, "POST", wire.AgentServerPath(id, "/power"), wire.PowerRequest{Action: wire.PowerStart}); status != http.StatusNoContent {
		t.Fatalf("start: %d %s", status, body)
	}
	conn.WaitState(t, id, wire.StateRunning)
	waitStatsAndHealth(t, conn, id)
	stop()

	// The agent is gone; its server is not.
	if st, err := env.Runtime.State(context.Background(), id); err != nil || st != runtime.StateRunning {
		t.Fatalf("server after the agent exited: %v, %v; want running", st, err)
	}

	// The next agent reports it running in its Hello and can stop it.
	stop = startAgent(t, configPath)
	defer stop()
	conn = core.Accept(t)
	if len(conn.Hello.Servers) != 1 || conn.Hello.Servers[0].ServerID != id || conn.Hello.Servers[0].State != wire.StateRunning {
		t.Fatalf("hello after restart reports %+v, want %s running", conn.Hello.Servers, id)
	}
	if status, body := conn.Do(t, "POST", wire.AgentServerPath(id, "/power"), wire.PowerRequest{Action: wire.PowerStop}); status != http.StatusAccepted {
		t.Fatalf("stop: %d %s", status, body)
	}
	conn.WaitState(t, id, wire.StateStopped)
}

// waitStatsAndHealth reads events until a resource_stats event with a
// sample of running server id and a health_report counting it came.
func waitStatsAndHealth(t *testing.T, conn *tunneltest.Conn, id string) {
	t.Helper()
	var gotStats, gotHealth bool
	for !gotStats || !gotHealth {
		env, _ := conn.Next(t)
		switch env.Type {
		case wire.EventResourceStats:
			var rs wire.ResourceStats
			if err := env.Decode(&rs); err != nil {
				t.Fatal(err)
			}
			for _, s := range rs.Servers {
				gotStats = gotStats || (s.ServerID == id && s.MemoryBytes > 0 && s.Pids > 0)
			}
		case wire.EventHealthReport:
			var h wire.NodeHealth
			if err := env.Decode(&h); err != nil {
				t.Fatal(err)
			}
			gotHealth = gotHealth || (h.Containers == 1 && h.MemoryTotalBytes > 0)
		}
	}
}
