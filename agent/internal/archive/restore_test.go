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
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// restoreFixture is a volume with files in it, beside a directory
// outside it that no restore may touch.
type restoreFixture struct {
	parent, dir, outside  string
	before, outsideBefore map[string]node
}

func newRestoreFixture(t *testing.T) *restoreFixture {
	t.Helper()
	parent := t.TempDir()
	f := &restoreFixture{parent: parent, dir: filepath.Join(parent, "vol"), outside: filepath.Join(parent, "outside")}
	writeTree(t, f.dir, []fsEntry{
		{path: "world/level.dat", data: "the old world", perm: 0o600},
		{path: "server.properties", data: "motd=old\n"},
		{path: "keep-link", kind: "link", data: "server.properties"},
	})
	writeTree(t, f.outside, []fsEntry{{path: "secret", data: "outside", perm: 0o600}})
	f.before, f.outsideBefore = snapshot(t, f.dir), snapshot(t, f.outside)
	return f
}

// untouched checks that the volume and what is outside it are as they
// were, inodes included, and that no staging directory is left.
func (f *restoreFixture) untouched(t *testing.T) {
	t.Helper()
	for _, c := range []struct {
		dir         string
		before, now map[string]node
	}{{f.dir, f.before, snapshot(t, f.dir)}, {f.outside, f.outsideBefore, snapshot(t, f.outside)}} {
		for p, b := range c.before {
			if n, ok := c.now[p]; !ok || n != b {
				t.Errorf("%s/%s changed:\n now %v\n was %v", c.dir, p, n, b)
			}
		}
		for p := range c.now {
			if _, ok := c.before[p]; !ok {
				t.Errorf("%s/%s appeared", c.dir, p)
			}
		}
	}
	if l := leftovers(t, f.parent); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}

// goodArchive is an archive of a tree unlike the fixture's.
func goodArchive(t *testing.T, c Compression) ([]byte, Result) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	writeTree(t, src, []fsEntry{
		{path: "world/level.dat", data: "the new world", perm: 0o600},
		{path: "world/region/r.0.0.mca", data: randomText(300_000, 3)},
		{path: "logs/latest.log", data: strings.Repeat("[INFO] Done\n", 20_000)},
		{path: "new.txt", data: "new"},
	})
	return createArchive(t, src, CreateOptions{Compression: c})
}

func TestRestoreRefusesDamagedArchives(t *testing.T) {
	for _, c := range []Compression{Zstd, Gzip, None} {
		archive, res := goodArchive(t, c)
		// A None archive ends in its two zero blocks: what comes just
		// before them is the end of an entry.
		atBoundary := archive[:len(archive)-1024]
		for _, tt := range []struct {
			name   string
			stream []byte
			verify func(string) error
			want   error
			// compressedOnly: only a compressed stream's own checksum
			// tells, not a tar's.
			compressedOnly bool
		}{
			{name: "a byte flipped in the middle", stream: flip(archive, len(archive)/2), verify: ExpectSHA256(res.SHA256)},
			{name: "a byte flipped, nothing to verify", stream: flip(archive, len(archive)/2), compressedOnly: true},
			{name: "another archive's digest", stream: archive, verify: ExpectSHA256(strings.Repeat("0", 64)), want: ErrChecksum},
			{name: "Verify says no", stream: archive, verify: func(string) error { return errSaysNo }, want: errSaysNo},
			{name: "cut in half", stream: archive[:len(archive)/2], verify: ExpectSHA256(res.SHA256)},
			{name: "cut in half, nothing to verify", stream: archive[:len(archive)/2], want: ErrCorrupt},
			{name: "cut between entries, nothing to verify", stream: atBoundary, want: ErrCorrupt},
			{name: "empty", stream: nil, want: ErrCorrupt},
		} {
			if tt.compressedOnly && c == None {
				continue
			}
			t.Run(string(c)+"/"+tt.name, func(t *testing.T) {
				f := newRestoreFixture(t)
				_, err := Restore(context.Background(), f.dir, bytes.NewReader(tt.stream), RestoreOptions{Verify: tt.verify, UID: -1, GID: -1})
				switch {
				case err == nil:
					t.Fatal("Restore took it")
				case tt.want != nil && !errors.Is(err, tt.want):
					t.Fatalf("Restore: %v, want %v", err, tt.want)
				case tt.want == nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrChecksum):
					t.Fatalf("Restore: %v, want ErrCorrupt or ErrChecksum", err)
				}
				f.untouched(t)
			})
		}
	}
}

var errSaysNo = errors.New("not this one")

func flip(b []byte, i int) []byte {
	out := bytes.Clone(b)
	out[i] ^= 0x55
	return out
}

// failingReader gives the first n bytes of b, then fails with err (after
// calling before, if set).
type failingReader struct {
	b      []byte
	n      int
	err    error
	before func()
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		if r.before != nil {
			r.before()
		}
		return 0, r.err
	}
	k := copy(p[:min(len(p), r.n)], r.b)
	r.b, r.n = r.b[k:], r.n-k
	return k, nil
}

func TestRestoreStopsOnReaderErrorsAndCancel(t *testing.T) {
	archive, res := goodArchive(t, Zstd)
	t.Run("the reader fails", func(t *testing.T) {
		f := newRestoreFixture(t)
		reset := errors.New("connection reset by peer")
		_, err := Restore(context.Background(), f.dir, &failingReader{b: archive, n: len(archive) / 2, err: reset},
			RestoreOptions{Verify: ExpectSHA256(res.SHA256), UID: -1, GID: -1})
		if !errors.Is(err, reset) || errors.Is(err, ErrCorrupt) {
			t.Fatalf("Restore: %v, want the reader's error, not the archive blamed", err)
		}
		f.untouched(t)
	})
	t.Run("ctx is cancelled", func(t *testing.T) {
		f := newRestoreFixture(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// Cancelled midway; the stream would go on but must not be read.
		r := &failingReader{b: archive, n: len(archive) / 2, err: errors.New("read after cancel"), before: cancel}
		_, err := Restore(ctx, f.dir, io.MultiReader(r, bytes.NewReader(archive[len(archive)/2:])),
			RestoreOptions{Verify: ExpectSHA256(res.SHA256), UID: -1, GID: -1})
		if err != context.Canceled {
			t.Fatalf("Restore: %v, want context.Canceled", err)
		}
		f.untouched(t)
	})
}

func TestRestoreHashesTheWholeStream(t *testing.T) {
	// GNU tar pads archives to 10 KiB records: the digest of the stream
	// as stored covers the padding.
	archive, _ := goodArchive(t, None)
	padded := append(bytes.Clone(archive), make([]byte, 10240-len(archive)%10240)...)
	sum := sha256.Sum256(padded)
	f := newRestoreFixture(t)
	res, err := Restore(context.Background(), f.dir, bytes.NewReader(padded), RestoreOptions{Verify: ExpectSHA256(hex.EncodeToString(sum[:])), UID: -1, GID: -1})
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if res.Size != int64(len(padded)) {
		t.Errorf("Size = %d, want the whole stream's %d", res.Size, len(padded))
	}
}

func TestRestoreRefusesMaliciousArchives(t *testing.T) {
	evilFile := tarEntry{name: "pwned", data: "pwned"}
	for _, tt := range []struct {
		name    string
		entries func(outside string) []tarEntry
		want    string
	}{
		{name: "a name with ..", want: "leads out", entries: func(string) []tarEntry {
			return []tarEntry{{name: "../outside/pwned", data: "x"}}
		}},
		{name: "a name that leaves later", want: "leads out", entries: func(string) []tarEntry {
			return []tarEntry{{name: "world/../../outside/pwned", data: "x"}}
		}},
		{name: "an absolute name", want: "absolute", entries: func(outside string) []tarEntry {
			return []tarEntry{{name: outside + "/pwned", data: "x"}}
		}},
		{name: "a file through a symlink to outside", want: "below the archive's symlink", entries: func(outside string) []tarEntry {
			return []tarEntry{{name: "link", typ: tar.TypeSymlink, linkname: outside}, {name: "link/pwned", data: "x"}}
		}},
		{name: "a file through a relative symlink", want: "below the archive's symlink", entries: func(string) []tarEntry {
			return []tarEntry{{name: "link", typ: tar.TypeSymlink, linkname: "../outside"}, {name: "link/pwned", data: "x"}}
		}},
		{name: "a directory through a symlink", want: "below the archive's symlink", entries: func(string) []tarEntry {
			return []tarEntry{{name: "a/link", typ: tar.TypeSymlink, linkname: "../../outside"}, {name: "a/link/d/", typ: tar.TypeDir}}
		}},
		{name: "a file through a symlink that stays inside", want: "below the archive's symlink", entries: func(string) []tarEntry {
			return []tarEntry{{name: "sub/", typ: tar.TypeDir}, {name: "in", typ: tar.TypeSymlink, linkname: "sub"}, {name: "in/x", data: "x"}}
		}},
		{name: "a hard link to /etc/passwd", want: "outside the archive", entries: func(string) []tarEntry {
			return []tarEntry{{name: "passwd", typ: tar.TypeLink, linkname: "/etc/passwd"}, evilFile}
		}},
		{name: "a hard link out by ..", want: "outside the archive", entries: func(string) []tarEntry {
			return []tarEntry{{name: "secret", typ: tar.TypeLink, linkname: "../outside/secret"}}
		}},
		{name: "a hard link to a symlink out", want: "no file the archive holds", entries: func(outside string) []tarEntry {
			return []tarEntry{{name: "s", typ: tar.TypeSymlink, linkname: outside + "/secret"}, {name: "h", typ: tar.TypeLink, linkname: "s"}}
		}},
		{name: "a hard link to what comes later", want: "no file the archive holds", entries: func(string) []tarEntry {
			return []tarEntry{{name: "h", typ: tar.TypeLink, linkname: "later"}, {name: "later", data: "x"}}
		}},
		{name: "a hard link through a symlink", want: "no file the archive holds", entries: func(string) []tarEntry {
			return []tarEntry{{name: "l", typ: tar.TypeSymlink, linkname: "../outside"}, {name: "h", typ: tar.TypeLink, linkname: "l/secret"}}
		}},
		{name: "a character device", want: "device or FIFO", entries: func(string) []tarEntry {
			return []tarEntry{{name: "null", typ: tar.TypeChar}}
		}},
		{name: "a block device", want: "device or FIFO", entries: func(string) []tarEntry {
			return []tarEntry{{name: "sda", typ: tar.TypeBlock}}
		}},
		{name: "a FIFO", want: "device or FIFO", entries: func(string) []tarEntry {
			return []tarEntry{{name: "pipe", typ: tar.TypeFifo}}
		}},
		{name: "a file where a directory is", want: "where the archive has a directory", entries: func(string) []tarEntry {
			return []tarEntry{{name: "d/", typ: tar.TypeDir}, {name: "d", data: "x"}}
		}},
		{name: "a directory below a file", want: "holds as a file", entries: func(string) []tarEntry {
			return []tarEntry{{name: "f", data: "x"}, {name: "f/g", data: "y"}}
		}},
		{name: "the top as a file", want: "no directory", entries: func(string) []tarEntry {
			return []tarEntry{{name: ".", data: "x"}}
		}},
		{name: "a symlink to nothing", want: "to nothing", entries: func(string) []tarEntry {
			return []tarEntry{{name: "l", typ: tar.TypeSymlink}}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newRestoreFixture(t)
			archive := handTar(t, tt.entries(f.outside)...)
			_, err := Restore(context.Background(), f.dir, bytes.NewReader(archive), RestoreOptions{UID: -1, GID: -1})
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Restore: %v, want ErrCorrupt saying %q", err, tt.want)
			}
			f.untouched(t)
		})
	}
}

func TestCleanName(t *testing.T) {
	for name, want := range map[string]string{
		"a/b": "a/b", "./a//b/": "a/b", "a/../b": "b", "./": ".", "a/..": ".",
		"": "", "a\x00b": "", "/etc/passwd": "", "../x": "", "a/../../x": "", "..": "",
	} {
		got, err := cleanName(name)
		if (err != nil) != (want == "") || got != want {
			t.Errorf("cleanName(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestRestoreRefusesTooManyEntries(t *testing.T) {
	f := newRestoreFixture(t)
	var entries []tarEntry
	for i := range 11 {
		entries = append(entries, tarEntry{name: fmt.Sprint("f", i), data: "x"})
	}
	_, err := restore(context.Background(), f.dir, bytes.NewReader(handTar(t, entries...)), RestoreOptions{UID: -1, GID: -1},
		restoreEnv{clock: realClock{}, maxEntries: 10})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "more than 10 entries") {
		t.Fatalf("restore: %v, want ErrCorrupt for too many entries", err)
	}
	f.untouched(t)
}

// wipeFixture is a volume and an archive that overlap: files only in the
// volume, only in the archive, in both, and of another type in each.
func wipeFixture(t *testing.T) (dir string, archive []byte, archived map[string]node) {
	t.Helper()
	base := t.TempDir()
	dir = filepath.Join(base, "vol")
	writeTree(t, dir, []fsEntry{
		{path: "keep.txt", data: "kept"},
		{path: "both.txt", data: "old"},
		{path: "sub/keep2", data: "kept too", perm: 0o600},
		{path: "sub/both2", data: "old2"},
		{path: "olddir", kind: "dir", perm: 0o750},
		{path: "olddir/inner/deep.txt", data: "deep"},
		{path: "keep-link", kind: "link", data: "keep.txt"},
		{path: "clash", kind: "dir"},
		{path: "clash/child", data: "child"},
		{path: "f2d", data: "a file"},
	})
	src := filepath.Join(base, "src")
	writeTree(t, src, []fsEntry{
		{path: "both.txt", data: "new", perm: 0o600},
		{path: "new.txt", data: "new file"},
		{path: "sub/both2", data: "new2"},
		{path: "sub/new2", data: "new too"},
		{path: "clash", data: "a file now"},
		{path: "f2d/x", data: "in a directory now"},
	})
	archive, _ = createArchive(t, src, CreateOptions{})
	return dir, archive, snapshot(t, src)
}

func TestRestoreWithoutWipeKeepsFilesTheArchiveLacks(t *testing.T) {
	dir, archive, archived := wipeFixture(t)
	before := snapshot(t, dir)
	if _, err := Restore(context.Background(), dir, bytes.NewReader(archive), RestoreOptions{UID: -1, GID: -1}); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	want := map[string]node{}
	for p, n := range archived {
		want[p] = n
	}
	// Kept as they were, the very same files (linked, not copied).
	for _, p := range []string{"keep.txt", "sub/keep2", "olddir", "olddir/inner", "olddir/inner/deep.txt", "keep-link"} {
		want[p] = before[p]
	}
	got := snapshot(t, dir)
	// The top and sub hold files of both: their modes are the archive's,
	// their mtimes moved.
	for _, p := range []string{".", "sub"} {
		n := want[p]
		n.mtime = got[p].mtime
		want[p] = n
	}
	sameTree(t, got, want, true)
	for _, p := range []string{"keep.txt", "sub/keep2", "olddir/inner/deep.txt"} {
		if got[p].ino != before[p].ino {
			t.Errorf("%s was copied, not linked (inode %d, was %d)", p, got[p].ino, before[p].ino)
		}
	}
	if l := leftovers(t, filepath.Dir(dir)); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}

func TestRestoreWithWipeLeavesExactlyTheArchive(t *testing.T) {
	dir, archive, archived := wipeFixture(t)
	if _, err := Restore(context.Background(), dir, bytes.NewReader(archive), RestoreOptions{Wipe: true, UID: -1, GID: -1}); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	sameTree(t, snapshot(t, dir), archived, true)
	if l := leftovers(t, filepath.Dir(dir)); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}

func TestRestoreIntoAFileFails(t *testing.T) {
	p := filepath.Join(t.TempDir(), "vol")
	if err := os.WriteFile(p, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	archive, _ := goodArchive(t, None)
	if _, err := Restore(context.Background(), p, bytes.NewReader(archive), RestoreOptions{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Restore into a file: %v, want an error saying it is not a directory", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "not a directory" {
		t.Error("the file changed")
	}
}

func TestSwapWithoutRenameExchange(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "vol")
	writeTree(t, dir, []fsEntry{{path: "old.txt", data: "old"}})
	stage := filepath.Join(parent, stagePrefix+"vol-abc")
	writeTree(t, stage, []fsEntry{{path: "new.txt", data: "new"}})
	want := snapshot(t, stage)
	if err := swapByRenames(stage, dir); err != nil {
		t.Fatal(err)
	}
	sameTree(t, snapshot(t, dir), want, true)
	if l := leftovers(t, parent); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}

func TestRecoverRemovesWhatRestoresLeft(t *testing.T) {
	parent := t.TempDir()
	writeTree(t, parent, []fsEntry{
		// A restore that died while extracting.
		{path: stagePrefix + "srv1-k3j4/world/level.dat", data: "half"},
		// One that died after the exchange: the old tree is left.
		{path: stagePrefix + "srv2-99zz/old.txt", data: "old"},
		{path: "srv2/new.txt", data: "new"},
		// One that died between the two renames of a swap without
		// RENAME_EXCHANGE: the old tree must come back.
		{path: stagePrefix + "srv3-abc" + oldSuffix + "/world.dat", data: "srv3's files"},
		{path: stagePrefix + "srv3-abc/new.dat", data: "complete but never swapped in"},
		// The same after the second rename: the old tree goes.
		{path: stagePrefix + "srv4-def" + oldSuffix + "/x", data: "old srv4"},
		{path: "srv4/x", data: "new srv4"},
		// Not ours.
		{path: "srv5/.restore-inside/x", data: "a server's own file"},
		{path: ".restored-notes", data: "someone's"},
	})
	if err := Recover(parent); err != nil {
		t.Fatal(err)
	}
	got := snapshot(t, parent)
	var names []string
	for p, n := range got {
		if n.kind == "file" {
			names = append(names, p)
		}
	}
	want := []string{".restored-notes", "srv2/new.txt", "srv3/world.dat", "srv4/x", "srv5/.restore-inside/x"}
	if !sameStrings(names, want) {
		t.Errorf("after Recover: %q, want %q", names, want)
	}
	if err := Recover(filepath.Join(parent, "does-not-exist")); err != nil {
		t.Errorf("Recover of a missing directory: %v", err)
	}
}

func sameStrings(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

// Names an archive holds twice are replaced in archive order, as tar
// does, whether the files are written in the background or not.
func TestRestoreTakesTheLastOfDuplicateNames(t *testing.T) {
	big := randomText(smallFile+1, 5)
	archive := handTar(t,
		tarEntry{name: "f", data: "first"}, tarEntry{name: "f", data: "second"},
		tarEntry{name: "big", data: "small first"}, tarEntry{name: "big", data: big},
		tarEntry{name: "small", data: big}, tarEntry{name: "small", data: "small last"},
		tarEntry{name: "l", data: "a file"}, tarEntry{name: "l", typ: tar.TypeSymlink, linkname: "f"},
		tarEntry{name: "m", typ: tar.TypeSymlink, linkname: "f"}, tarEntry{name: "m", data: "a file now"},
		tarEntry{name: "h", data: "linked"}, tarEntry{name: "h2", typ: tar.TypeLink, linkname: "h"},
		tarEntry{name: "d/", typ: tar.TypeDir, mode: 0o700}, tarEntry{name: "d/x", data: "x"},
		tarEntry{name: "d/", typ: tar.TypeDir, mode: 0o750},
	)
	dir := filepath.Join(t.TempDir(), "vol")
	if _, err := Restore(context.Background(), dir, bytes.NewReader(archive), RestoreOptions{UID: -1, GID: -1}); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	got := snapshot(t, dir)
	sum := func(s string) string { b := sha256.Sum256([]byte(s)); return hex.EncodeToString(b[:]) }
	for name, want := range map[string]string{"f": "second", "big": big, "small": "small last", "m": "a file now", "h": "linked", "h2": "linked", "d/x": "x"} {
		if n := got[name]; n.kind != "file" || n.sum != sum(want) {
			t.Errorf("%s: %v, want a file of %d bytes", name, n, len(want))
		}
	}
	if n := got["l"]; n.kind != "link" || n.target != "f" {
		t.Errorf("l: %v, want the symlink to f", n)
	}
	if got["h"].ino != got["h2"].ino {
		t.Error("h2 is not a hard link of h")
	}
	if n := got["d"]; n.perm != 0o750 {
		t.Errorf("d: %v, want the last entry's mode 0750", n)
	}
}
