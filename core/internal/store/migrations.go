package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"
)

// Migrations are SQL files in migrations/, named
// YYYYMMDDhhmmss_what.tx.{up,down}.sql and run by bun/migrate, each file in
// one transaction so a failed step leaves the schema as it was. Statements
// are separated by "--bun:split" lines. The files are Go templates: the few
// types the two databases spell differently are written {{.Timestamp}} and
// {{.JSON}}. A released migration is never edited; a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// dialectTypes fills the migration templates.
type dialectTypes struct {
	Timestamp string
	JSON      string
}

func (s *Store) migrator() (*migrate.Migrator, error) {
	ms := migrate.NewMigrations()
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	if err := ms.Discover(sub); err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	types := dialectTypes{Timestamp: "TIMESTAMPTZ", JSON: "JSONB"}
	if s.db.Dialect().Name() == dialect.SQLite {
		types = dialectTypes{Timestamp: "TIMESTAMP", JSON: "TEXT"}
	}
	return migrate.NewMigrator(s.db, ms,
		migrate.WithMarkAppliedOnSuccess(true),
		migrate.WithTemplateData(types),
	), nil
}

// initMigrator returns a migrator whose bookkeeping tables exist.
func (s *Store) initMigrator(ctx context.Context) (*migrate.Migrator, error) {
	m, err := s.migrator()
	if err != nil {
		return nil, err
	}
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("init migrations: %w", err)
	}
	return m, nil
}

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Name    string
	Comment string
	Applied bool
}

// Migrate applies every pending migration and returns their names. Several
// core replicas may call it at once: see migrationLock.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	return s.runMigrator(ctx, "migrate", (*migrate.Migrator).Migrate)
}

// Rollback undoes the most recently applied group of migrations and
// returns the names it rolled back (none when nothing is applied).
func (s *Store) Rollback(ctx context.Context) ([]string, error) {
	return s.runMigrator(ctx, "rollback", (*migrate.Migrator).Rollback)
}

func (s *Store) runMigrator(ctx context.Context, what string,
	step func(*migrate.Migrator, context.Context, ...migrate.MigrationOption) (*migrate.MigrationGroup, error),
) ([]string, error) {
	unlock, err := s.migrationLock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	m, err := s.initMigrator(ctx)
	if err != nil {
		return nil, err
	}
	group, err := step(m, ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var names []string
	for _, mg := range group.Migrations {
		names = append(names, mg.Name)
	}
	return names, nil
}

// MigrationStatus lists every known migration in order.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	m, err := s.initMigrator(ctx)
	if err != nil {
		return nil, err
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(ms))
	for _, mg := range ms {
		out = append(out, MigrationStatus{Name: mg.Name, Comment: mg.Comment, Applied: mg.IsApplied()})
	}
	return out, nil
}

// migrationLockKey is an arbitrary constant naming Catalyst's migration lock
// among PostgreSQL advisory locks.
const migrationLockKey = 0x43617461 // "Cata"

// migrationLock serialises migrations between processes sharing PostgreSQL
// with a session-level advisory lock held on a dedicated connection: the
// server releases it when that connection closes, so a crashed process never
// leaves a stale lock behind (bun's lock table would). SQLite is used by one
// process, so there is nothing to lock.
func (s *Store) migrationLock(ctx context.Context) (unlock func(), err error) {
	if s.db.Dialect().Name() != dialect.PG {
		return func() {}, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLockKey); err != nil {
		conn.Close()
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	return func() {
		_, _ = conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(?)", migrationLockKey)
		conn.Close()
	}, nil
}
