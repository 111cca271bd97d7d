package archive

// Fuzzing, beside the seeds `go test` runs every time:
//
//	go test ./agent/internal/archive -run='^$' -fuzz=FuzzRestore -fuzztime=60s
//
// (or `make fuzz`). A crasher lands in testdata/fuzz/FuzzRestore/ and
// stays there as a regression seed once fixed.

import (
	"archive/tar"
	"bytes"
	"context"
	"path/filepath"
	"testing"
)

// FuzzRestore feeds Restore any stream: whatever it holds, nothing
// outside the volume changes, a failed restore leaves the volume as it
// was, and no staging directory stays behind.
func FuzzRestore(f *testing.F) {
	good := filepath.Join(f.TempDir(), "good")
	writeTree(f, good, []fsEntry{
		{path: "a/b.txt", data: "b"}, {path: "c", kind: "link", data: "a"}, {path: "d", kind: "dir", perm: 0o700},
	})
	for _, c := range []Compression{Zstd, Gzip, None} {
		archive, _ := createArchive(f, good, CreateOptions{Compression: c})
		f.Add(archive)
	}
	for _, entries := range [][]tarEntry{
		{{name: "../x", data: "x"}},
		{{name: "l", typ: tar.TypeSymlink, linkname: "../outside"}, {name: "l/x", data: "x"}},
		{{name: "h", typ: tar.TypeLink, linkname: "../outside/secret"}},
		{{name: "d/", typ: tar.TypeDir, mode: 0o500}, {name: "d/f", data: "f"}},
		{{name: "f", data: "1"}, {name: "f", data: "2"}, {name: "g", typ: tar.TypeLink, linkname: "f"}},
	} {
		f.Add(handTar(f, entries...))
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		fx := newRestoreFixture(t)
		_, err := Restore(context.Background(), fx.dir, bytes.NewReader(stream), RestoreOptions{UID: -1, GID: -1})
		if err != nil {
			fx.untouched(t)
			return
		}
		// The volume is the archive's now; outside, nothing moved.
		fx.before = snapshot(t, fx.dir)
		fx.untouched(t)
	})
}
