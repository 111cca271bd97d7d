package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/auth"
	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/store/storetest"
)

// unlimited lifts rate limits so benchmarks measure the work, not the
// limiter's refusals.
func unlimited(c *config.Config) {
	c.RateLimits = []*config.RateLimit{{Group: "api"}, {Group: "auth"}}
	c.Auth.LoginAttemptsPerMinute = 1 << 30
}

// BenchmarkHealth measures the API stack (gin, middleware, envelope) on the
// health route against a bare net/http handler doing the same work: one
// database ping and one JSON answer.
func BenchmarkHealth(b *testing.B) {
	s := storetest.SQLite(b)
	b.Run("catalyst", func(b *testing.B) {
		benchRequest(b, newTestAPI(b, s, unlimited), "GET", "/api/health", "", "")
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
		benchRequest(b, h, "GET", "/api/health", "", "")
	})
}

// BenchmarkLogin is a whole login (argon2id check, JWT, refresh token
// row, audit row) beside the argon2id check alone, its floor. Each op is
// one login; 1e9/ns_per_op is logins per second per core.
func BenchmarkLogin(b *testing.B) {
	s := storetest.SQLite(b)
	a := newTestAPI(b, s, unlimited)
	if _, err := a.Accounts.Create(context.Background(), accounts.NewUser{Email: "bench@example.com", Password: testPassword}); err != nil {
		b.Fatal(err)
	}
	body := `{"email":"bench@example.com","password":"` + testPassword + `"}`
	b.Run("catalyst", func(b *testing.B) { benchRequest(b, a, "POST", "/api/auth/login", "", body) })
	b.Run("baseline-argon2id", func(b *testing.B) {
		h := passwordHash()
		for b.Loop() {
			if err := accounts.CheckPassword(h, testPassword); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAuthenticatedRequest is GET /api/account with an access token
// and with an API key, beside the public health route through the same
// stack: the difference is what authentication costs a request.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	f := newFixture(b, "", unlimited)
	key, _, err := f.api.Auth.CreateAPIKey(context.Background(), f.users[roleOwner], auth.NewAPIKey{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("jwt", func(b *testing.B) { benchRequest(b, f.api, "GET", "/api/account", f.tokens[roleOwner].Token, "") })
	b.Run("api-key", func(b *testing.B) { benchRequest(b, f.api, "GET", "/api/account", key, "") })
	b.Run("baseline-public-route", func(b *testing.B) { benchRequest(b, f.api, "GET", "/api/health", "", "") })
}

func benchRequest(b *testing.B, h http.Handler, method, path, token, body string) {
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.RemoteAddr = "192.0.2.1:1000"
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s %s: status %d %s", method, path, rec.Code, rec.Body)
		}
	}
}
