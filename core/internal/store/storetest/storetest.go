// Package storetest opens real, migrated, throw-away databases for tests:
// a SQLite file in the test's temp directory, and a fresh schema on a real
// PostgreSQL server.
//
// PostgreSQL is found through CATALYST_TEST_POSTGRES_DSN, or at
// postgres://postgres@127.0.0.1:5432/test when unset. If it does not answer,
// tests that need it fail when CI=true and skip with a message otherwise.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"catalyst.dev/core/internal/store"
	"github.com/google/uuid"
)

// DefaultPostgresDSN is used when CATALYST_TEST_POSTGRES_DSN is unset.
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Each runs fn once per supported database, as subtests "sqlite" and
// "postgres", each on a freshly migrated store.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns a migrated store on a new file in t.TempDir().
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	s := OpenSQLite(t)
	migrate(t, s)
	return s
}

// OpenSQLite returns an unmigrated store on a new file in t.TempDir().
func OpenSQLite(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{
		Driver:     "sqlite",
		SQLitePath: t.TempDir() + "/catalyst.db",
	})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Postgres returns a migrated store in a new schema that is dropped when
// the test ends.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	s, _ := OpenPostgres(t)
	migrate(t, s)
	return s
}

// OpenPostgres returns an unmigrated store in a new, empty schema, and the
// DSN that reaches it (for starting another process on the same schema).
func OpenPostgres(t testing.TB) (*store.Store, string) {
	t.Helper()
	base := os.Getenv("CATALYST_TEST_POSTGRES_DSN")
	if base == "" {
		base = DefaultPostgresDSN
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("CATALYST_TEST_POSTGRES_DSN is not a valid DSN: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		msg := fmt.Sprintf("PostgreSQL at %s does not answer (%v); set CATALYST_TEST_POSTGRES_DSN to a server's DSN", redact(base), err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg + " (skipped: CI is not true)")
	}
	schema := "catalyst_test_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	dsn, err := withSearchPath(base, schema)
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(context.Background(), store.Options{Driver: "postgres", DSN: dsn, MaxOpenConns: 10})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dsn
}

func migrate(t testing.TB, s *store.Store) {
	t.Helper()
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
}

func withSearchPath(dsn, schema string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "", fmt.Errorf("CATALYST_TEST_POSTGRES_DSN must be a postgres:// URL: %q", redact(dsn))
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable DSN)"
	}
	return u.Redacted()
}
