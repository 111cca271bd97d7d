package servers

import (
	"slices"
	"testing"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
)

var allStates = []string{
	store.StateInstalling, store.StateInstallFailed, store.StateStopped, store.StateStarting, store.StateRunning,
	store.StateStopping, store.StateCrashed, store.StateTransferring, store.StateSuspended,
}

// TestUserActionsTable spells out, for every state, which power actions
// it allows and the state each records before the agent is asked.
func TestUserActionsTable(t *testing.T) {
	want := map[string]map[string]string{ // action → from → to ("=" for no change)
		ActionStart:   {store.StateStopped: store.StateStarting, store.StateCrashed: store.StateStarting},
		ActionStop:    {store.StateStarting: store.StateStopping, store.StateRunning: store.StateStopping},
		ActionRestart: {store.StateRunning: store.StateStopping, store.StateStarting: store.StateStopping},
		ActionKill:    {store.StateStarting: "=", store.StateRunning: "=", store.StateStopping: "="},
	}
	for _, act := range Actions() {
		for _, from := range allStates {
			a := actions[act]
			allowed := slices.Contains(a.from, from)
			to, legal := want[act][from]
			if allowed != legal {
				t.Errorf("%s from %s: allowed = %v, want %v", act, from, allowed, legal)
				continue
			}
			if legal && to != "=" && a.to != to || legal && to == "=" && a.to != "" {
				t.Errorf("%s from %s records %q, want %q", act, from, a.to, to)
			}
		}
	}
}

// TestAgentReportsTable checks every (from, to) pair an agent may report.
func TestAgentReportsTable(t *testing.T) {
	legal := map[[2]string]bool{}
	for _, p := range [][2]string{
		{store.StateInstalling, store.StateStopped}, {store.StateInstalling, store.StateInstallFailed},
		{store.StateStarting, store.StateRunning}, {store.StateStarting, store.StateCrashed},
		{store.StateStarting, store.StateStopped}, {store.StateStarting, store.StateStopping},
		{store.StateRunning, store.StateStopping}, {store.StateRunning, store.StateStopped}, {store.StateRunning, store.StateCrashed},
		{store.StateStopping, store.StateStopped}, {store.StateStopping, store.StateCrashed}, {store.StateStopping, store.StateStarting},
		// A restart's second half.
		{store.StateStopped, store.StateStarting}, {store.StateStopped, store.StateRunning},
		{store.StateCrashed, store.StateStarting}, {store.StateCrashed, store.StateRunning},
	} {
		legal[p] = true
	}
	for _, from := range allStates {
		for _, to := range allStates {
			if got := AgentMayReport(from, to); got != legal[[2]string{from, to}] {
				t.Errorf("agent report %s → %s: allowed = %v, want %v", from, to, got, !got)
			}
		}
	}
}

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
