package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
)

func TestMigrationsRoundTrip(t *testing.T) {
	ctx := context.Background()
	run := func(t *testing.T, s *store.Store) {
		applied, err := s.Migrate(ctx)
		if err != nil {
			t.Fatalf("migrate up: %v", err)
		}
		if len(applied) == 0 {
			t.Fatal("migrate applied nothing on an empty database")
		}
		again, err := s.Migrate(ctx)
		if err != nil || len(again) != 0 {
			t.Fatalf("second migrate = %v, %v; want nothing to do", again, err)
		}
		mustWork(t, s)

		// Roll every group back: the schema must be gone.
		for {
			names, err := s.Rollback(ctx)
			if err != nil {
				t.Fatalf("rollback: %v", err)
			}
			if len(names) == 0 {
				break
			}
		}
		if _, err := s.CountUsers(ctx); err == nil {
			t.Fatal("users table still exists after rolling everything back")
		}
		status, err := s.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range status {
			if m.Applied {
				t.Fatalf("migration %s still applied after rollback", m.Name)
			}
		}

		// And up again, to a working schema.
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate up after down: %v", err)
		}
		mustWork(t, s)
	}
	t.Run("sqlite", func(t *testing.T) { run(t, storetest.OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) {
		s, _ := storetest.OpenPostgres(t)
		run(t, s)
	})
}

// mustWork writes and reads a user, proving the schema is usable.
func mustWork(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	u := &store.User{Email: "probe@example.com", Username: "probe", PasswordHash: "x"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("create user: %v", err)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 1 {
		t.Fatalf("CountUsers = %d, %v; want 1", n, err)
	}
}

func TestConcurrentMigrateIsSafe(t *testing.T) {
	// Two core replicas starting together on one PostgreSQL.
	s, dsn := storetest.OpenPostgres(t)
	other, err := store.Open(context.Background(), store.Options{Driver: "postgres", DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	errs := make(chan error, 2)
	for _, st := range []*store.Store{s, other} {
		go func() { _, err := st.Migrate(context.Background()); errs <- err }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
	mustWork(t, s)
}

func TestUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := &store.User{Email: "ada@example.com", Username: "ada", PasswordHash: "hash", Admin: true}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		got, err := s.UserByEmail(ctx, "ada@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || !got.Admin || got.PasswordHash != "hash" || !got.CreatedAt.Equal(u.CreatedAt) {
			t.Fatalf("read back %+v, wrote %+v", got, u)
		}
		if _, err := s.UserByID(ctx, u.ID); err != nil {
			t.Fatal(err)
		}

		dup := &store.User{Email: "ada@example.com", Username: "other", PasswordHash: "h"}
		if err := s.CreateUser(ctx, dup); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate email: err = %v, want ErrConflict", err)
		}
		if _, err := s.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing user: err = %v, want ErrNotFound", err)
		}
		if n, _ := s.CountUsers(ctx); n != 1 {
			t.Fatalf("CountUsers = %d after a refused duplicate, want 1", n)
		}
	})
}

// fixture is a user, node and template to hang servers on.
type fixture struct {
	user *store.User
	node *store.Node
	tmpl *store.Template
}

func newFixture(t *testing.T, s *store.Store) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{
		user: &store.User{Email: "owner@example.com", Username: "owner", PasswordHash: "h"},
		node: &store.Node{Name: "node-1", FQDN: "node1.example.com", MemoryMB: 8192, DiskMB: 100000},
		tmpl: &store.Template{
			Name: "Vanilla", Images: []store.TemplateImage{{Label: "ghcr.io/example/java:21", Image: "ghcr.io/example/java:21"}},
			Startup: "java -Xmx{{SERVER_MEMORY}}M -jar server.jar", StopCommand: "stop",
			StartupDone: []string{"Done ("},
			Variables: []store.TemplateVariable{{
				Name: "Version", EnvName: "MC_VERSION", Default: "latest", UserViewable: true, UserEditable: true, Rules: "required|string",
			}},
		},
	}
	for _, err := range []error{
		s.CreateUser(ctx, f.user), s.CreateNode(ctx, f.node), s.CreateTemplate(ctx, f.tmpl),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestTemplatesKeepStructuredFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		got, err := s.TemplateByID(context.Background(), f.tmpl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Images, f.tmpl.Images) || !slices.Equal(got.StartupDone, f.tmpl.StartupDone) ||
			len(got.Variables) != 1 || got.Variables[0] != f.tmpl.Variables[0] || got.Denylist == nil {
			t.Fatalf("template read back as %+v", got)
		}
		list, err := s.ListTemplates(context.Background())
		if err != nil || len(list) != 1 {
			t.Fatalf("ListTemplates = %v, %v", list, err)
		}
	})
}

func TestServersAndAllocations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		allocs, err := s.CreateAllocations(ctx, f.node.ID, "0.0.0.0", []int{25565, 25566, 25567})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateAllocations(ctx, f.node.ID, "0.0.0.0", []int{25568, 25565}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("overlapping allocations: err = %v, want ErrConflict", err)
		}
		if free, _ := s.FreeAllocations(ctx, f.node.ID); len(free) != 3 {
			t.Fatalf("a refused batch left %d free allocations, want 3", len(free))
		}

		srv := &store.Server{
			Name: "survival", OwnerID: f.user.ID, NodeID: f.node.ID, TemplateID: f.tmpl.ID,
			State: store.StateInstalling, MemoryMB: 2048, CPUPercent: 200, DiskMB: 10000, PidsLimit: 512,
			Image: f.tmpl.Images[0].Image, Startup: f.tmpl.Startup, Environment: map[string]string{"MC_VERSION": "1.21"},
		}
		if err := s.CreateServer(ctx, srv, []string{allocs[1].ID, allocs[0].ID}); err != nil {
			t.Fatal(err)
		}
		got, err := s.ServerByID(ctx, srv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ShortID == "" || len(got.ShortID) != 8 || got.Environment["MC_VERSION"] != "1.21" || got.CPUPercent != 200 {
			t.Fatalf("server read back as %+v", got)
		}
		if len(got.Allocations) != 2 || !got.Allocations[0].Primary || got.Allocations[0].Port != 25566 {
			t.Fatalf("allocations = %+v, want 25566 primary then 25565", got.Allocations)
		}

		// A second server may not take an assigned allocation, and a failed
		// create writes nothing.
		thief := &store.Server{Name: "thief", OwnerID: f.user.ID, NodeID: f.node.ID, TemplateID: f.tmpl.ID,
			State: store.StateInstalling, Image: "x", Startup: "x"}
		if err := s.CreateServer(ctx, thief, []string{allocs[2].ID, allocs[0].ID}); !errors.Is(err, store.ErrAllocationTaken) {
			t.Fatalf("taking an assigned allocation: err = %v, want ErrAllocationTaken", err)
		}
		if _, err := s.ServerByID(ctx, thief.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("refused server was written: %v", err)
		}
		if free, _ := s.FreeAllocations(ctx, f.node.ID); len(free) != 1 || free[0].Port != 25567 {
			t.Fatalf("free allocations after refused create = %+v, want only 25567", free)
		}

		// State changes are compare-and-set.
		if err := s.SetServerState(ctx, srv.ID, store.StateStopped, store.StateInstalling); err != nil {
			t.Fatal(err)
		}
		if err := s.SetServerState(ctx, srv.ID, store.StateRunning, store.StateInstalling); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("stale transition: err = %v, want ErrNotFound", err)
		}
		list, err := s.ListServers(ctx, store.ServerFilter{OwnerID: f.user.ID})
		if err != nil || len(list) != 1 || list[0].State != store.StateStopped || len(list[0].Allocations) != 2 {
			t.Fatalf("ListServers = %+v, %v", list, err)
		}
		if list, _ := s.ListServers(ctx, store.ServerFilter{OwnerID: "someone-else"}); len(list) != 0 {
			t.Fatalf("owner filter leaked %d servers", len(list))
		}
	})
}

func TestAuditLogFiltersAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		actor, srv := "user-1", "server-1"
		start := time.Now().UTC().Add(-time.Second)
		for i := range 7 {
			e := &store.AuditEntry{ActorType: "user", ActorID: &actor, IP: "203.0.113.7", Action: "server.start",
				TargetType: "server", TargetID: srv, Outcome: store.OutcomeSuccess, Metadata: map[string]any{"n": i}}
			if i%2 == 1 {
				e.Action = "auth.login"
				e.ServerID = nil
			} else {
				e.ServerID = &srv
			}
			if err := s.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		starts, err := s.ListAudit(ctx, store.AuditFilter{Action: "server.start"})
		if err != nil || len(starts) != 4 {
			t.Fatalf("filter by action: %d entries, %v; want 4", len(starts), err)
		}
		if got, _ := s.ListAudit(ctx, store.AuditFilter{ServerID: srv}); len(got) != 4 {
			t.Fatalf("filter by server: %d entries, want 4", len(got))
		}
		if got, _ := s.ListAudit(ctx, store.AuditFilter{Since: start, Until: time.Now().Add(time.Second)}); len(got) != 7 {
			t.Fatalf("filter by time: %d entries, want 7", len(got))
		}
		if got, _ := s.ListAudit(ctx, store.AuditFilter{Until: start}); len(got) != 0 {
			t.Fatalf("entries before the test began: %d", len(got))
		}

		// Paging with the cursor visits every entry once, newest first.
		var seen []string
		cursor := ""
		for {
			page, err := s.ListAudit(ctx, store.AuditFilter{ActorID: actor, Before: cursor, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				seen = append(seen, e.ID)
			}
			cursor = page[len(page)-1].ID
		}
		if len(seen) != 7 || !slices.IsSortedFunc(seen, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Fatalf("paged through %d entries (%v), want 7 newest first", len(seen), seen)
		}
		if n := starts[0].Metadata["n"]; n != float64(6) {
			t.Fatalf("metadata n = %v (%T), want 6", n, n)
		}
	})
}

// MoveServer switches node and allocations in one write: an allocation
// taken meanwhile, or a server no longer in the expected state, changes
// nothing at all.
func TestMoveServer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		src, _ := s.CreateAllocations(ctx, f.node.ID, "0.0.0.0", []int{25565, 25566})
		other := &store.Node{Name: "node-2", FQDN: "node2.example.com", MemoryMB: 8192, DiskMB: 100000}
		if err := s.CreateNode(ctx, other); err != nil {
			t.Fatal(err)
		}
		dst, _ := s.CreateAllocations(ctx, other.ID, "0.0.0.0", []int{27015, 27016, 27017})
		srv := &store.Server{Name: "moving", OwnerID: f.user.ID, NodeID: f.node.ID, TemplateID: f.tmpl.ID,
			State: store.StateTransferring, MemoryMB: 1, CPUPercent: 100, DiskMB: 1, Image: "i", Startup: "s"}
		if err := s.CreateServer(ctx, srv, []string{src[0].ID, src[1].ID}); err != nil {
			t.Fatal(err)
		}
		taken := &store.Server{Name: "taker", OwnerID: f.user.ID, NodeID: other.ID, TemplateID: f.tmpl.ID,
			State: store.StateStopped, MemoryMB: 1, CPUPercent: 100, DiskMB: 1, Image: "i", Startup: "s"}
		if err := s.CreateServer(ctx, taken, []string{dst[2].ID}); err != nil {
			t.Fatal(err)
		}
		unchanged := func(what string) {
			t.Helper()
			got, err := s.ServerByID(ctx, srv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.NodeID != f.node.ID || got.State != store.StateTransferring || len(got.Allocations) != 2 || got.Allocations[0].ID != src[0].ID {
				t.Fatalf("%s changed the server: %+v", what, got)
			}
		}
		if err := s.MoveServer(ctx, srv.ID, other.ID, []string{dst[0].ID, dst[2].ID}, store.StateTransferring, store.StateStopped); !errors.Is(err, store.ErrAllocationTaken) {
			t.Fatalf("move onto a taken allocation: %v", err)
		}
		unchanged("a move onto a taken allocation")
		if err := s.MoveServer(ctx, srv.ID, other.ID, []string{dst[0].ID}, store.StateStopped, store.StateStopped); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("move from the wrong state: %v", err)
		}
		unchanged("a move from the wrong state")
		if err := s.MoveServer(ctx, srv.ID, other.ID, []string{dst[1].ID, dst[0].ID}, store.StateTransferring, store.StateStopped); err != nil {
			t.Fatal(err)
		}
		got, _ := s.ServerByID(ctx, srv.ID)
		if got.NodeID != other.ID || got.State != store.StateStopped || len(got.Allocations) != 2 || got.Allocations[0].ID != dst[1].ID || !got.Allocations[0].Primary {
			t.Fatalf("moved server: %+v", got)
		}
		if free, _ := s.FreeAllocations(ctx, f.node.ID); len(free) != 2 {
			t.Fatalf("the old node has %d free allocations, want both back", len(free))
		}
	})
}
