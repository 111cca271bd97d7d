// Package store keeps the core's state in SQLite (the embedded default) or
// PostgreSQL, through bun. It owns the schema and its migrations; callers see
// models and sentinel errors, never driver errors.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors callers branch on. The API maps them to status codes.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	// ErrInUse is a delete refused because other records still need the row.
	ErrInUse = errors.New("still in use")
)

// Options selects the database.
type Options struct {
	// Driver is "sqlite" or "postgres".
	Driver string
	// SQLitePath is the database file for the sqlite driver; its directory
	// is created when missing.
	SQLitePath string
	// DSN is the PostgreSQL connection string.
	DSN          string
	MaxOpenConns int
}

// Store is the core's database.
type Store struct {
	db     *bun.DB
	driver string
}

// Open connects to the database and checks it answers. It does not migrate.
func Open(ctx context.Context, o Options) (*Store, error) {
	var db *bun.DB
	switch o.Driver {
	case "sqlite":
		if err := os.MkdirAll(filepath.Dir(o.SQLitePath), 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
		// WAL lets readers run beside the writer; immediate transactions
		// take the write lock up front so two writers queue on busy_timeout
		// instead of failing half-way.
		dsn := "file:" + o.SQLitePath +
			"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
			"&_pragma=synchronous(NORMAL)&_txlock=immediate"
		sqldb, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", o.SQLitePath, err)
		}
		if o.MaxOpenConns > 0 {
			sqldb.SetMaxOpenConns(o.MaxOpenConns)
		}
		db = bun.NewDB(sqldb, sqlitedialect.New())
	case "postgres":
		sqldb, err := sql.Open("pgx", o.DSN)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		if o.MaxOpenConns > 0 {
			sqldb.SetMaxOpenConns(o.MaxOpenConns)
		}
		sqldb.SetConnMaxIdleTime(5 * time.Minute)
		db = bun.NewDB(sqldb, pgdialect.New())
	default:
		return nil, fmt.Errorf("unknown database driver %q (want sqlite or postgres)", o.Driver)
	}
	s := &Store{db: db, driver: o.Driver}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Ping(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", o.Driver, err)
	}
	return s, nil
}

// Close releases the connection pool.
func (s *Store) Close() error { return s.db.Close() }

// Driver names the database in use ("sqlite" or "postgres").
func (s *Store) Driver() string { return s.driver }

// Ping checks the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.NewRaw("SELECT 1").Scan(ctx, &one)
}

// DB exposes the bun handle to packages that own their own tables in later
// migrations. Queries on the core's tables belong in this package.
func (s *Store) DB() *bun.DB { return s.db }

// NewID returns a new time-ordered identifier (UUIDv7). Ordering by ID is
// ordering by creation, which makes IDs usable as pagination cursors.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// now is the store's clock: UTC with microsecond precision, which both
// databases keep exactly, so a value read back equals the value written.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// mapError turns driver errors callers branch on into sentinel errors.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return fmt.Errorf("%w: %s", ErrConflict, pgErr.ConstraintName)
		case "23503":
			return fmt.Errorf("%w: %s", ErrInUse, pgErr.ConstraintName)
		}
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %s", ErrConflict, strings.TrimPrefix(liteErr.Error(), "constraint failed: "))
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %s", ErrInUse, strings.TrimPrefix(liteErr.Error(), "constraint failed: "))
		}
	}
	return err
}

// affectedOne turns an update or delete that touched no row into
// ErrNotFound.
func affectedOne(res sql.Result, err error) error {
	if err != nil {
		return mapError(err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrNotFound
	}
	return nil
}

// clampLimit bounds a page size to 1..500, 50 by default.
func clampLimit(n int) int64 {
	if n <= 0 || n > 500 {
		return 50
	}
	return int64(n)
}

// escapeLike escapes LIKE's wildcards so user input matches literally.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

// jsonList encodes a list for a JSON column in a hand-written SET clause.
func jsonList(v []string) string {
	b, _ := json.Marshal(nonNil(v))
	return string(b)
}
