package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Backup statuses.
const (
	BackupCreating  = "creating"
	BackupCompleted = "completed"
	BackupFailed    = "failed"
)

// Backup is the record of one archive of a server's volume, kept in a
// backup store of the node NodeID (which is not the server's node any more
// once the server was transferred).
type Backup struct {
	bun.BaseModel `bun:"table:backups"`

	ID       string `bun:"id,pk" json:"id"`
	ServerID string `bun:"server_id,notnull" json:"server_id"`
	NodeID   string `bun:"node_id,notnull" json:"node_id"`
	// Store is the backup store's name on the node; Key the object's key
	// in it (under wire.BackupKeyPrefix of the server).
	Store  string `bun:"store,notnull" json:"store"`
	Key    string `bun:"key,notnull" json:"key"`
	Name   string `bun:"name,notnull" json:"name"`
	Status string `bun:"status,notnull" json:"status"`
	// Error says why a failed backup failed.
	Error string `bun:"error,notnull" json:"error"`
	// Size and SHA256 are the archive's (compressed); Files and Bytes
	// count the regular files in it and their bytes.
	Size        int64  `bun:"size,notnull" json:"size"`
	SHA256      string `bun:"sha256,notnull" json:"sha256"`
	Files       int64  `bun:"files,notnull" json:"files"`
	Bytes       int64  `bun:"bytes,notnull" json:"bytes"`
	Compression string `bun:"compression,notnull" json:"compression"`
	// Locked backups are never rotated out nor deleted.
	Locked      bool       `bun:"locked,notnull" json:"locked"`
	CreatedBy   *string    `bun:"created_by" json:"created_by"`
	CreatedAt   time.Time  `bun:"created_at,notnull" json:"created_at"`
	CompletedAt *time.Time `bun:"completed_at" json:"completed_at"`
}

// CreateBackup inserts b, filling its ID when empty (the caller may pick
// it first: it names the object) and its creation time.
func (s *Store) CreateBackup(ctx context.Context, b *Backup) error {
	if b.ID == "" {
		b.ID = NewID()
	}
	b.CreatedAt = now()
	_, err := s.db.NewInsert().Model(b).Exec(ctx)
	return mapError(err)
}

// BackupByID returns the server's backup, or ErrNotFound (also for a
// backup of another server).
func (s *Store) BackupByID(ctx context.Context, serverID, id string) (*Backup, error) {
	b := new(Backup)
	err := s.db.NewSelect().Model(b).Where("id = ?", id).Where("server_id = ?", serverID).Scan(ctx)
	return b, mapError(err)
}

// ListBackups returns the server's backups, newest first.
func (s *Store) ListBackups(ctx context.Context, serverID string) ([]*Backup, error) {
	bs := []*Backup{}
	err := s.db.NewSelect().Model(&bs).Where("server_id = ?", serverID).Order("created_at DESC", "id DESC").Scan(ctx)
	return bs, mapError(err)
}

// NodeBackups returns the backups held by a node's stores in a status,
// oldest first.
func (s *Store) NodeBackups(ctx context.Context, nodeID, status string) ([]*Backup, error) {
	bs := []*Backup{}
	err := s.db.NewSelect().Model(&bs).Where("node_id = ?", nodeID).Where("status = ?", status).Order("created_at", "id").Scan(ctx)
	return bs, mapError(err)
}

// FinishBackup records the outcome of a backup still being made: b's
// status, error, key, archive fields and completion time. A backup that is
// no longer creating (or no longer exists) is left alone and the error is
// ErrNotFound, so that two writers cannot both settle it.
func (s *Store) FinishBackup(ctx context.Context, b *Backup) error {
	t := now()
	b.CompletedAt = &t
	res, err := s.db.NewUpdate().Model(b).
		Column("status", "error", "key", "size", "sha256", "files", "bytes", "compression", "completed_at").
		WherePK().Where("status = ?", BackupCreating).Exec(ctx)
	return affectedOne(res, err)
}

// UpdateBackup writes the named columns of b.
func (s *Store) UpdateBackup(ctx context.Context, b *Backup, columns ...string) error {
	res, err := s.db.NewUpdate().Model(b).Column(columns...).WherePK().Exec(ctx)
	return affectedOne(res, err)
}

// DeleteBackup removes a backup's record, or returns ErrNotFound.
func (s *Store) DeleteBackup(ctx context.Context, id string) error {
	res, err := s.db.NewDelete().Model((*Backup)(nil)).Where("id = ?", id).Exec(ctx)
	return affectedOne(res, err)
}

// DeleteFailedBackups removes the server's failed backups' records and
// says how many there were.
func (s *Store) DeleteFailedBackups(ctx context.Context, serverID string) (int, error) {
	res, err := s.db.NewDelete().Model((*Backup)(nil)).
		Where("server_id = ?", serverID).Where("status = ?", BackupFailed).Exec(ctx)
	if err != nil {
		return 0, mapError(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
