package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// owner is who the tests restore files to: a game user when the tests
// run as root (so ownership shows), the agent's own user otherwise.
func owner() (uid, gid int) {
	if os.Geteuid() == 0 {
		return 1000, 1001
	}
	return -1, -1
}

// node is what a tree holds at one path, as the tests compare it.
type node struct {
	kind   string // "dir", "file", "link"
	perm   fs.FileMode
	sum    string // a file's sha256
	size   int64
	target string // a link's
	mtime  int64  // files' and directories'
	uid    int
	gid    int
	ino    uint64
}

func (n node) String() string {
	return fmt.Sprintf("%s %v size=%d sum=%.8s target=%q mtime=%d owner=%d:%d", n.kind, n.perm, n.size, n.sum, n.target, n.mtime, n.uid, n.gid)
}

// snapshot describes every entry below dir (the top included, as ".").
func snapshot(t testing.TB, dir string) map[string]node {
	t.Helper()
	out := map[string]node{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		st := fi.Sys().(*syscall.Stat_t)
		n := node{perm: fi.Mode().Perm(), mtime: fi.ModTime().Unix(), uid: int(st.Uid), gid: int(st.Gid), ino: st.Ino}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			n.kind, n.mtime = "link", 0
			if n.target, err = os.Readlink(p); err != nil {
				return err
			}
		case fi.IsDir():
			n.kind = "dir"
		case fi.Mode().IsRegular():
			n.kind, n.size = "file", fi.Size()
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := sha256.Sum256(b)
			n.sum = hex.EncodeToString(s[:])
		default:
			n.kind = fi.Mode().Type().String()
		}
		out[rel] = n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree compares two snapshots: kinds, modes, contents, targets and
// mtimes; owners and inodes only when asked.
func sameTree(t testing.TB, got, want map[string]node, withOwner bool) {
	t.Helper()
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("%s: missing (want %v)", p, w)
			continue
		}
		g.ino, w.ino = 0, 0
		if !withOwner {
			g.uid, g.gid, w.uid, w.gid = 0, 0, 0, 0
		}
		if g != w {
			t.Errorf("%s:\n got %v\nwant %v", p, g, w)
		}
	}
	for p, g := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: unexpected %v", p, g)
		}
	}
}

// withOwner is want as restored to uid:gid.
func withOwner(want map[string]node, uid, gid int) map[string]node {
	out := map[string]node{}
	for p, n := range want {
		if uid >= 0 {
			n.uid, n.gid = uid, gid
		}
		out[p] = n
	}
	return out
}

// fsEntry is one entry of a test tree.
type fsEntry struct {
	path string
	kind string // "dir", "file" (the default), "link"
	data string // a file's content or a link's target
	perm fs.FileMode
}

var testMtime = time.Date(2024, 3, 1, 10, 20, 30, 0, time.UTC)

// writeTree creates the entries below dir, then gives files and
// directories testMtime plus their index in seconds, deepest first.
func writeTree(t testing.TB, dir string, entries []fsEntry) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		perm := e.perm
		if perm == 0 {
			perm = 0o644
			if e.kind == "dir" {
				perm = 0o755
			}
		}
		var err error
		switch e.kind {
		case "dir":
			if err = os.Mkdir(p, perm); err == nil {
				err = os.Chmod(p, perm)
			}
		case "link":
			err = os.Symlink(e.data, p)
		default:
			if err = os.WriteFile(p, []byte(e.data), perm); err == nil {
				err = os.Chmod(p, perm)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].kind == "link" {
			continue
		}
		m := testMtime.Add(time.Duration(i) * time.Second)
		if err := os.Chtimes(filepath.Join(dir, entries[i].path), m, m); err != nil {
			t.Fatal(err)
		}
	}
}

// randomText is n bytes of deterministic noise.
func randomText(n int, seed uint64) string {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	return string(b)
}

// createArchive archives dir into memory.
func createArchive(t testing.TB, dir string, opts CreateOptions) ([]byte, Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Create(context.Background(), dir, &buf, opts)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return buf.Bytes(), res
}

// tarEntry is one member of a hand-made archive.
type tarEntry struct {
	name     string
	typ      byte
	data     string
	linkname string
	mode     int64
}

// handTar builds an uncompressed tar as an attacker would.
func handTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Linkname: e.linkname, Mode: mode, ModTime: testMtime, Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := io.WriteString(tw, e.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// listTar names the entries of an archive Create made, with a link's
// target after " -> ".
func listTar(t testing.TB, archive []byte) []string {
	t.Helper()
	comp, dec, err := newDecompressor(archive, bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	_ = comp
	tr := tar.NewReader(dec)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		n := h.Name
		if h.Linkname != "" {
			n += " -> " + h.Linkname
		}
		names = append(names, n)
	}
}

// leftovers lists what beside dir a restore may have left behind.
func leftovers(t testing.TB, parent string) []string {
	t.Helper()
	es, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if strings.HasPrefix(e.Name(), stagePrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}
