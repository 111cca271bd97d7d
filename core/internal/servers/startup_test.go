package servers_test

import (
	"context"
	"errors"
	"testing"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
)

// wantField fails unless err is a field error on field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var ve *accounts.ValidationError
	if !errors.As(err, &ve) || ve.Field != field {
		t.Fatalf("err = %v, want a %s field error", err, field)
	}
}

func TestUpdateImageAndStartupLine(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	ctx := context.Background()
	user := servers.Actor{UserID: w.owner.ID}
	srv := w.insert(store.StateStopped)
	reload := func() *store.Server {
		s, err := w.store.ServerByID(ctx, srv.ID)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	img := "img:2"
	if _, err := w.svc.Update(ctx, reload(), servers.Update{Image: &img}, user); err != nil {
		t.Fatalf("a user picking another of the template's images: %v", err)
	}
	foreign := "evil:latest"
	_, err := w.svc.Update(ctx, reload(), servers.Update{Image: &foreign}, user)
	wantField(t, err, "image")
	if got := reload(); got.Image != "img:2" {
		t.Fatalf("a refused image was stored: %s", got.Image)
	}
	if got, err := w.svc.Update(ctx, reload(), servers.Update{Image: &foreign}, w.admin); err != nil || got.Image != foreign {
		t.Fatalf("an administrator's own image: %v", err)
	}

	line := "run --fast --port {{SERVER_PORT}}"
	_, err = w.svc.Update(ctx, reload(), servers.Update{Startup: &line}, user)
	wantField(t, err, "startup")
	broken := `run "x`
	_, err = w.svc.Update(ctx, reload(), servers.Update{Startup: &broken}, w.admin)
	wantField(t, err, "startup")
	if got := reload(); got.Startup != w.tmpl.Startup {
		t.Fatalf("a refused startup line was stored: %q", got.Startup)
	}
	if _, err := w.svc.Update(ctx, reload(), servers.Update{Startup: &line}, w.admin); err != nil {
		t.Fatal(err)
	}
	if got := reload(); got.Startup != line {
		t.Fatalf("startup = %q, want %q", got.Startup, line)
	}
}

// Needs the rules of catalyst.dev/sdk/varrules.
func TestVariableRulesOnCreateAndUpdate(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	ctx := context.Background()
	tmpl := &store.Template{Name: "ruled", Startup: "run", Images: []store.TemplateImage{{Label: "img:1", Image: "img:1"}},
		Variables: []store.TemplateVariable{
			{Name: "Players", EnvName: "PLAYERS", Default: "10", UserViewable: true, UserEditable: true, Rules: "required|integer|max:100"},
			{Name: "Token", EnvName: "TOKEN", UserViewable: true, UserEditable: true, Rules: "required|string"},
		}}
	if err := w.store.CreateTemplate(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	user := servers.Actor{UserID: w.owner.ID}
	create := func(env map[string]string) (*store.Server, error) {
		return w.svc.Create(ctx, servers.NewServer{Name: "ruled", NodeID: w.node.ID, TemplateID: tmpl.ID,
			MemoryMB: 10, CPUPercent: 100, DiskMB: 10, Environment: env}, user)
	}
	_, err := create(nil)
	wantField(t, err, "environment.TOKEN")
	_, err = create(map[string]string{"TOKEN": "t", "PLAYERS": "500"})
	wantField(t, err, "environment.PLAYERS")
	if list, _ := w.store.ListServers(ctx, store.ServerFilter{}); len(list) != 0 {
		t.Fatalf("refused creates stored %d servers", len(list))
	}
	srv, err := create(map[string]string{"TOKEN": "t"})
	if err != nil {
		t.Fatal(err)
	}

	for env, field := range map[string]string{"abc": "environment.PLAYERS", "": "environment.TOKEN"} {
		key := field[len("environment."):]
		_, err := w.svc.Update(ctx, srv, servers.Update{Environment: map[string]string{key: env}}, user)
		wantField(t, err, field)
	}
	stored, err := w.store.ServerByID(ctx, srv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Environment["TOKEN"] != "t" || stored.Environment["PLAYERS"] != "" {
		t.Fatalf("refused updates changed the environment: %v", stored.Environment)
	}
}
