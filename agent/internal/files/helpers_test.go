package files_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"catalyst.dev/agent/internal/files"
	"catalyst.dev/agent/internal/metrics"
)

// The game's user in these tests: not the agent's (root), so ownership
// shows.
const gameUID, gameGID = 1000, 1001

// budget is a disk quota of a fixed number of bytes, as the collector
// approves writes: what it approved counts as used.
type budget struct {
	mu   sync.Mutex
	left int64
}

func (b *budget) CheckWrite(id string, n uint64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if int64(n) > b.left {
		return fmt.Errorf("%w: server %s: %d bytes more do not fit", metrics.ErrOverQuota, id, n)
	}
	b.left -= int64(n)
	return nil
}

// fixture is a volume in a fresh directory, beside a directory outside
// it that nothing may change.
type fixture struct {
	vol, outside string
	v            *files.Volume
}

func newFixture(t testing.TB, deny []string, quota files.Quota) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{vol: filepath.Join(dir, "vol"), outside: filepath.Join(dir, "outside")}
	for _, d := range []string{f.vol, f.outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(f.outside, "secret"), []byte("outside the volume"), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := files.OpenVolume("srv", f.vol, deny, quota, gameUID, gameGID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	f.v = v
	return f
}

// put creates files in the volume directly: "dir/" makes a directory,
// anything else a file with that content.
func (f *fixture) put(t testing.TB, entries map[string]string) {
	t.Helper()
	for name, content := range entries {
		p := filepath.Join(f.vol, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if name[len(name)-1] == '/' {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) link(t testing.TB, target, name string) {
	t.Helper()
	if err := os.Symlink(target, filepath.Join(f.vol, name)); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) read(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.vol, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// snapshot describes every entry under dir: type, mode, owner, content
// or link target, and, with times, modification times. Volumes are
// compared without directory times (a staging directory come and gone
// changes its parent's).
func snapshot(t testing.TB, dir string, times bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%v %d:%d", fi.Mode(), st.Uid, st.Gid)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc += " -> " + target
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			desc += " " + hex.EncodeToString(sum[:8])
		}
		if times && (!fi.IsDir() || p != dir) {
			desc += " " + fi.ModTime().String()
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameSnapshot(t testing.TB, what string, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %s was %q, is %q", what, k, v, after[k])
		}
	}
	for k, v := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s: %s appeared: %q", what, k, v)
		}
	}
}

// owner returns the uid and gid of the file at p.
func owner(t testing.TB, p string) (int, int) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid)
}

func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}
