package servers_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/gateway/gatewaytest"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
	"catalyst.dev/sdk/wire"
)

func TestRestartPolicyReachesTheAgent(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	fake := gatewaytest.NewFake()
	w.connect(fake)
	ctx := context.Background()

	// Defaults when none is given.
	srv := w.create(servers.NewServer{})
	w.waitState(srv.ID, store.StateStopped)
	got, _ := fake.Server(srv.ID)
	if got.Config.Restart != wire.DefaultRestartPolicy {
		t.Fatalf("default policy sent %+v, want %+v", got.Config.Restart, wire.DefaultRestartPolicy)
	}
	if p := servers.PolicyOf(srv); p.Mode != wire.RestartOnCrash || p.MaxRestarts != 5 || p.WindowSeconds != 600 || p.BackoffMS != 5000 {
		t.Fatalf("default policy shown as %+v", p)
	}

	// A policy given at create and changed later is what the agent gets.
	srv = w.create(servers.NewServer{Name: "custom", Restart: &servers.RestartPolicy{Mode: wire.RestartAlways, MaxRestarts: 2, WindowSeconds: 60, BackoffMS: 200}})
	w.waitState(srv.ID, store.StateStopped)
	got, _ = fake.Server(srv.ID)
	want := wire.RestartPolicy{Mode: wire.RestartAlways, MaxRestarts: 2, Window: wire.Duration(time.Minute), Backoff: wire.Duration(200 * time.Millisecond), MaxBackoff: wire.DefaultRestartPolicy.MaxBackoff}
	if got.Config.Restart != want {
		t.Fatalf("policy sent %+v, want %+v", got.Config.Restart, want)
	}
	// Update takes the server as loaded now (installed, stopped), as the
	// API passes it.
	srv, err := w.store.ServerByID(ctx, srv.ID)
	if err != nil {
		t.Fatal(err)
	}
	updated, err := w.svc.Update(ctx, srv, servers.Update{Restart: &servers.RestartPolicy{Mode: wire.RestartNever}}, w.admin)
	if err != nil {
		t.Fatal(err)
	}
	if updated.RestartMode != wire.RestartNever {
		t.Fatalf("updated mode %q", updated.RestartMode)
	}
	got, _ = fake.Server(srv.ID)
	if got.Config.Restart.Mode != wire.RestartNever {
		t.Fatalf("agent has mode %q after the update", got.Config.Restart.Mode)
	}

	// Bad policies name the field.
	for _, p := range []servers.RestartPolicy{{Mode: "sometimes"}, {MaxRestarts: -1}, {BackoffMS: -5}, {WindowSeconds: 90000}} {
		_, err := w.svc.Create(ctx, servers.NewServer{Name: "bad", NodeID: w.node.ID, TemplateID: w.tmpl.ID, MemoryMB: 1, CPUPercent: 100, DiskMB: 1, Restart: &p}, w.admin)
		var ve *accounts.ValidationError
		if !errors.As(err, &ve) || ve.Field != "restart" {
			t.Fatalf("policy %+v: %v, want a restart field error", p, err)
		}
	}
}

func TestCrashReportsAreRecorded(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	var mu sync.Mutex
	var changes []servers.Change
	w.svc.Observe(func(c servers.Change) {
		mu.Lock()
		defer mu.Unlock()
		changes = append(changes, c)
	})
	fake := gatewaytest.NewFake()
	running := w.insert(store.StateRunning)
	fake.Put(running.ID, wire.StateRunning)
	a := w.connect(fake)

	code := 3
	send := func(st wire.ServerState) {
		t.Helper()
		st.ServerID = running.ID
		if err := a.Send(wire.EventServerState, st); err != nil {
			t.Fatal(err)
		}
	}
	// A crash, the agent restarting it, then the crash that ends the
	// restarts: two crashes counted, the last marked as a crash loop.
	send(wire.ServerState{State: wire.StateCrashed, ExitCode: &code})
	send(wire.ServerState{State: wire.StateStarting})
	send(wire.ServerState{State: wire.StateRunning})
	send(wire.ServerState{State: wire.StateCrashed, ExitCode: &code})
	send(wire.ServerState{State: wire.StateCrashed, ExitCode: &code, CrashLoop: true, Reason: "crashed 2 times within 1m0s; the restart policy gives up"})
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(changes)
		mu.Unlock()
		if n >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("observed %d changes, want 5: %+v", n, changes)
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv, err := w.store.ServerByID(context.Background(), running.ID)
	if err != nil {
		t.Fatal(err)
	}
	if srv.State != store.StateCrashed || srv.CrashCount != 2 || srv.LastExitCode == nil || *srv.LastExitCode != 3 || srv.CrashedAt == nil {
		t.Fatalf("server after the crashes: state %s count %d exit %v at %v", srv.State, srv.CrashCount, srv.LastExitCode, srv.CrashedAt)
	}
	if !strings.Contains(srv.StateReason, "gives up") {
		t.Fatalf("reason %q", srv.StateReason)
	}
	mu.Lock()
	defer mu.Unlock()
	last := changes[len(changes)-1]
	if !last.CrashLoop || last.To != store.StateCrashed || last.Exit == nil || *last.Exit.Code != 3 {
		t.Fatalf("last change %+v, want a crash loop with exit code 3", last)
	}
	for _, c := range changes[:len(changes)-1] {
		if c.CrashLoop {
			t.Fatalf("change %+v marked as a crash loop", c)
		}
	}
}
