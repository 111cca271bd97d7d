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
