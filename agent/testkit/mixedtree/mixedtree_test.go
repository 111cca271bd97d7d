package mixedtree_test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"catalyst.dev/agent/testkit/mixedtree"
)

// digest describes a tree: every entry's name, type, mode, mtime, and a
// file's content hash or a link's target.
func digest(t *testing.T, dir string) (string, map[fs.FileMode]int) {
	t.Helper()
	h := sha256.New()
	modes := map[fs.FileMode]int{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s %v %d\n", rel, fi.Mode(), fi.ModTime().Unix())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "-> %s\n", target)
		case fi.Mode().IsRegular():
			modes[fi.Mode().Perm()]++
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := io.Copy(h, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), modes
}

func TestGenerateIsDeterministic(t *testing.T) {
	const size = 24 << 20
	base := t.TempDir()
	a, b, c := filepath.Join(base, "a"), filepath.Join(base, "b"), filepath.Join(base, "c")
	sa, err := mixedtree.Generate(a, size, 7)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := mixedtree.Generate(b, size, 7)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mixedtree.Generate(c, size, 8); err != nil {
		t.Fatal(err)
	}
	if sa != sb {
		t.Fatalf("same seed, different stats: %+v and %+v", sa, sb)
	}
	da, modes := digest(t, a)
	if db, _ := digest(t, b); da != db {
		t.Fatal("the same seed made two different trees")
	}
	if dc, _ := digest(t, c); da == dc {
		t.Fatal("two seeds made the same tree")
	}

	if sa.Bytes != size {
		t.Errorf("Bytes = %d, want %d", sa.Bytes, size)
	}
	if sa.Files < 300 || sa.Dirs < 10 || sa.Symlinks < 2 {
		t.Errorf("stats %+v: want many files, nested directories and symlinks", sa)
	}
	for _, m := range []fs.FileMode{0o600, 0o640, 0o644, 0o755} {
		if modes[m] == 0 {
			t.Errorf("no file has mode %v (modes: %v)", m, modes)
		}
	}
}

func TestGenerateRefusesANonEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := mixedtree.Generate(dir, 1<<20, 1); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("Generate into a non-empty directory: %v, want an error saying so", err)
	}
}
