package servers

import (
	"testing"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
)

func TestReconcileDecisions(t *testing.T) {
	rep := func(state string) wire.ServerState { return wire.ServerState{State: state} }
	cases := []struct {
		db      string
		agent   wire.ServerState
		known   bool
		to      string
		install bool
	}{
		{store.StateRunning, rep(wire.StateStopped), true, store.StateCrashed, false},
		{store.StateStarting, rep(wire.StateStopped), true, store.StateCrashed, false},
		{store.StateStopping, rep(wire.StateStopped), true, store.StateStopped, false},
		{store.StateStopped, rep(wire.StateRunning), true, store.StateRunning, false},
		{store.StateCrashed, rep(wire.StateRunning), true, store.StateRunning, false},
		{store.StateCrashed, rep(wire.StateStopped), true, store.StateCrashed, false},
		{store.StateRunning, rep(wire.StateRunning), true, store.StateRunning, false},
		{store.StateInstalling, rep(wire.StateStopped), true, store.StateStopped, false},
		{store.StateInstalling, rep(wire.StateInstallFailed), true, store.StateInstallFailed, false},
		{store.StateInstalling, rep(wire.StateInstalling), true, store.StateInstalling, false},
		{store.StateInstalling, wire.ServerState{}, false, store.StateInstalling, true},
		{store.StateRunning, wire.ServerState{}, false, store.StateCrashed, false},
		{store.StateStopped, wire.ServerState{}, false, store.StateStopped, false},
		{store.StateSuspended, rep(wire.StateRunning), true, store.StateSuspended, false},
		{store.StateTransferring, wire.ServerState{}, false, store.StateTransferring, false},
	}
	for _, c := range cases {
		to, _, install := reconcile(c.db, c.agent, c.known)
		if to != c.to || install != c.install {
			t.Errorf("db %s, agent %q (known %v): → %s install %v; want %s install %v", c.db, c.agent.State, c.known, to, install, c.to, c.install)
		}
	}
}

func TestExitReasonKeepsTheAgentsSentence(t *testing.T) {
	code := 137
	for _, tc := range []struct {
		st   wire.ServerState
		want string
	}{
		{wire.ServerState{Reason: "killed by the kernel for exceeding its memory limit (exit code 137)", ExitCode: &code, OOMKilled: true},
			"killed by the kernel for exceeding its memory limit (exit code 137)"},
		{wire.ServerState{ExitCode: &code, OOMKilled: true}, "killed for running out of memory; exit code 137"},
		{wire.ServerState{}, ""},
	} {
		if got := exitReason(tc.st); got != tc.want {
			t.Errorf("exitReason(%+v) = %q, want %q", tc.st, got, tc.want)
		}
	}
}
