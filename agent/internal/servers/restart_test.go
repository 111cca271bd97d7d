package servers_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"catalyst.dev/sdk/wire"
)

func TestRestartPolicy(t *testing.T) {
	t.Parallel()
	// Small timings keep the test short; the window is long enough that
	// every exit of the test falls into it.
	policy := func(mode string, max int) wire.RestartPolicy {
		return wire.RestartPolicy{Mode: mode, MaxRestarts: max, Window: wire.Duration(10 * time.Minute),
			Backoff: wire.Duration(10 * time.Millisecond), MaxBackoff: wire.Duration(40 * time.Millisecond)}
	}
	cleanIsCrash := policy(wire.RestartOnCrash, 1)
	cleanIsCrash.CleanExitIsCrash = true
	tests := []struct {
		name   string
		code   int
		policy wire.RestartPolicy
		// exitState is how each exit is reported; restarts how many
		// restarts follow before the crash loop (0: none, and no loop).
		exitState string
		restarts  int
	}{
		{"on_crash restarts exit code 3 until the 6th crash is a crash loop", 3, policy(wire.RestartOnCrash, 5), wire.StateCrashed, 5},
		{"the default policy allows 5 restarts", 3, wire.RestartPolicy{Backoff: wire.Duration(10 * time.Millisecond)}, wire.StateCrashed, 5},
		{"never leaves a crash crashed", 3, policy(wire.RestartNever, 5), wire.StateCrashed, 0},
		{"on_crash leaves a clean exit stopped", 0, policy(wire.RestartOnCrash, 5), wire.StateStopped, 0},
		{"always restarts a clean exit too", 0, policy(wire.RestartAlways, 2), wire.StateStopped, 2},
		{"a clean exit counts as a crash when the policy says so", 0, cleanIsCrash, wire.StateCrashed, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil, "")
			cfg := h.config(map[string]string{"GAMESRV_EXIT_AFTER": "300ms", "GAMESRV_EXIT_CODE": strconv.Itoa(tt.code)})
			cfg.Restart = tt.policy
			cfg = h.started(cfg)

			var want []string
			for i := range tt.restarts + 1 {
				want = append(want, tt.exitState)
				if i < tt.restarts {
					want = append(want, wire.StateStarting, wire.StateRunning)
				}
			}
			if tt.restarts > 0 {
				want = append(want, wire.StateCrashed)
			}
			last := h.expectStates(cfg.ID, want...)
			// The state lock is held from an exit's report to the policy's
			// decision: once State answers, every message of it is out.
			if _, err := h.m.State(context.Background(), cfg.ID); err != nil {
				t.Fatal(err)
			}
			if tt.restarts > 0 && (!last.CrashLoop || !strings.Contains(last.Reason, fmt.Sprintf("%d times within 10m0s", tt.restarts+1))) {
				t.Errorf("final state %+v, want a crash loop after %d exits", last, tt.restarts+1)
			}
			if tt.restarts == 0 && last.CrashLoop {
				t.Errorf("final state %+v is a crash loop", last)
			}
			if code := last.ExitCode; code == nil || *code != tt.code {
				t.Errorf("final state %+v, want exit code %d", last, tt.code)
			}

			h.pub.mu.Lock()
			msgs := h.pub.msgs[cfg.ID]
			h.pub.mu.Unlock()
			var restarting, loops int
			for _, m := range msgs {
				switch {
				case m.Level == wire.LevelWarning && strings.Contains(m.Message, "restarting in"):
					restarting++
					if !strings.Contains(m.Message, fmt.Sprintf("(restart %d of %d within 10m0s)", restarting, tt.restarts)) {
						t.Errorf("restart message %q does not count restart %d of %d", m.Message, restarting, tt.restarts)
					}
				case m.Level == wire.LevelError && strings.Contains(m.Message, "restart policy gives up"):
					loops++
				default:
					t.Errorf("unexpected message %+v", m)
				}
			}
			if restarting != tt.restarts || loops != min(tt.restarts, 1) {
				t.Errorf("%d restart and %d crash-loop messages, want %d and %d: %+v", restarting, loops, tt.restarts, min(tt.restarts, 1), msgs)
			}

			// Nothing follows: no restart is pending.
			h.m.Close()
			h.pub.mu.Lock()
			extra := h.pub.states[cfg.ID][h.cursor[cfg.ID]:]
			h.pub.mu.Unlock()
			if len(extra) > 0 {
				t.Errorf("states after the last exit: %+v", extra)
			}
		})
	}
}

func TestUserActionCancelsPendingRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, "")
	cfg := h.config(nil)
	cfg.Restart = wire.RestartPolicy{Mode: wire.RestartOnCrash, Backoff: wire.Duration(time.Hour), MaxBackoff: wire.Duration(time.Hour)}
	cfg = h.started(cfg)
	h.command(cfg.ID, "crash 3")
	h.expectStates(cfg.ID, wire.StateCrashed)
	h.waitMessage(cfg.ID, "crashed with exit code 3; restarting in 1h0m0s (restart 1 of 5 within 10m0s)")

	h.power(cfg.ID, wire.PowerStop)
	if msg := h.waitMessage(cfg.ID, "pending restart was cancelled"); !strings.Contains(msg.Message, "stop") {
		t.Errorf("cancellation message %q does not say a stop cancelled it", msg.Message)
	}
	// Nothing runs: the stop says so again.
	h.expectStates(cfg.ID, wire.StateCrashed)
	// The server is free for the user to start.
	h.power(cfg.ID, wire.PowerStart)
	h.expectStates(cfg.ID, wire.StateStarting, wire.StateRunning)
}

// A server that crashed while no agent watched follows its policy once an
// agent finds it.
func TestRestoreRestartsACrashFoundInContainerd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	first := newHarness(t, nil, dir)
	cfg := first.config(nil)
	cfg.Restart = wire.RestartPolicy{Mode: wire.RestartOnCrash, Backoff: wire.Duration(10 * time.Millisecond)}
	cfg = first.started(cfg)
	first.m.Close()
	if err := first.env.Runtime.Kill(ctx, cfg.ID); err != nil {
		t.Fatalf("kill behind the agent's back: %v", err)
	}

	rt, err := first.env.NewRuntime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	second := newHarness(t, rt, dir)
	if err := second.m.Restore(ctx); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if st := second.expectStates(cfg.ID, wire.StateCrashed, wire.StateStarting, wire.StateRunning); st.State != wire.StateRunning {
		t.Fatalf("state %+v", st)
	}
	second.waitMessage(cfg.ID, "was killed by signal 9; restarting in 10ms")
}
