package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"catalyst.dev/core/internal/store/storetest"
	"github.com/hashicorp/go-hclog"
)

// BenchmarkHealth measures the API stack (gin, middleware, envelope) on the
// health route against a bare net/http handler doing the same work: one
// database ping and one JSON answer.
func BenchmarkHealth(b *testing.B) {
	s := storetest.SQLite(b)
	b.Run("catalyst", func(b *testing.B) {
		h := New(s, hclog.NewNullLogger(), "bench")
		benchHandler(b, h)
	})
	b.Run("baseline-nethttp", func(b *testing.B) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := s.Ping(context.Background()); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			json.NewEncoder(w).Encode(map[string]any{"data": healthReport{Status: "ok", Version: "bench",
				Database: databaseHealth{Driver: s.Driver(), Status: "ok"}}})
		})
		benchHandler(b, h)
	})
}

func benchHandler(b *testing.B, h http.Handler) {
	req := httptest.NewRequest(http.MethodGet, "/api/health", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
