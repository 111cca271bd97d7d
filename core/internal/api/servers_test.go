package api

import (
	"encoding/json"
	"slices"
	"testing"

	"catalyst.dev/core/internal/auth"
	"catalyst.dev/core/internal/rbac"
)

// The server list shows each caller the servers it may read, with its
// own permissions on each.
func TestServerListIsFilteredByAccess(t *testing.T) {
	f := newFixture(t, rbac.ServerRead, nil)
	list := func(r role) []serverView {
		t.Helper()
		got := f.do(r, "GET", "/api/servers", nil)
		if got.Status != 200 {
			t.Fatalf("%s: %d %s", r, got.Status, got.Body)
		}
		var out []serverView
		if err := json.Unmarshal(got.Data, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct {
		r     role
		count int
	}{{roleAdmin, 1}, {roleOwner, 1}, {roleSubWith, 1}, {roleSubWithout, 0}, {roleStranger, 0}} {
		if got := list(tc.r); len(got) != tc.count {
			t.Errorf("%s sees %d servers, want %d", tc.r, len(got), tc.count)
		}
	}
	owner := list(roleOwner)[0]
	if len(owner.Permissions) != len(rbac.ServerPermissions) {
		t.Errorf("owner's permissions: %v", owner.Permissions)
	}
	sess, err := f.api.Auth.StartSession(t.Context(), f.candidate, "fam", auth.Client{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	got := send(t, f.api, "GET", "/api/servers", sess.Token, nil, nil)
	var cand []serverView
	json.Unmarshal(got.Data, &cand)
	if len(cand) != 1 || !slices.Equal(cand[0].Permissions, []string{"server.read"}) {
		t.Errorf("candidate subuser sees %+v, want the server with [server.read]", cand)
	}
}

// The restart policy is shown with its defaults, changed with PATCH and
// refused with a field error when it makes no sense.
func TestServerRestartPolicyThroughTheAPI(t *testing.T) {
	f := newFixture(t, "", nil)
	path := "/api/servers/" + f.server.ID
	var v serverView
	_ = json.Unmarshal(f.do(roleOwner, "GET", path, nil).Data, &v)
	if v.Restart.Mode != "on_crash" || v.Restart.MaxRestarts != 5 || v.Restart.WindowSeconds != 600 || v.Restart.BackoffMS != 5000 || v.LastExitCode != nil {
		t.Fatalf("default view %+v", v)
	}
	got := f.do(roleOwner, "PATCH", path, map[string]any{"restart": map[string]any{"mode": "never"}})
	_ = json.Unmarshal(got.Data, &v)
	if got.Status != 200 || v.Restart.Mode != "never" {
		t.Fatalf("patch: %d %s", got.Status, got.Body)
	}
	got = f.do(roleOwner, "PATCH", path, map[string]any{"restart": map[string]any{"mode": "sometimes"}})
	if got.Status != 422 || got.Error.Field != "restart" {
		t.Fatalf("bad mode: %d %s", got.Status, got.Body)
	}
}
