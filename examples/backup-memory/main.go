// Command backup-memory is an example Catalyst backup store that keeps
// objects in memory. It loses everything when it exits, which makes it a
// test double, not a place for real backups; it shows the smallest correct
// store: atomic puts, NotFound on missing keys, sorted listing.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"catalyst.dev/sdk/plugin"
)

type object struct {
	data     []byte
	meta     map[string]string
	modified time.Time
}

type store struct {
	mu       sync.RWMutex
	objects  map[string]object
	maxBytes int64
}

var _ plugin.BackupStore = (*store)(nil)

func newStore() *store { return &store{objects: map[string]object{}} }

func (s *store) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "backup-memory", Kind: plugin.KindBackupStore, Version: "1.0.0"}, nil
}

func (s *store) ConfigSchema(context.Context) (plugin.Schema, error) {
	return plugin.Schema{Fields: []plugin.Field{{
		Name:        "max_object_mb",
		Type:        plugin.TypeNumber,
		Required:    true,
		Description: "Largest object accepted, in MiB; bigger uploads fail.",
	}}}, nil
}

func (s *store) Configure(_ context.Context, cfg plugin.Config) error {
	var c struct {
		MaxObjectMB int64 `json:"max_object_mb"`
	}
	if err := cfg.Decode(&c); err != nil {
		return err
	}
	if c.MaxObjectMB <= 0 {
		return fmt.Errorf("max_object_mb must be positive: %w", plugin.ErrInvalidArgument)
	}
	s.mu.Lock()
	s.maxBytes = c.MaxObjectMB << 20
	s.mu.Unlock()
	return nil
}

// Put reads the whole object before storing it: a failed or cancelled
// upload returns before the map is touched, so no partial object exists.
func (s *store) Put(_ context.Context, key string, r io.Reader, meta map[string]string) error {
	s.mu.RLock()
	limit := s.maxBytes
	s.mu.RUnlock()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, limit+1))
	if err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	if n > limit {
		return fmt.Errorf("put %q: larger than max_object_mb: %w", key, plugin.ErrInvalidArgument)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[key] = object{data: buf.Bytes(), meta: meta, modified: time.Now()}
	return nil
}

func (s *store) Get(_ context.Context, key string) (io.ReadCloser, plugin.ObjectInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.objects[key]
	if !ok {
		return nil, plugin.ObjectInfo{}, fmt.Errorf("object %q: %w", key, plugin.ErrNotFound)
	}
	// Objects are never modified in place, so the reader may share data.
	return io.NopCloser(bytes.NewReader(o.data)), o.info(key), nil
}

func (s *store) Stat(_ context.Context, key string) (plugin.ObjectInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.objects[key]
	if !ok {
		return plugin.ObjectInfo{}, fmt.Errorf("object %q: %w", key, plugin.ErrNotFound)
	}
	return o.info(key), nil
}

func (s *store) List(_ context.Context, prefix string) ([]plugin.ObjectInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []plugin.ObjectInfo
	for k, o := range s.objects {
		if strings.HasPrefix(k, prefix) {
			out = append(out, o.info(k))
		}
	}
	slices.SortFunc(out, func(a, b plugin.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (s *store) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, key)
	return nil
}

func (o object) info(key string) plugin.ObjectInfo {
	return plugin.ObjectInfo{Key: key, Size: int64(len(o.data)), Metadata: o.meta, Modified: o.modified}
}

func main() { plugin.Serve(newStore()) }
