package files_test

// Fuzzing, beside the seeds `go test` runs every time (testdata/fuzz):
//
//	go test ./agent/internal/files -run='^$' -fuzz=FuzzResolve -fuzztime=60s
//	go test ./agent/internal/files -run='^$' -fuzz=FuzzDecompress -fuzztime=60s
//
// (or `make fuzz`). A crasher lands in testdata/fuzz/<Fuzz…>/ and stays
// there as a regression seed once fixed.

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"catalyst.dev/agent/internal/files"
	"catalyst.dev/sdk/wire"
)

// evilFixture is a volume full of ways out: symlinks to the directory
// beside it (relative and absolute), to /etc, in loops and chains.
func evilFixture(t *testing.T) *fixture {
	f := newFixture(t, []string{"denied*"}, &budget{left: 1 << 20})
	f.put(t, map[string]string{"sub/file.txt": "inside", "sub/deeper/x": "x", "denied.txt": "hidden", "keep.txt": "keep"})
	f.link(t, "../outside", "out")
	f.link(t, f.outside, "abs")
	f.link(t, "/etc", "etc")
	f.link(t, "/etc/passwd", "passwd")
	f.link(t, "../../outside/secret", "sub/deep")
	f.link(t, "..", "sub/up")
	f.link(t, "loop-b", "loop-a")
	f.link(t, "loop-a", "loop-b")
	f.link(t, "sub", "in")
	f.link(t, "denied.txt", "innocent")
	return f
}

// insideVolume checks that file is open on something in the volume.
func insideVolume(t *testing.T, f *fixture, file *os.File, what string) {
	t.Helper()
	real, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(file.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	if real != f.vol && !strings.HasPrefix(real, f.vol+"/") {
		t.Fatalf("%s opened %s, outside the volume %s", what, real, f.vol)
	}
}

func FuzzResolve(fz *testing.F) {
	for _, seed := range []struct {
		op   byte
		a, b string
	}{
		{0, "sub/file.txt", ""}, {0, "out/secret", ""}, {1, "abs/secret", ""}, {2, "etc/x", ""},
		{3, "sub/up/up/outside/secret", "x"}, {4, "in/file.txt", "out/moved"}, {5, "in", "abs/copy"},
		{6, "out", ""}, {7, "passwd", "0777"}, {8, "../../..", ""}, {9, "/", "secret"}, {10, "loop-a", ""},
		{11, "innocent", ""}, {1, "sub/deep", ""}, {0, "in/../../outside/secret", ""},
	} {
		fz.Add(seed.op, seed.a, seed.b)
	}
	fz.Fuzz(func(t *testing.T, op byte, a, b string) {
		ctx := context.Background()
		f := evilFixture(t)
		outside := snapshot(t, f.outside, true)
		var err error
		switch op % 12 {
		case 0:
			var file *os.File
			if file, _, err = f.v.OpenRead(a); err == nil {
				insideVolume(t, f, file, "read "+a)
				file.Close()
			}
		case 1:
			var file *os.File
			if file, _, err = f.v.OpenFile(a, os.O_RDWR|os.O_CREATE, 0o644); err == nil {
				insideVolume(t, f, file, "open "+a)
				_, err = file.WriteString("written")
				file.Close()
			}
		case 2:
			_, err = f.v.Write(ctx, a, strings.NewReader(b))
		case 3:
			_, err = f.v.Mkdir(a)
		case 4:
			err = f.v.Rename(a, b)
		case 5:
			_, err = f.v.Copy(ctx, a, b)
		case 6:
			err = f.v.Delete(ctx, []string{a})
		case 7:
			err = f.v.Chmod(a, b)
		case 8:
			_, err = f.v.List(ctx, a, files.ListOptions{})
		case 9:
			_, err = f.v.Search(ctx, a, b, 0)
		case 10:
			_, err = f.v.Stat(a)
		case 11:
			_, err = f.v.Compress(ctx, wire.CompressRequest{Directory: a, Paths: []string{b}, Format: wire.ArchiveTarGz, Name: "fuzz"})
		}
		if err != nil && strings.Contains(err.Error(), filepath.Dir(f.vol)) {
			t.Fatalf("the error names a host path: %v", err)
		}
		sameSnapshot(t, "outside", outside, snapshot(t, f.outside, true))
		if f.read(t, "denied.txt") != "hidden" {
			t.Fatal("a denied file changed")
		}
	})
}

func FuzzDecompress(fz *testing.F) {
	// Valid archives the fuzzer mutates; testdata/fuzz/FuzzDecompress
	// holds evil ones.
	fz.Add(tarball(fz, dir("d/"), file("d/a.txt", "hello"), symlink("d/l", "a.txt"), hardlink("d/h", "d/a.txt")))
	fz.Add(gzipped(fz, tarball(fz, file("world/level.dat", "level"), symlink("up", "../keep.txt"))))
	fz.Add(zipball(fz, dir("d/"), file("d/a.txt", "hello"), symlink("d/l", "a.txt")))
	fz.Add(xzipped(fz, tarball(fz, file("a.txt", "xz")), 1<<16))
	fz.Add(tarball(fz, symlink("x", "out"), file("x/secret", "through")))
	fz.Add(tarball(fz, member{name: "f", typ: tar.TypeReg, body: "x", mode: 0o7777}))
	fz.Fuzz(func(t *testing.T, archive []byte) {
		f := evilFixture(t)
		if err := os.WriteFile(filepath.Join(f.vol, "fuzz.archive"), archive, 0o644); err != nil {
			t.Fatal(err)
		}
		before, outside := snapshot(t, f.vol, false), snapshot(t, f.outside, true)
		err := f.v.Decompress(context.Background(), wire.DecompressRequest{Path: "fuzz.archive", Destination: "/dest"})
		sameSnapshot(t, "outside", outside, snapshot(t, f.outside, true))
		noTemp(t, f.vol)
		if err != nil {
			if strings.Contains(err.Error(), filepath.Dir(f.vol)) {
				t.Fatalf("the error names a host path: %v", err)
			}
			sameSnapshot(t, "volume after a failed extraction", before, snapshot(t, f.vol, false))
			return
		}
		// Whatever was extracted is in the destination, and nothing in
		// it is special.
		after := snapshot(t, f.vol, false)
		for name, desc := range after {
			if _, ok := before[name]; ok || name == "dest" {
				continue
			}
			if !strings.HasPrefix(name, "dest/") {
				t.Fatalf("extraction wrote %s, outside its destination", name)
			}
			if desc[0] != '-' && desc[0] != 'd' && desc[0] != 'L' {
				t.Fatalf("extraction made %s: %s", name, desc)
			}
			if strings.ContainsAny(desc[:10], "ugt") {
				t.Fatalf("extraction made %s with special bits: %s", name, desc)
			}
		}
	})
}
