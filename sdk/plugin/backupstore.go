package plugin

import (
	"context"
	"io"
	"time"
)

// BackupStore keeps backup archives somewhere: a directory, an S3 bucket.
// Objects are byte streams named by key; keys use "/" as separator
// (e.g. "servers/<uuid>/2026-11-21T03:00:00Z.tar.zst").
//
// Authors see readers and writers, never chunks: the SDK streams data
// across the plugin boundary in ChunkSize pieces.
type BackupStore interface {
	Base
	// Put stores everything read from r under key, replacing any object of
	// that name. It must be atomic: if reading r fails (the host cancelled
	// the upload, the source broke), Put returns that error and no object,
	// not even a partial one, appears under key.
	Put(ctx context.Context, key string, r io.Reader, meta map[string]string) error
	// Get opens the object. A missing key is ErrNotFound. The caller closes
	// the reader; closing early abandons the download.
	Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error)
	// Stat describes the object; a missing key is ErrNotFound.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// List returns every object whose key starts with prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Delete removes the object. Deleting a missing key succeeds.
	Delete(ctx context.Context, key string) error
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key      string
	Size     int64
	Metadata map[string]string
	Modified time.Time
}
