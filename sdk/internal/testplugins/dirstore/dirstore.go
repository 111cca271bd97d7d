// Package dirstore is the SDK's own test backup store: objects are files in
// a directory. The host tests and benchmarks run it as a real plugin, and
// the benchmarks' baseline calls it in-process.
package dirstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"catalyst.dev/sdk/plugin"
)

// Store keeps each object as a data file and a metadata file, named by the
// escaped key so no key can leave the directory.
type Store struct {
	mu  sync.RWMutex
	dir string
}

var _ plugin.BackupStore = (*Store)(nil)

func (s *Store) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "testplugin-dirstore", Kind: plugin.KindBackupStore, Version: "0.0.1"}, nil
}

func (s *Store) ConfigSchema(context.Context) (plugin.Schema, error) {
	return plugin.Schema{Fields: []plugin.Field{
		{Name: "dir", Type: plugin.TypeString, Required: true, Description: "Directory the objects live in."},
		{Name: "tags", Type: plugin.TypeListString, Description: "Unused; exercises list decoding."},
		{Name: "labels", Type: plugin.TypeMapString, Description: "Unused; exercises map decoding."},
		{Name: "fsync", Type: plugin.TypeBool, Default: false, Description: "Sync files before renaming them."},
		{Name: "max_objects", Type: plugin.TypeNumber, Default: 1000000},
		{Name: "token", Type: plugin.TypeString, Sensitive: true},
	}}, nil
}

type config struct {
	Dir   string `json:"dir"`
	Fsync bool   `json:"fsync"`
}

func (s *Store) Configure(_ context.Context, raw plugin.Config) error {
	var c config
	if err := raw.Decode(&c); err != nil {
		return err
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("create store directory: %w", err)
	}
	s.mu.Lock()
	s.dir = c.Dir
	s.mu.Unlock()
	return nil
}

func (s *Store) paths(key string) (data, meta string, err error) {
	s.mu.RLock()
	dir := s.dir
	s.mu.RUnlock()
	if dir == "" {
		return "", "", fmt.Errorf("store is not configured: %w", plugin.ErrUnavailable)
	}
	if key == "" {
		return "", "", fmt.Errorf("empty key: %w", plugin.ErrInvalidArgument)
	}
	name := url.PathEscape(key)
	return filepath.Join(dir, name+".data"), filepath.Join(dir, name+".meta"), nil
}

func (s *Store) Put(_ context.Context, key string, r io.Reader, meta map[string]string) error {
	data, metaPath, err := s.paths(key)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(data), ".put-*")
	if err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return fmt.Errorf("put %q: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	mb, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("put %q: encode metadata: %w", key, err)
	}
	if err := os.WriteFile(metaPath, mb, 0o600); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), data); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	return nil
}

func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, plugin.ObjectInfo, error) {
	data, _, err := s.paths(key)
	if err != nil {
		return nil, plugin.ObjectInfo{}, err
	}
	f, err := os.Open(data)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, plugin.ObjectInfo{}, fmt.Errorf("object %q: %w", key, plugin.ErrNotFound)
	}
	if err != nil {
		return nil, plugin.ObjectInfo{}, fmt.Errorf("get %q: %w", key, err)
	}
	info, err := s.Stat(ctx, key)
	if err != nil {
		f.Close()
		return nil, plugin.ObjectInfo{}, err
	}
	return f, info, nil
}

func (s *Store) Stat(_ context.Context, key string) (plugin.ObjectInfo, error) {
	switch key { // keys that let tests check the host's error handling
	case "panic":
		panic("asked to panic")
	case "unavailable":
		return plugin.ObjectInfo{}, fmt.Errorf("backend is down: %w", plugin.ErrUnavailable)
	}
	data, metaPath, err := s.paths(key)
	if err != nil {
		return plugin.ObjectInfo{}, err
	}
	fi, err := os.Stat(data)
	if errors.Is(err, fs.ErrNotExist) {
		return plugin.ObjectInfo{}, fmt.Errorf("object %q: %w", key, plugin.ErrNotFound)
	}
	if err != nil {
		return plugin.ObjectInfo{}, fmt.Errorf("stat %q: %w", key, err)
	}
	info := plugin.ObjectInfo{Key: key, Size: fi.Size(), Modified: fi.ModTime()}
	if mb, err := os.ReadFile(metaPath); err == nil {
		_ = json.Unmarshal(mb, &info.Metadata)
	}
	return info, nil
}

func (s *Store) List(ctx context.Context, prefix string) ([]plugin.ObjectInfo, error) {
	s.mu.RLock()
	dir := s.dir
	s.mu.RUnlock()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	var out []plugin.ObjectInfo
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".data")
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		key, err := url.PathUnescape(name)
		if err != nil || !strings.HasPrefix(key, prefix) {
			continue
		}
		info, err := s.Stat(ctx, key)
		if errors.Is(err, plugin.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b plugin.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (s *Store) Delete(_ context.Context, key string) error {
	data, metaPath, err := s.paths(key)
	if err != nil {
		return err
	}
	if err := os.Remove(data); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	if err := os.Remove(metaPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	return nil
}
