package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
	"github.com/hashicorp/go-hclog"
)

// envelope is either answer shape.
type envelope struct {
	Data  json.RawMessage `json:"data"`
	Error *errorDetail    `json:"error"`
}

func do(t *testing.T, h http.Handler, method, path string) (int, envelope) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	var env envelope
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("%s %s: body is not JSON: %q", method, path, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	return rec.Code, env
}

func TestHealthReportsDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := New(s, hclog.NewNullLogger(), "test")
		code, env := do(t, h, http.MethodGet, "/api/health")
		if code != http.StatusOK || env.Error != nil {
			t.Fatalf("status %d, error %+v", code, env.Error)
		}
		var rep healthReport
		if err := json.Unmarshal(env.Data, &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Status != "ok" || rep.Database.Status != "ok" || rep.Database.Driver != s.Driver() || rep.Version != "test" {
			t.Fatalf("report = %+v", rep)
		}
	})
}

func TestHealthFailsWhenDatabaseIsGone(t *testing.T) {
	s := storetest.SQLite(t)
	h := New(s, hclog.NewNullLogger(), "test")
	s.Close()
	code, env := do(t, h, http.MethodGet, "/api/health")
	if code != http.StatusServiceUnavailable || env.Error == nil || env.Error.Code != "database_unavailable" {
		t.Fatalf("status %d, body %+v", code, env)
	}
}

func TestUnknownRoutesUseTheErrorEnvelope(t *testing.T) {
	h := New(storetest.SQLite(t), hclog.NewNullLogger(), "test")
	cases := []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/api/nope", http.StatusNotFound, "not_found"},
		{http.MethodDelete, "/api/health", http.StatusMethodNotAllowed, "method_not_allowed"},
	}
	for _, tc := range cases {
		code, env := do(t, h, tc.method, tc.path)
		if code != tc.status || env.Error == nil || env.Error.Code != tc.code || env.Error.Message == "" {
			t.Errorf("%s %s: status %d, body %+v; want %d %s", tc.method, tc.path, code, env, tc.status, tc.code)
		}
	}
}
