package servers

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
)

// Power actions a user may ask for.
const (
	ActionStart   = wire.PowerStart
	ActionStop    = wire.PowerStop
	ActionRestart = wire.PowerRestart
	ActionKill    = wire.PowerKill
)

// action is what a user's power action may start from and what it records
// before the agent is asked.
type action struct {
	from []string
	// to is the state persisted before the command; empty for kill, whose
	// outcome is whatever the agent then reports.
	to string
}

// actions is the user half of the state machine. Suspended, transferring
// and installing servers take no power action.
var actions = map[string]action{
	ActionStart:   {from: []string{store.StateStopped, store.StateCrashed}, to: store.StateStarting},
	ActionStop:    {from: []string{store.StateStarting, store.StateRunning}, to: store.StateStopping},
	ActionRestart: {from: []string{store.StateRunning, store.StateStarting}, to: store.StateStopping},
	ActionKill:    {from: []string{store.StateStarting, store.StateRunning, store.StateStopping}},
}

// agentTransitions is the agent half: the states an agent report may move
// a server to from each state. Reports outside it are logged and ignored.
// stopped/crashed → starting and stopping → starting are a restart's
// second half (the agent stops, then starts).
var agentTransitions = map[string][]string{
	store.StateInstalling: {store.StateStopped, store.StateInstallFailed},
	store.StateStopped:    {store.StateStarting, store.StateRunning},
	store.StateCrashed:    {store.StateStarting, store.StateRunning},
	store.StateStarting:   {store.StateRunning, store.StateCrashed, store.StateStopped, store.StateStopping},
	store.StateRunning:    {store.StateStopping, store.StateStopped, store.StateCrashed},
	store.StateStopping:   {store.StateStopped, store.StateCrashed, store.StateStarting},
}

// reinstallFrom are the states a reinstall may start from.
var reinstallFrom = []string{store.StateStopped, store.StateCrashed, store.StateInstallFailed}

// commandStates are the states a console command may be sent in.
var commandStates = []string{store.StateStarting, store.StateRunning}

// Actions lists the power actions, for validation messages.
func Actions() []string { return []string{ActionStart, ActionStop, ActionRestart, ActionKill} }

// AgentMayReport reports whether an agent report may move a server from
// one state to another.
func AgentMayReport(from, to string) bool { return slices.Contains(agentTransitions[from], to) }

// ErrStateConflict is an action the server's state does not allow.
var ErrStateConflict = errors.New("not allowed in the server's current state")

// StateError says which action the state refused. It is ErrStateConflict.
type StateError struct {
	Action string
	State  string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("cannot %s the server while it is %s", e.Action, strings.ReplaceAll(e.State, "_", " "))
}

// Is makes errors.Is(err, ErrStateConflict) true.
func (e *StateError) Is(target error) bool { return target == ErrStateConflict }

// reconcile decides what a server's state becomes when its node's agent
// connects: the agent sees the processes, so what it can observe wins;
// known is false when the agent has no record of the server. install is
// true when the install has to be (re)sent.
func reconcile(db string, agent wire.ServerState, known bool) (to, reason string, install bool) {
	switch db {
	case store.StateSuspended, store.StateTransferring:
		return db, "", false
	}
	if !known {
		switch db {
		case store.StateInstalling:
			// Never delivered (the node was offline at create) or lost
			// with the agent's data: send it again.
			return db, "", true
		case store.StateStarting, store.StateRunning, store.StateStopping:
			return store.StateCrashed, "the node has no record of this server after its agent reconnected", false
		}
		return db, "", false
	}
	a := agent.State
	switch a {
	case db:
		return db, "", false
	case store.StateInstalling, store.StateInstallFailed, store.StateRunning, store.StateStarting, store.StateStopping:
		return a, agent.Reason, false
	case store.StateCrashed:
		return a, firstNonEmpty(agent.Reason, "crashed while the node was disconnected"), false
	case store.StateStopped:
		switch db {
		case store.StateStarting, store.StateRunning:
			return store.StateCrashed, firstNonEmpty(agent.Reason, "stopped while the node was disconnected"), false
		case store.StateCrashed, store.StateInstallFailed:
			return db, "", false
		}
		return store.StateStopped, "", false
	}
	return db, "", false
}

// exitReason describes how a process ended, for a crashed server.
// The agent's own sentence already names the exit code and the OOM kill;
// the core only composes one when the agent sent none.
func exitReason(st wire.ServerState) string {
	if st.Reason != "" {
		return st.Reason
	}
	var parts []string
	if st.OOMKilled {
		parts = append(parts, "killed for running out of memory")
	}
	if st.ExitCode != nil {
		parts = append(parts, fmt.Sprintf("exit code %d", *st.ExitCode))
	}
	return strings.Join(parts, "; ")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
