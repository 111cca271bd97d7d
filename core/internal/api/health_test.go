package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
)

func TestHealthReportsDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		got := send(t, newTestAPI(t, s, nil), "GET", "/api/health", "", nil, nil)
		if got.Status != http.StatusOK || got.Error != nil {
			t.Fatalf("status %d, body %s", got.Status, got.Body)
		}
		if ct := got.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
		var rep healthReport
		if err := json.Unmarshal(got.Data, &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Status != "ok" || rep.Database.Status != "ok" || rep.Database.Driver != s.Driver() || rep.Version != "test" {
			t.Fatalf("report = %+v", rep)
		}
	})
}

func TestHealthFailsWhenDatabaseIsGone(t *testing.T) {
	s := storetest.SQLite(t)
	a := newTestAPI(t, s, nil)
	s.Close()
	got := send(t, a, "GET", "/api/health", "", nil, nil)
	if got.Status != http.StatusServiceUnavailable || got.Error == nil || got.Error.Code != "database_unavailable" {
		t.Fatalf("status %d, body %s", got.Status, got.Body)
	}
}

func TestUnknownRoutesUseTheErrorEnvelope(t *testing.T) {
	a := newTestAPI(t, storetest.SQLite(t), nil)
	cases := []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/api/nope", http.StatusNotFound, "not_found"},
		{http.MethodDelete, "/api/health", http.StatusMethodNotAllowed, "method_not_allowed"},
	}
	for _, tc := range cases {
		got := send(t, a, tc.method, tc.path, "", nil, nil)
		if got.Status != tc.status || got.Error == nil || got.Error.Code != tc.code || got.Error.Message == "" {
			t.Errorf("%s %s: status %d, body %s; want %d %s", tc.method, tc.path, got.Status, got.Body, tc.status, tc.code)
		}
	}
}
