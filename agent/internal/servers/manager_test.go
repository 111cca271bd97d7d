package servers_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"catalyst.dev/agent/internal/runtime"
	"catalyst.dev/agent/internal/servers"
	"catalyst.dev/agent/testkit/testimage"
	"catalyst.dev/sdk/wire"
)

func TestStartCommandStop(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, "")
	ctx := context.Background()
	cfg := h.started(h.config(nil))
	h.waitLine(cfg.ID, testimage.BannerStart)

	h.command(cfg.ID, "hello there")
	h.waitLine(cfg.ID, "> echo: hello there")

	if st, err := h.m.State(ctx, cfg.ID); err != nil || st.State != wire.StateRunning {
		t.Fatalf("State = %+v, %v; want running", st, err)
	}
	if err := h.m.Power(ctx, cfg.ID, wire.PowerStart); !errors.Is(err, servers.ErrConflict) {
		t.Errorf("start while running: %v, want ErrConflict", err)
	}
	if n := h.m.Running(); n < 1 {
		t.Errorf("Running() = %d", n)
	}

	h.power(cfg.ID, wire.PowerStop)
	h.expectStates(cfg.ID, wire.StateStopping)
	st := h.expectStates(cfg.ID, wire.StateStopped)
	if st.ExitCode == nil || *st.ExitCode != 0 {
		t.Errorf("stopped with exit code %v, want 0", st.ExitCode)
	}
	h.waitLine(cfg.ID, "Stopping the server") // the game got the stop command
	if err := h.m.Command(ctx, cfg.ID, "hello"); !errors.Is(err, servers.ErrNotRunning) {
		t.Errorf("command to a stopped server: %v, want ErrNotRunning", err)
	}
	if st, err := h.m.State(ctx, cfg.ID); err != nil || st.State != wire.StateStopped {
		t.Fatalf("State = %+v, %v; want stopped", st, err)
	}

	// Restart from stopped just starts it again, from the same container.
	h.power(cfg.ID, wire.PowerRestart)
	h.expectStates(cfg.ID, wire.StateStarting, wire.StateRunning)
}

func TestUnaskedExitsAndKill(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      map[string]string
		memoryMB int64
		action   func(h *harness, id string)
		want     []string
		wantCode int
		wantOOM  bool
	}{
		{
			name:     "crash reports the exit code",
			action:   func(h *harness, id string) { h.command(id, "crash 3") },
			want:     []string{wire.StateCrashed},
			wantCode: 3,
		},
		{
			name:     "an OOM kill is reported as such",
			memoryMB: 32,
			action:   func(h *harness, id string) { h.command(id, "oom") },
			want:     []string{wire.StateCrashed},
			wantCode: 137,
			wantOOM:  true,
		},
		{
			name: "kill ends a server that ignores stop",
			env:  map[string]string{"GAMESRV_IGNORE_STOP": "1"},
			action: func(h *harness, id string) {
				h.power(id, wire.PowerStop)
				h.waitLine(id, "stop ignored")
				h.power(id, wire.PowerKill) // returns once the exit is reported
			},
			want:     []string{wire.StateStopping, wire.StateStopped},
			wantCode: 137,
		},
		{
			name:     "typing the stop command is a stop, not a crash",
			action:   func(h *harness, id string) { h.command(id, "stop") },
			want:     []string{wire.StateStopping, wire.StateStopped},
			wantCode: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil, "")
			cfg := h.config(tt.env)
			if tt.memoryMB != 0 {
				cfg.MemoryMB = tt.memoryMB
			}
			cfg = h.started(cfg)
			tt.action(h, cfg.ID)
			st := h.expectStates(cfg.ID, tt.want...)
			if st.ExitCode == nil || *st.ExitCode != tt.wantCode || st.OOMKilled != tt.wantOOM {
				t.Errorf("final state %+v, want code %d, oom %v", st, tt.wantCode, tt.wantOOM)
			}
			if st.State == wire.StateCrashed && !strings.Contains(st.Reason, "code") {
				t.Errorf("crash reason %q does not name the exit code", st.Reason)
			}
		})
	}
}

func TestInstall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		script     string
		want       string
		wantReason string
		wantFile   bool
	}{
		{"script installs into the volume", "/gamesrv install\n", wire.StateStopped, "", true},
		{"failing script is install_failed", "/gamesrv install --exit 3\n", wire.StateInstallFailed, "code 3", true},
		{"no script is stopped at once", "", wire.StateStopped, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil, "")
			ctx := context.Background()
			cfg := h.config(nil)
			h.cleanup(cfg.ID)
			err := h.m.Install(ctx, wire.InstallRequest{Config: cfg, Entrypoint: "/bin/sh", Script: tt.script})
			if err != nil {
				t.Fatalf("Install: %v", err)
			}
			st := h.expectStates(cfg.ID, wire.StateInstalling, tt.want)
			if !strings.Contains(st.Reason, tt.wantReason) {
				t.Errorf("reason %q, want it to mention %q", st.Reason, tt.wantReason)
			}
			volume := filepath.Join(h.dir, "volumes", cfg.ID)
			_, err = os.Stat(filepath.Join(volume, "installed.txt"))
			if tt.wantFile != (err == nil) {
				t.Errorf("installed.txt in the volume: %v, want present=%v", err, tt.wantFile)
			}
			if tt.script == "" {
				return
			}
			h.pub.mu.Lock()
			progress := slices.Clone(h.pub.inst[cfg.ID])
			h.pub.mu.Unlock()
			if !slices.Contains(progress, "Installing into /mnt/server") {
				t.Errorf("install progress lacks the installer's output: %q", progress)
			}
			log, err := os.ReadFile(filepath.Join(h.dir, "logs", cfg.ID+"-install.log"))
			if err != nil || !strings.Contains(string(log), "Install complete") {
				t.Errorf("install log: %q, %v", log, err)
			}
			if tt.want != wire.StateStopped {
				return
			}
			// The installed server starts from the container the install made.
			h.power(cfg.ID, wire.PowerStart)
			h.expectStates(cfg.ID, wire.StateStarting, wire.StateRunning)
		})
	}
}

// A new agent (Manager and runtime) on the same data directory finds a
// running server, reattaches its console and reports its later exit.
func TestRestoreReattaches(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := newHarness(t, nil, dir)
	cfg := first.started(first.config(nil))
	first.m.Close()

	ctx := context.Background()
	rt, err := first.env.NewRuntime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	second := newHarness(t, rt, dir)
	if err := second.m.Restore(ctx); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	states, err := second.m.States(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].ServerID != cfg.ID || states[0].State != wire.StateRunning {
		t.Fatalf("States after restore = %+v, want %s running", states, cfg.ID)
	}
	second.expectStates(cfg.ID, wire.StateRunning)
	second.command(cfg.ID, "crash 5")
	second.waitLine(cfg.ID, "> echo: crash 5")
	st := second.expectStates(cfg.ID, wire.StateCrashed)
	if st.ExitCode == nil || *st.ExitCode != 5 {
		t.Errorf("crashed with %v, want code 5", st.ExitCode)
	}

	// A third agent finds the crash in containerd.
	third := newHarness(t, rt, dir)
	third.cleanup(cfg.ID)
	if err := third.m.Restore(ctx); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if st := third.expectStates(cfg.ID, wire.StateCrashed); st.ExitCode == nil || *st.ExitCode != 5 {
		t.Errorf("restored crash %+v, want code 5", st)
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, "")
	ctx := context.Background()
	good := h.config(nil)
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"id not a UUID", func() error { c := good; c.ID = "../etc"; return h.m.Configure(ctx, c) }, servers.ErrInvalid},
		{"no image", func() error { c := good; c.Image = ""; return h.m.Configure(ctx, c) }, servers.ErrInvalid},
		{"port out of range", func() error { c := good; c.Ports = []wire.Port{{Port: 70000}}; return h.m.Configure(ctx, c) }, servers.ErrInvalid},
		{"negative memory", func() error { c := good; c.MemoryMB = -1; return h.m.Configure(ctx, c) }, servers.ErrInvalid},
		{"unknown power action", func() error { return h.m.Power(ctx, h.configured(h.config(nil)).ID, "explode") }, servers.ErrInvalid},
		{"unknown server", func() error { return h.m.Power(ctx, uuid.NewString(), wire.PowerStart) }, servers.ErrNotFound},
		{"command to unknown server", func() error { return h.m.Command(ctx, uuid.NewString(), "x") }, servers.ErrNotFound},
		{"deleting an unknown server succeeds", func() error { return h.m.Delete(ctx, uuid.NewString()) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDeleteRemovesEverything(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, "")
	ctx := context.Background()
	cfg := h.started(h.config(nil))
	h.waitLine(cfg.ID, testimage.BannerDone)
	if _, err := os.Stat(filepath.Join(h.dir, "logs", cfg.ID+".log")); err != nil {
		t.Fatalf("no console log: %v", err)
	}
	volume := filepath.Join(h.dir, "volumes", cfg.ID)
	if err := os.WriteFile(filepath.Join(volume, "world.dat"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Delete(ctx, cfg.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if st, err := h.env.Runtime.State(ctx, cfg.ID); err != nil || st != runtime.StateAbsent {
		t.Errorf("runtime state after delete: %v, %v", st, err)
	}
	for _, p := range []string{volume, filepath.Join(h.dir, "servers", cfg.ID+".json"), filepath.Join(h.dir, "logs", cfg.ID+".log")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	if _, err := h.m.State(ctx, cfg.ID); !errors.Is(err, servers.ErrNotFound) {
		t.Errorf("State after delete: %v, want ErrNotFound", err)
	}
}
