package servers_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"catalyst.dev/core/internal/gateway/gatewaytest"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
	"catalyst.dev/sdk/wire"
)

var allStates = []string{
	store.StateInstalling, store.StateInstallFailed, store.StateStopped, store.StateStarting, store.StateRunning,
	store.StateStopping, store.StateCrashed, store.StateTransferring, store.StateSuspended,
}

// TestUserActionsFollowTheStateMachine runs every user action from every
// state through a real tunnel. A legal one has stored its state when the
// agent is asked; an illegal one is refused, changes nothing and never
// reaches the agent.
func TestUserActionsFollowTheStateMachine(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	ctx := context.Background()

	// The agent notes each server's stored state when an action reaches it.
	fake := gatewaytest.NewFake()
	var mu sync.Mutex
	atAgent := map[string]string{}
	spy := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rest, _ := strings.CutPrefix(r.URL.Path, wire.AgentPathServers+"/")
		if id, suffix, _ := strings.Cut(rest, "/"); suffix == "power" || suffix == "install" || suffix == "command" {
			srv, err := w.store.ServerByID(r.Context(), id)
			if err != nil {
				t.Errorf("agent asked about %s: %v", id, err)
			} else {
				mu.Lock()
				atAgent[id] = srv.State
				mu.Unlock()
			}
		}
		fake.ServeHTTP(rw, r)
	})
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	a, err := gatewaytest.Dial(dialCtx, gatewaytest.Config{URL: w.url, NodeID: w.node.ID, Credential: w.cred, Handler: spy})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	fake.SetEmitter(a.Send)

	ops := map[string]func(*store.Server) error{
		"reinstall": func(s *store.Server) error { _, err := w.svc.Reinstall(ctx, s.ID); return err },
		"command":   func(s *store.Server) error { return w.svc.Command(ctx, s, "say hi") },
	}
	for _, act := range servers.Actions() {
		ops[act] = func(s *store.Server) error { _, err := w.svc.Power(ctx, s.ID, act); return err }
	}
	// op → from → the state stored when the agent is asked.
	want := map[string]map[string]string{
		servers.ActionStart:   {store.StateStopped: store.StateStarting, store.StateCrashed: store.StateStarting},
		servers.ActionStop:    {store.StateStarting: store.StateStopping, store.StateRunning: store.StateStopping},
		servers.ActionRestart: {store.StateStarting: store.StateStopping, store.StateRunning: store.StateStopping},
		servers.ActionKill:    {store.StateStarting: store.StateStarting, store.StateRunning: store.StateRunning, store.StateStopping: store.StateStopping},
		"reinstall": {store.StateStopped: store.StateInstalling, store.StateCrashed: store.StateInstalling,
			store.StateInstallFailed: store.StateInstalling},
		"command": {store.StateStarting: store.StateStarting, store.StateRunning: store.StateRunning},
	}
	for op, do := range ops {
		for _, from := range allStates {
			t.Run(op+" from "+from, func(t *testing.T) {
				srv := w.insert(from)
				// The agent agrees with the database, so it takes every
				// action the core lets through.
				switch from {
				case store.StateStarting, store.StateRunning, store.StateStopping:
					fake.Put(srv.ID, wire.StateRunning)
				default:
					fake.Put(srv.ID, wire.StateStopped)
				}
				err := do(srv)
				mu.Lock()
				seen, reached := atAgent[srv.ID]
				mu.Unlock()
				to, legal := want[op][from]
				if legal {
					if err != nil || seen != to {
						t.Fatalf("err %v; the agent was asked while the server was %q, want %q", err, seen, to)
					}
					return
				}
				if !errors.Is(err, servers.ErrStateConflict) || reached {
					t.Fatalf("err %v (agent reached: %v); want a state conflict that never reaches the agent", err, reached)
				}
				if got, _ := w.store.ServerByID(ctx, srv.ID); got.State != from {
					t.Fatalf("a refused %s moved the server to %s", op, got.State)
				}
			})
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
			if got := servers.AgentMayReport(from, to); got != legal[[2]string{from, to}] {
				t.Errorf("agent report %s → %s: allowed = %v, want %v", from, to, got, !got)
			}
		}
	}
}
