package servers_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/gateway/gatewaytest"
	"catalyst.dev/core/internal/nodes"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
)

// world is a store, a real gateway on a real HTTP server, the service as
// its handler, and a node the fake agent can connect as.
type world struct {
	t     *testing.T
	store *store.Store
	gw    *gateway.Gateway
	svc   *servers.Service
	url   string
	node  *store.Node
	cred  string
	owner *store.User
	tmpl  *store.Template
	admin servers.Actor
}

func newWorld(t *testing.T, s *store.Store) *world {
	t.Helper()
	ctx := context.Background()
	ns := nodes.NewService(s)
	n, token, err := ns.Create(ctx, nodes.NewNode{Name: "n1", FQDN: "n1.example.com", MemoryMB: 1000, DiskMB: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAllocations(ctx, n.ID, "10.0.0.1", []int{25565, 25566, 25567, 25568}); err != nil {
		t.Fatal(err)
	}
	_, cred, err := ns.Enrol(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	owner := &store.User{Email: "o@example.com", Username: "o", PasswordHash: "x"}
	if err := s.CreateUser(ctx, owner); err != nil {
		t.Fatal(err)
	}
	tmpl := &store.Template{Name: "game", Images: []store.TemplateImage{{Label: "img:1", Image: "img:1"}, {Label: "img:2", Image: "img:2"}}, Startup: "run --port {{SERVER_PORT}} --mode {{MODE}}",
		StopCommand: "stop", Variables: []store.TemplateVariable{
			{Name: "Mode", EnvName: "MODE", Default: "survival", UserEditable: true},
			{Name: "Secret", EnvName: "SECRET", Default: "s"},
		}}
	if err := s.CreateTemplate(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	log := hclog.NewNullLogger()
	gw := gateway.New(s, ns, log, gateway.Options{})
	svc := servers.New(s, gw, log, servers.Options{})
	gw.SetHandler(svc)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := gw.Connect(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
	}))
	t.Cleanup(func() {
		gw.Close()
		srv.Close()
	})
	return &world{t: t, store: s, gw: gw, svc: svc, url: srv.URL, node: n, cred: cred, owner: owner, tmpl: tmpl,
		admin: servers.Actor{UserID: owner.ID, Admin: true}}
}

// connect brings the node online with fake as its agent, reporting what
// fake knows in its hello.
func (w *world) connect(fake *gatewaytest.Fake) *gatewaytest.Agent {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := fake.Connect(ctx, gatewaytest.Config{URL: w.url, NodeID: w.node.ID, Credential: w.cred,
		Hello: wire.Hello{AgentVersion: "test", Servers: fake.States()}})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(a.Close)
	return a
}

func (w *world) create(in servers.NewServer) *store.Server {
	w.t.Helper()
	if in.Name == "" {
		in.Name = "srv"
	}
	in.NodeID, in.TemplateID = w.node.ID, w.tmpl.ID
	if in.MemoryMB == 0 {
		in.MemoryMB, in.CPUPercent, in.DiskMB = 100, 100, 1000
	}
	srv, err := w.svc.Create(context.Background(), in, w.admin)
	if err != nil {
		w.t.Fatal(err)
	}
	return srv
}

// insert stores a server in a state without the service.
func (w *world) insert(state string) *store.Server {
	w.t.Helper()
	srv := &store.Server{Name: state, OwnerID: w.owner.ID, NodeID: w.node.ID, TemplateID: w.tmpl.ID, State: state,
		MemoryMB: 10, CPUPercent: 100, DiskMB: 10, Image: "img:1", Startup: w.tmpl.Startup}
	if err := w.store.CreateServer(context.Background(), srv, nil); err != nil {
		w.t.Fatal(err)
	}
	return srv
}

// waitState waits for a server to reach want.
func (w *world) waitState(id, want string) *store.Server {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		srv, err := w.store.ServerByID(context.Background(), id)
		if err != nil {
			w.t.Fatal(err)
		}
		if srv.State == want {
			return srv
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("server %s is %s (%s), want %s", srv.Name, srv.State, srv.StateReason, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLifecycleThroughTheAgent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		fake := gatewaytest.NewFake()
		w.connect(fake)
		ctx := context.Background()

		srv := w.create(servers.NewServer{Environment: map[string]string{"MODE": "creative"}})
		if srv.State != store.StateInstalling && srv.State != store.StateStopped {
			t.Fatalf("new server is %s", srv.State)
		}
		w.waitState(srv.ID, store.StateStopped)
		got, _ := fake.Server(srv.ID)
		if got.Install == nil || !slices.Equal(got.Config.Argv, []string{"run", "--port", "25565", "--mode", "creative"}) ||
			got.Config.Image != "img:1" || got.Install.Env["SECRET"] != "s" {
			t.Fatalf("agent got install %+v config %+v", got.Install, got.Config)
		}

		if _, err := w.svc.Power(ctx, srv.ID, servers.ActionStart); err != nil {
			t.Fatal(err)
		}
		running := w.waitState(srv.ID, store.StateRunning)
		if err := w.svc.Command(ctx, running, "say hello"); err != nil {
			t.Fatal(err)
		}
		if got, _ := fake.Server(srv.ID); !slices.Equal(got.Commands, []string{"say hello"}) {
			t.Fatalf("commands on the agent: %q", got.Commands)
		}
		if _, err := w.svc.Power(ctx, srv.ID, servers.ActionStart); !errors.Is(err, servers.ErrStateConflict) ||
			!strings.Contains(err.Error(), "running") {
			t.Fatalf("start while running: %v", err)
		}
		if _, err := w.svc.Power(ctx, srv.ID, servers.ActionRestart); err != nil {
			t.Fatal(err)
		}
		w.waitState(srv.ID, store.StateRunning)
		if _, err := w.svc.Power(ctx, srv.ID, servers.ActionKill); err != nil {
			t.Fatal(err)
		}
		killed := w.waitState(srv.ID, store.StateStopped)
		if killed.CrashCount != 0 {
			t.Fatalf("a kill counted as a crash: %d", killed.CrashCount)
		}
		if err := w.svc.Command(ctx, killed, "say hello"); !errors.Is(err, servers.ErrStateConflict) {
			t.Fatalf("command to a stopped server: %v", err)
		}
		if _, err := w.svc.Power(ctx, srv.ID, "explode"); err == nil {
			t.Fatal("unknown action accepted")
		}

		if _, err := w.svc.Reinstall(ctx, srv.ID); err != nil {
			t.Fatal(err)
		}
		w.waitState(srv.ID, store.StateStopped)

		if err := w.svc.Delete(ctx, srv); err != nil {
			t.Fatal(err)
		}
		if _, ok := fake.Server(srv.ID); ok {
			t.Fatal("the agent still has the deleted server")
		}
		if _, err := s.ServerByID(ctx, srv.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted server still stored: %v", err)
		}
		if free, _ := s.FreeAllocations(ctx, w.node.ID); len(free) != 4 || free[0].Primary {
			t.Fatalf("allocations not freed: %+v", free)
		}
	})
}

func TestAgentFailureRollsBackTheState(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	fake := gatewaytest.NewFake()
	srv := w.insert(store.StateStopped)
	// The agent thinks it runs already, so it refuses the start.
	fake.Put(srv.ID, wire.StateRunning)
	w.connect(fake)
	w.waitState(srv.ID, store.StateRunning) // reconciled
	if err := w.store.SetServerState(context.Background(), srv.ID, store.StateStopped); err != nil {
		t.Fatal(err)
	}
	_, err := w.svc.Power(context.Background(), srv.ID, servers.ActionStart)
	var ae *gateway.AgentError
	if !errors.As(err, &ae) || ae.Code != wire.CodeConflict {
		t.Fatalf("start refused by the agent: %v", err)
	}
	got := w.waitState(srv.ID, store.StateStopped)
	if !strings.Contains(got.StateReason, "start failed") {
		t.Fatalf("reason = %q", got.StateReason)
	}
}

func TestOfflineNode(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	ctx := context.Background()
	// Created while the node is offline: it waits in installing, and the
	// install is sent when the agent connects.
	srv := w.create(servers.NewServer{})
	if srv.State != store.StateInstalling {
		t.Fatalf("state = %s", srv.State)
	}
	for name, call := range map[string]func() error{
		"start": func() error {
			_, err := w.svc.Power(ctx, w.insert(store.StateStopped).ID, servers.ActionStart)
			return err
		},
		"delete":  func() error { return w.svc.Delete(ctx, srv) },
		"command": func() error { return w.svc.Command(ctx, w.insert(store.StateRunning), "x") },
	} {
		if err := call(); !errors.Is(err, gateway.ErrNodeOffline) {
			t.Errorf("%s on an offline node: %v", name, err)
		}
	}
	fake := gatewaytest.NewFake()
	w.connect(fake)
	w.waitState(srv.ID, store.StateStopped)
	if got, ok := fake.Server(srv.ID); !ok || got.Install == nil {
		t.Fatal("install not sent on connect")
	}
}

func TestPowerLock(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	fake := gatewaytest.NewFake()
	fake.StartGate = make(chan struct{})
	srv := w.insert(store.StateStopped)
	fake.Put(srv.ID, wire.StateStopped)
	w.connect(fake)
	ctx := context.Background()

	first := make(chan error, 1)
	go func() {
		_, err := w.svc.Power(ctx, srv.ID, servers.ActionStart)
		first <- err
	}()
	w.waitState(srv.ID, store.StateStarting) // persisted before the agent is asked
	if _, err := w.svc.Power(ctx, srv.ID, servers.ActionStart); !errors.Is(err, servers.ErrBusy) {
		t.Fatalf("second start: %v, want ErrBusy", err)
	}
	if _, err := w.svc.Power(ctx, srv.ID, servers.ActionStop); !errors.Is(err, servers.ErrBusy) {
		t.Fatalf("stop during start: %v, want ErrBusy", err)
	}
	// Reinstall and delete wait their turn too.
	if _, err := w.svc.Reinstall(ctx, srv.ID); !errors.Is(err, servers.ErrBusy) {
		t.Fatalf("reinstall during start: %v, want ErrBusy", err)
	}
	if err := w.svc.Delete(ctx, srv); !errors.Is(err, servers.ErrBusy) {
		t.Fatalf("delete during start: %v, want ErrBusy", err)
	}
	// Kill does not wait for the lock.
	if _, err := w.svc.Power(ctx, srv.ID, servers.ActionKill); err != nil {
		t.Fatalf("kill during start: %v", err)
	}
	close(fake.StartGate)
	if err := <-first; err != nil {
		t.Fatalf("first start: %v", err)
	}
	w.waitState(srv.ID, store.StateRunning)
}

func TestReconcileOnHello(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		fake := gatewaytest.NewFake()
		type tc struct {
			db, agent, want string // agent "" = unknown to the agent
		}
		cases := []tc{
			{store.StateRunning, wire.StateStopped, store.StateCrashed},
			{store.StateStopping, wire.StateStopped, store.StateStopped},
			{store.StateStarting, wire.StateRunning, store.StateRunning},
			{store.StateStopped, wire.StateRunning, store.StateRunning},
			{store.StateRunning, "", store.StateCrashed},
			{store.StateInstalling, "", store.StateStopped}, // install resent, fake finishes it
			{store.StateSuspended, wire.StateStopped, store.StateSuspended},
		}
		ids := make([]string, len(cases))
		for i, c := range cases {
			srv := w.insert(c.db)
			ids[i] = srv.ID
			if c.agent != "" {
				fake.Put(srv.ID, c.agent)
			}
		}
		w.connect(fake)
		for i, c := range cases {
			got := w.waitState(ids[i], c.want)
			if c.want == store.StateCrashed && (got.CrashCount != 1 || got.StateReason == "") {
				t.Errorf("%s/%s: crash count %d reason %q", c.db, c.agent, got.CrashCount, got.StateReason)
			}
		}
		// The running server the agent had lost got its config back.
		if got, ok := fake.Server(ids[4]); !ok || got.Config.Image != "img:1" {
			t.Errorf("lost server's config not pushed: %+v %v", got, ok)
		}
	})
}

func TestAgentReportsAreValidated(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	fake := gatewaytest.NewFake()
	stopped := w.insert(store.StateStopped)
	running := w.insert(store.StateRunning)
	fake.Put(stopped.ID, wire.StateStopped)
	fake.Put(running.ID, wire.StateRunning)
	a := w.connect(fake)
	// Another node's server.
	other := &store.Node{Name: "n2", FQDN: "n2.example.com", MemoryMB: 1, DiskMB: 1}
	if err := w.store.CreateNode(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	foreign := &store.Server{Name: "foreign", OwnerID: w.owner.ID, NodeID: other.ID, TemplateID: w.tmpl.ID, State: store.StateRunning, Image: "i", Startup: "s"}
	if err := w.store.CreateServer(context.Background(), foreign, nil); err != nil {
		t.Fatal(err)
	}
	code := 1
	for _, st := range []wire.ServerState{
		{ServerID: stopped.ID, State: wire.StateStopping},                                  // illegal: ignored
		{ServerID: foreign.ID, State: wire.StateCrashed},                                   // not this node's: ignored
		{ServerID: "no-such-server", State: wire.StateRunning},                             // unknown: ignored
		{ServerID: running.ID, State: wire.StateCrashed, ExitCode: &code, OOMKilled: true}, // legal
	} {
		if err := a.Send(wire.EventServerState, st); err != nil {
			t.Fatal(err)
		}
	}
	got := w.waitState(running.ID, store.StateCrashed)
	if got.CrashCount != 1 || !strings.Contains(got.StateReason, "out of memory") || !strings.Contains(got.StateReason, "exit code 1") {
		t.Fatalf("crashed server: count %d reason %q", got.CrashCount, got.StateReason)
	}
	if s, _ := w.store.ServerByID(context.Background(), stopped.ID); s.State != store.StateStopped {
		t.Fatalf("illegal report applied: %s", s.State)
	}
	if s, _ := w.store.ServerByID(context.Background(), foreign.ID); s.State != store.StateRunning {
		t.Fatalf("another node's report applied: %s", s.State)
	}
}

func TestCreateChecksTheNode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		base := func(mem, disk int64) servers.NewServer {
			return servers.NewServer{Name: "x", NodeID: w.node.ID, TemplateID: w.tmpl.ID, MemoryMB: mem, CPUPercent: 100, DiskMB: disk}
		}
		// The node offers 1000 MiB of memory and 10000 MiB of disk.
		w.create(base(600, 1000))
		_, err := w.svc.Create(ctx, base(600, 1000), w.admin)
		var re *servers.ResourceError
		if !errors.As(err, &re) || re.Resource != "memory" || re.Free != 400 || !strings.Contains(err.Error(), "400 MiB of memory left") {
			t.Fatalf("over memory: %v", err)
		}
		if _, err := w.svc.Create(ctx, base(100, 9500), w.admin); !errors.As(err, &re) || re.Resource != "disk" {
			t.Fatalf("over disk: %v", err)
		}
		// 50 % overallocation makes room; -1 stops checking.
		w.node.MemoryOverallocate = 50
		if err := s.UpdateNode(ctx, w.node, "memory_overallocate"); err != nil {
			t.Fatal(err)
		}
		w.create(base(600, 1000))
		if _, err := w.svc.Create(ctx, base(600, 1000), w.admin); !errors.Is(err, servers.ErrInsufficientResources) {
			t.Fatalf("over the overallocated memory: %v", err)
		}
		w.node.MemoryOverallocate = -1
		if err := s.UpdateNode(ctx, w.node, "memory_overallocate"); err != nil {
			t.Fatal(err)
		}
		w.create(base(5000, 1000))
		w.create(base(1, 1))
		// Four allocations, four servers: the fifth has none.
		if _, err := w.svc.Create(ctx, base(1, 1), w.admin); !errors.Is(err, servers.ErrNoAllocation) {
			t.Fatalf("no free allocation: %v", err)
		}
		// Resizing is checked too, leaving out the server's own share.
		list, _ := s.ListServers(ctx, store.ServerFilter{NodeID: w.node.ID})
		big := int64(20000)
		if _, err := w.svc.Update(ctx, list[0], servers.Update{DiskMB: &big}, w.admin); !errors.Is(err, servers.ErrInsufficientResources) {
			t.Fatalf("resize over disk: %v", err)
		}
		same := list[0].DiskMB
		if _, err := w.svc.Update(ctx, list[0], servers.Update{DiskMB: &same}, w.admin); err != nil {
			t.Fatalf("resize to the same size: %v", err)
		}

		w.node.Maintenance = true
		if err := s.UpdateNode(ctx, w.node, "maintenance"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Create(ctx, base(1, 1), w.admin); !errors.Is(err, servers.ErrNodeMaintenance) {
			t.Fatalf("node in maintenance: %v", err)
		}
	})
}

func TestUpdateChangesWhatItNames(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	ctx := context.Background()
	fake := gatewaytest.NewFake()
	w.connect(fake)
	srv := w.create(servers.NewServer{Environment: map[string]string{"MODE": "creative"}})
	srv = w.waitState(srv.ID, store.StateStopped)
	pushed := func() bool { return slices.Contains(fake.Calls(), "PUT "+wire.AgentServerPath(srv.ID, "")) }
	// A new name is nothing the agent runs: no config goes out.
	name := "renamed"
	if _, err := w.svc.Update(ctx, srv, servers.Update{Name: &name}, w.admin); err != nil || pushed() {
		t.Fatalf("rename: %v; config pushed: %v", err, pushed())
	}
	got, err := w.svc.Update(ctx, srv, servers.Update{Name: &name, Environment: map[string]string{"SECRET": "t"}}, w.admin)
	if err != nil {
		t.Fatal(err)
	}
	if onAgent, _ := fake.Server(srv.ID); !pushed() || onAgent.Config.Env["SECRET"] != "t" {
		t.Fatalf("new environment not pushed: %+v", onAgent.Config.Env)
	}
	stored, err := w.store.ServerByID(ctx, srv.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*store.Server{got, stored} {
		if s.Name != "renamed" || s.Environment["MODE"] != "creative" || s.Environment["SECRET"] != "t" || s.MemoryMB != srv.MemoryMB || len(s.Allocations) != 1 {
			t.Fatalf("after the update: %+v", s)
		}
	}
	if srv.Name != "srv" || srv.Environment["SECRET"] != "" {
		t.Fatalf("the server passed in was changed: %+v", srv)
	}
}

func TestCreateValidatesInput(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	user := servers.Actor{UserID: w.owner.ID}
	ok := func() servers.NewServer {
		return servers.NewServer{Name: "x", NodeID: w.node.ID, TemplateID: w.tmpl.ID, MemoryMB: 10, CPUPercent: 100, DiskMB: 10}
	}
	cases := []struct {
		name  string
		edit  func(*servers.NewServer)
		by    servers.Actor
		field string
	}{
		{"empty name", func(n *servers.NewServer) { n.Name = " " }, w.admin, "name"},
		{"control character", func(n *servers.NewServer) { n.Name = "a\x01" }, w.admin, "name"},
		{"NUL in the description", func(n *servers.NewServer) { n.Description = "a\x00b" }, w.admin, "description"},
		{"negative memory", func(n *servers.NewServer) { n.MemoryMB = -1 }, w.admin, "memory_mb"},
		{"huge memory", func(n *servers.NewServer) { n.MemoryMB = servers.MaxMemoryMB + 1 }, w.admin, "memory_mb"},
		{"zero cpu", func(n *servers.NewServer) { n.CPUPercent = 0 }, w.admin, "cpu_percent"},
		{"zero disk", func(n *servers.NewServer) { n.DiskMB = 0 }, w.admin, "disk_mb"},
		{"unknown template", func(n *servers.NewServer) { n.TemplateID = "nope" }, w.admin, "template_id"},
		{"unknown node", func(n *servers.NewServer) { n.NodeID = "nope" }, w.admin, "node_id"},
		{"unknown owner", func(n *servers.NewServer) { n.OwnerID = "nope" }, w.admin, "owner_id"},
		{"unknown variable", func(n *servers.NewServer) { n.Environment = map[string]string{"PATH": "/"} }, w.admin, "environment.PATH"},
		{"not editable for users", func(n *servers.NewServer) { n.Environment = map[string]string{"SECRET": "x"} }, user, "environment.SECRET"},
		{"foreign image for users", func(n *servers.NewServer) { n.Image = "evil:latest" }, user, "image"},
		{"unknown allocation", func(n *servers.NewServer) { n.AllocationID = "nope" }, w.admin, "allocation_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := ok()
			c.edit(&in)
			_, err := w.svc.Create(context.Background(), in, c.by)
			var ve *accounts.ValidationError
			if !errors.As(err, &ve) || ve.Field != c.field {
				t.Fatalf("err = %v, want a %s field error", err, c.field)
			}
		})
	}
	if list, _ := w.store.ListServers(context.Background(), store.ServerFilter{}); len(list) != 0 {
		t.Fatalf("refused creates stored %d servers", len(list))
	}
	// Administrators may set variables users may not.
	in := ok()
	in.Environment = map[string]string{"SECRET": "x"}
	if _, err := w.svc.Create(context.Background(), in, w.admin); err != nil {
		t.Fatal(err)
	}
}

// An install sent twice (by Create, and by a reconnect's reconcile whose
// hello predates the server) meets the install under way: the server stays
// installing rather than failing.
func TestInstallSentTwiceIsNotAFailure(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	fake := gatewaytest.NewFake()
	srv := w.insert(store.StateInstalling)
	fake.Put(srv.ID, wire.StateInstalling)
	w.connect(fake)
	w.svc.OnHello(context.Background(), w.node.ID, wire.Hello{})
	got, err := w.store.ServerByID(context.Background(), srv.ID)
	if err != nil || got.State != store.StateInstalling {
		t.Fatalf("server %+v, %v: want still installing", got, err)
	}
	if !slices.Contains(fake.Calls(), "POST /v1/servers/"+srv.ID+"/install") {
		t.Fatalf("the reconcile sent no install: calls %v", fake.Calls())
	}
}
