// Package localstore is the backup-local plugin's store: backup objects as
// plain files in a directory on the node, so an operator can browse them.
//
// The key "servers/<uuid>/<backup>.tar.zst" is the file
// <dir>/servers/<uuid>/<backup>.tar.zst; its metadata lives in the hidden
// sidecar .<backup>.tar.zst.meta beside it. Put writes a hidden temp file
// in the target directory and renames it over the final name, so an object
// is either absent or complete, never partial.
package localstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/plugin"
)

// Version is reported by Info.
const Version = "1.0.0"

// Hidden names the store owns beside each object.
const (
	metaSuffix = ".meta"
	tempInfix  = ".tmp-"
)

// tempName matches the temp files Put writes (data and sidecar): hidden,
// ending in .tmp- and 16 hex digits. Object keys cannot produce such a name
// because their segments never start with ".".
var tempName = regexp.MustCompile(`^\..+\.tmp-[0-9a-f]{16}$`)

// copyBufSize is how much Put reads and writes at a time: a few large
// writes rather than many small ones.
const copyBufSize = 1 << 20

// Store is a plugin.BackupStore on the local filesystem.
type Store struct {
	log hclog.Logger
	// syncFile makes a file's or directory's content durable; tests count
	// its calls or make it fail.
	syncFile func(*os.File) error

	mu  sync.RWMutex
	cfg *config // nil until Configure

	// tree keeps pruning from removing a directory Put has just created
	// for its temp file: Put holds it shared from creating the directory
	// to creating the file, pruning holds it exclusively.
	tree sync.RWMutex
	// keyLocks serialise the two renames (sidecar, then data) of puts to
	// the same key, so racing puts leave one version's data and metadata.
	keyLocks [64]sync.Mutex
}

var _ plugin.BackupStore = (*Store)(nil)

// New returns an unconfigured store that logs to log.
func New(log hclog.Logger) *Store {
	return &Store{log: log, syncFile: (*os.File).Sync}
}

type config struct {
	Dir           string `json:"dir"`
	Fsync         bool   `json:"fsync"`
	PartialMaxAge string `json:"partial_max_age"`

	partialMaxAge time.Duration
}

func (s *Store) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "backup-local", Kind: plugin.KindBackupStore, Version: Version}, nil
}

func (s *Store) ConfigSchema(context.Context) (plugin.Schema, error) {
	return plugin.Schema{Fields: []plugin.Field{
		{
			Name: "dir", Type: plugin.TypeString, Required: true,
			Description: "Absolute path of the directory backups are stored in; created (mode 0700) if missing. " +
				"A key such as servers/<uuid>/<backup>.tar.zst becomes a file under it.",
		},
		{
			Name: "fsync", Type: plugin.TypeBool, Default: true,
			Description: "Sync each object, its metadata and its directory to disk before Put returns, " +
				"so a completed backup survives a power loss. Turn off only on storage that makes it pointless.",
		},
		{
			Name: "partial_max_age", Type: plugin.TypeString, Default: "1h",
			Description: "Temp files of uploads older than this (a Go duration such as 1h or 30m) are " +
				"leftovers of a killed process and are removed when the plugin is configured.",
		},
	}}, nil
}

// Configure checks the configuration, creates dir and removes stale temp
// files left there by a killed process.
func (s *Store) Configure(_ context.Context, raw plugin.Config) error {
	var c config
	if err := raw.Decode(&c); err != nil {
		return fmt.Errorf("%w: %w", err, plugin.ErrInvalidArgument)
	}
	if c.Dir == "" || !filepath.IsAbs(c.Dir) {
		return fmt.Errorf("config: dir %q must be an absolute path: %w", c.Dir, plugin.ErrInvalidArgument)
	}
	c.Dir = filepath.Clean(c.Dir)
	age, err := time.ParseDuration(c.PartialMaxAge)
	if err != nil || age <= 0 {
		return fmt.Errorf("config: partial_max_age %q is not a positive duration such as \"1h\": %w", c.PartialMaxAge, plugin.ErrInvalidArgument)
	}
	c.partialMaxAge = age

	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("config: create dir: %w", err)
	}
	if err := checkWritable(c.Dir); err != nil {
		return fmt.Errorf("config: dir %q: %w", c.Dir, err)
	}
	removed, err := removeStale(c.Dir, time.Now().Add(-age))
	if err != nil {
		return fmt.Errorf("config: clean up stale temp files in %q: %w", c.Dir, err)
	}
	if removed > 0 {
		s.log.Info("removed leftovers of interrupted uploads", "dir", c.Dir, "files", removed, "older_than", age)
	}

	s.mu.Lock()
	s.cfg = &c
	s.mu.Unlock()
	return nil
}

// checkWritable finds out at configuration time, not at the first backup,
// that the directory cannot take files.
func checkWritable(dir string) error {
	f, err := createTemp(dir, ".probe")
	if err != nil {
		return fmt.Errorf("not writable: %w", err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// removeStale deletes temp files and orphaned sidecars (whose object is
// gone) last modified before cutoff. Younger ones may belong to a Put in
// flight in another process sharing the directory.
func removeStale(root string, cutoff time.Time) (int, error) {
	removed := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile
			}
			return err
		}
		name := d.Name()
		if d.IsDir() || !strings.HasPrefix(name, ".") {
			return nil
		}
		stale := tempName.MatchString(name)
		if !stale {
			obj, ok := strings.CutSuffix(name[1:], metaSuffix)
			if !ok {
				return nil
			}
			if _, err := os.Lstat(filepath.Join(filepath.Dir(path), obj)); !errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			stale = true // a sidecar whose object is gone
		}
		info, err := d.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed++
		return nil
	})
	return removed, err
}

func (s *Store) config() (*config, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cfg == nil {
		return nil, fmt.Errorf("backup-local is not configured: %w", plugin.ErrUnavailable)
	}
	return s.cfg, nil
}

// object is where a key lives on disk.
type object struct {
	cfg  *config
	dirs []string // key segments above the file, relative to cfg.Dir
	dir  string   // absolute directory of the file
	name string   // file name
}

func (o object) path() string     { return filepath.Join(o.dir, o.name) }
func (o object) metaPath() string { return filepath.Join(o.dir, "."+o.name+metaSuffix) }

func (s *Store) resolve(key string) (object, error) {
	segs, err := checkKey(key)
	if err != nil {
		return object{}, err
	}
	cfg, err := s.config()
	if err != nil {
		return object{}, err
	}
	dirs := segs[:len(segs)-1]
	return object{
		cfg:  cfg,
		dirs: dirs,
		dir:  filepath.Join(append([]string{cfg.Dir}, dirs...)...),
		name: segs[len(segs)-1],
	}, nil
}

// sidecar is the JSON in an object's .meta file.
type sidecar struct {
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Put writes r to a hidden temp file beside the final name, syncs it,
// writes the metadata sidecar the same way, then renames both into place
// and syncs the directory. Any failure before the renames removes the
// temp files: no partial object is ever visible under key.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, meta map[string]string) (err error) {
	o, err := s.resolve(key)
	if err != nil {
		return err
	}
	metaJSON, err := json.Marshal(sidecar{Metadata: meta})
	if err != nil {
		return fmt.Errorf("put %q: encode metadata: %w", key, err)
	}
	if fi, err := os.Lstat(o.path()); err == nil && fi.IsDir() {
		return fmt.Errorf("put %q: %s is a directory (the key is a prefix of other keys): %w", key, o.path(), plugin.ErrInvalidArgument)
	}

	data, created, err := s.createInTree(o)
	if err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	var metaTmp string
	defer func() {
		if err != nil {
			os.Remove(data.Name())
			if metaTmp != "" {
				os.Remove(metaTmp)
			}
			s.prune(o) // the directories Put may have created for nothing
		}
	}()
	if err := s.writeData(ctx, data, r, o.cfg.Fsync); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	if metaTmp, err = s.writeSidecar(o, metaJSON); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	// Last chance to give up: after the renames the object exists.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}

	lock := s.keyLock(key)
	lock.Lock()
	if err := os.Rename(metaTmp, o.metaPath()); err != nil {
		lock.Unlock()
		return fmt.Errorf("put %q: %w", key, err)
	}
	if err := os.Rename(data.Name(), o.path()); err != nil {
		lock.Unlock()
		return fmt.Errorf("put %q: %w", key, err)
	}
	lock.Unlock()

	if o.cfg.Fsync {
		// The renames, and the entries of directories Put created, are
		// durable only once their parent directories are synced.
		dirs := []string{o.dir}
		for _, d := range created {
			dirs = append(dirs, filepath.Dir(d))
		}
		slices.Sort(dirs)
		for _, d := range slices.Compact(dirs) {
			if err := s.syncDir(d); err != nil {
				// The object is in place but may not survive a crash;
				// the caller must not count it as stored.
				return fmt.Errorf("put %q: sync directory: %w", key, err)
			}
		}
	}
	return nil
}

// createInTree creates the object's directories (returning those it made)
// and its data temp file in them, under the shared tree lock so pruning
// cannot remove the directories in between.
func (s *Store) createInTree(o object) (*os.File, []string, error) {
	s.tree.RLock()
	defer s.tree.RUnlock()
	created, err := mkdirs(o.cfg.Dir, o.dirs)
	if err != nil {
		return nil, nil, err
	}
	f, err := createTemp(o.dir, "."+o.name)
	if err != nil {
		return nil, nil, err
	}
	return f, created, nil
}

// mkdirs creates root/dirs[0]/dirs[1]/… as needed and returns the ones it
// created, outermost first.
func mkdirs(root string, dirs []string) ([]string, error) {
	var created []string
	path := root
	for _, d := range dirs {
		path = filepath.Join(path, d)
		err := os.Mkdir(path, 0o700)
		switch {
		case err == nil:
			created = append(created, path)
		case errors.Is(err, fs.ErrExist):
			fi, serr := os.Stat(path)
			if serr != nil {
				return nil, serr
			}
			if !fi.IsDir() {
				return nil, fmt.Errorf("%s is an object, so it cannot be a directory of other keys: %w", path, plugin.ErrInvalidArgument)
			}
		default:
			return nil, err
		}
	}
	return created, nil
}

// createTemp creates a new hidden file named prefix.tmp-<16 hex digits>.
func createTemp(dir, prefix string) (*os.File, error) {
	for range 10 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		name := filepath.Join(dir, prefix+tempInfix+hex.EncodeToString(b[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("create temp file in %s: too many name collisions", dir)
}

// writeData copies r into f, checking ctx between reads so a cancelled
// upload stops even if r keeps delivering, then syncs and closes f.
func (s *Store) writeData(ctx context.Context, f *os.File, r io.Reader, fsync bool) error {
	buf := make([]byte, copyBufSize)
	for {
		if err := ctx.Err(); err != nil {
			f.Close()
			return err
		}
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				f.Close()
				return fmt.Errorf("write %s: %w", f.Name(), err)
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			f.Close()
			return fmt.Errorf("read object data: %w", rerr)
		}
	}
	if fsync {
		if err := s.syncFile(f); err != nil {
			f.Close()
			return fmt.Errorf("sync %s: %w", f.Name(), err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", f.Name(), err)
	}
	return nil
}

// writeSidecar writes the metadata to a temp file beside the object and
// returns its name.
func (s *Store) writeSidecar(o object, metaJSON []byte) (string, error) {
	f, err := createTemp(o.dir, "."+o.name+metaSuffix)
	if err != nil {
		return "", err
	}
	_, err = f.Write(metaJSON)
	if err == nil && o.cfg.Fsync {
		err = s.syncFile(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write metadata: %w", err)
	}
	return f.Name(), nil
}

func (s *Store) syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return s.syncFile(d)
}

func (s *Store) keyLock(key string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(key))
	return &s.keyLocks[h.Sum32()%uint32(len(s.keyLocks))]
}

// Get opens the object's file; the caller reads and closes it.
func (s *Store) Get(_ context.Context, key string) (io.ReadCloser, plugin.ObjectInfo, error) {
	o, err := s.resolve(key)
	if err != nil {
		return nil, plugin.ObjectInfo{}, err
	}
	if _, err := lstatObject(key, o.path()); err != nil {
		return nil, plugin.ObjectInfo{}, err
	}
	f, err := os.Open(o.path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, plugin.ObjectInfo{}, fmt.Errorf("object %q: %w", key, plugin.ErrNotFound)
	}
	if err != nil {
		return nil, plugin.ObjectInfo{}, fmt.Errorf("get %q: %w", key, err)
	}
	// The open file is what the caller reads: describe it, not the path,
	// which a concurrent Put may already have replaced.
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, plugin.ObjectInfo{}, fmt.Errorf("get %q: %w", key, err)
	}
	info := plugin.ObjectInfo{Key: key, Size: fi.Size(), Modified: fi.ModTime(), Metadata: readMeta(o.metaPath())}
	return f, info, nil
}

// Stat describes the object.
func (s *Store) Stat(_ context.Context, key string) (plugin.ObjectInfo, error) {
	o, err := s.resolve(key)
	if err != nil {
		return plugin.ObjectInfo{}, err
	}
	fi, err := lstatObject(key, o.path())
	if err != nil {
		return plugin.ObjectInfo{}, err
	}
	return plugin.ObjectInfo{Key: key, Size: fi.Size(), Modified: fi.ModTime(), Metadata: readMeta(o.metaPath())}, nil
}

// lstatObject stats the object at path: only a regular file is an object;
// a directory there is a prefix of other keys.
func lstatObject(key, path string) (fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || (err == nil && !fi.Mode().IsRegular()) {
		return nil, fmt.Errorf("object %q: %w", key, plugin.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("stat %q: %w", key, err)
	}
	return fi, nil
}

// readMeta reads a sidecar; a missing or unreadable one means no metadata
// (an operator may have copied the archive in by hand).
func readMeta(path string) map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var sc sidecar
	if json.Unmarshal(b, &sc) != nil {
		return nil
	}
	return sc.Metadata
}

// List walks the directory the prefix points into, skipping hidden (temp
// and sidecar) files, and returns the objects whose key has the prefix.
func (s *Store) List(_ context.Context, prefix string) ([]plugin.ObjectInfo, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	cfg, err := s.config()
	if err != nil {
		return nil, err
	}
	// Only the directory named by the prefix's complete segments can hold
	// matches; its partial last segment filters what is found there.
	dirPart := prefix[:strings.LastIndex(prefix, "/")+1]
	start := filepath.Join(cfg.Dir, filepath.FromSlash(dirPart))
	var out []plugin.ObjectInfo
	err = filepath.WalkDir(start, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				return nil // nothing there, or removed meanwhile
			}
			return err
		}
		if path == start {
			if !d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(start, path)
		if err != nil {
			return err
		}
		key := dirPart + filepath.ToSlash(rel)
		if d.IsDir() {
			if k := key + "/"; !strings.HasPrefix(k, prefix) && !strings.HasPrefix(prefix, k) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		meta := readMeta(filepath.Join(filepath.Dir(path), "."+d.Name()+metaSuffix))
		out = append(out, plugin.ObjectInfo{Key: key, Size: fi.Size(), Modified: fi.ModTime(), Metadata: meta})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	// Directory order is not key order ("a-b" sorts before "a/1").
	slices.SortFunc(out, func(a, b plugin.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete removes the object and its sidecar, then the directories that
// became empty, up to dir. A missing key is not an error.
func (s *Store) Delete(_ context.Context, key string) error {
	o, err := s.resolve(key)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(o.path())
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
	case err != nil:
		return fmt.Errorf("delete %q: %w", key, err)
	case !fi.Mode().IsRegular():
		return nil // a prefix of other keys, or an operator's symlink: not an object
	default:
		if err := os.Remove(o.path()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %q: %w", key, err)
		}
	}
	if err := os.Remove(o.metaPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %q: metadata: %w", key, err)
	}
	if o.cfg.Fsync {
		if err := s.syncDir(o.dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %q: sync directory: %w", key, err)
		}
	}
	s.prune(o)
	return nil
}

// prune removes the object's directories that are now empty, deepest
// first, stopping at the first one that is not (or at dir itself).
func (s *Store) prune(o object) {
	s.tree.Lock()
	defer s.tree.Unlock()
	for i := len(o.dirs); i > 0; i-- {
		d := filepath.Join(append([]string{o.cfg.Dir}, o.dirs[:i]...)...)
		if err := os.Remove(d); err != nil {
			return // not empty, or already gone
		}
	}
}
