package files_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"catalyst.dev/agent/internal/files"
	"catalyst.dev/sdk/wire"
)

func fileHash(t testing.TB, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// Hand-written ways out of a volume: each must fail, and nothing outside
// may change.
func TestNothingLeavesTheVolume(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil, nil)
	f.put(t, map[string]string{"sub/file.txt": "inside"})
	f.link(t, "loop-b", "loop-a")
	f.link(t, "loop-a", "loop-b")
	f.link(t, "/etc", "etc")
	f.link(t, "/etc/passwd", "passwd")
	f.link(t, "../outside", "out")
	f.link(t, f.outside, "abs")
	f.link(t, "../../outside/secret", "sub/deep")
	outside := snapshot(t, f.outside, true)
	passwd := fileHash(t, "/etc/passwd")
	etc := snapshot(t, "/etc", true)

	read := func(p string) func() error {
		return func() error {
			file, _, err := f.v.OpenRead(p)
			if err == nil {
				file.Close()
			}
			return err
		}
	}
	write := func(p string) func() error {
		return func() error { _, err := f.v.Write(ctx, p, strings.NewReader("pwned")); return err }
	}
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"read a symlink loop", read("loop-a"), files.ErrInvalid},
		{"write a symlink loop", write("loop-a"), files.ErrInvalid},
		{"read through an absolute symlink to /etc", read("etc/passwd"), files.ErrInvalid},
		{"read a symlink to /etc/passwd", read("passwd"), files.ErrInvalid},
		{"read through a relative symlink out", read("out/secret"), files.ErrInvalid},
		{"read through an absolute symlink to a directory beside", read("abs/secret"), files.ErrInvalid},
		{"read a nested symlink out", read("sub/deep"), files.ErrInvalid},
		{"read ../../outside/secret stays inside", read("../../outside/secret"), fs.ErrNotExist},
		{"read ../../etc/passwd meets the etc symlink", read("../../etc/passwd"), files.ErrInvalid},
		{"write through a symlink to /etc", write("etc/catalyst-pwned"), files.ErrInvalid},
		{"write a symlink to /etc/passwd", write("passwd"), files.ErrInvalid},
		{"write through a relative symlink out", write("out/secret"), files.ErrInvalid},
		{"write through an absolute symlink out", write("abs/secret"), files.ErrInvalid},
		{"write a nested symlink out", write("sub/deep"), files.ErrInvalid},
		{"list /etc through a symlink", func() error { _, err := f.v.List(ctx, "etc", files.ListOptions{}); return err }, files.ErrInvalid},
		{"list outside through a symlink", func() error { _, err := f.v.List(ctx, "out", files.ListOptions{}); return err }, files.ErrInvalid},
		{"search through a symlink", func() error { _, err := f.v.Search(ctx, "abs", "secret", 0); return err }, files.ErrInvalid},
		{"chmod a symlink to /etc/passwd", func() error { return f.v.Chmod("passwd", "0777") }, files.ErrInvalid},
		{"chmod through a symlink out", func() error { return f.v.Chmod("out/secret", "0777") }, files.ErrInvalid},
		{"mkdir through a symlink to /etc", func() error { _, err := f.v.Mkdir("etc/catalyst"); return err }, files.ErrInvalid},
		{"copy from /etc", func() error { _, err := f.v.Copy(ctx, "etc/passwd", "stolen"); return err }, files.ErrInvalid},
		{"copy into /etc", func() error { _, err := f.v.Copy(ctx, "sub/file.txt", "etc/catalyst"); return err }, files.ErrInvalid},
		{"rename out of a symlinked directory", func() error { return f.v.Rename("out/secret", "stolen") }, files.ErrInvalid},
		{"rename into a symlinked directory", func() error { return f.v.Rename("sub/file.txt", "out/planted") }, files.ErrInvalid},
		{"delete through a symlink out", func() error { return f.v.Delete(ctx, []string{"out/secret"}) }, files.ErrInvalid},
		{"compress through a symlink out", func() error {
			_, err := f.v.Compress(ctx, wire.CompressRequest{Directory: "/", Paths: []string{"out/secret"}, Format: wire.ArchiveZip})
			return err
		}, files.ErrInvalid},
		{"compress into a symlink out", func() error {
			_, err := f.v.Compress(ctx, wire.CompressRequest{Directory: "/out", Paths: []string{"secret"}, Format: wire.ArchiveZip})
			return err
		}, files.ErrInvalid},
		{"decompress from outside", func() error { return f.v.Decompress(ctx, wire.DecompressRequest{Path: "abs/secret"}) }, files.ErrInvalid},
		{"stat ../.. stays inside", func() error { _, err := f.v.Stat("../../outside/secret"); return err }, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.name, tt.op(), tt.want) })
	}
	// What may succeed acts inside: the symlinks themselves are copied,
	// archived and deleted, never what they point to.
	if _, err := f.v.Copy(ctx, "passwd", "passwd-copy"); err != nil {
		t.Fatal(err)
	}
	if l, err := os.Readlink(filepath.Join(f.vol, "passwd-copy")); err != nil || l != "/etc/passwd" {
		t.Fatalf("copy of a symlink = %q %v, want the symlink", l, err)
	}
	if _, err := f.v.Compress(ctx, wire.CompressRequest{Directory: "/", Paths: []string{"etc", "abs", "out"}, Format: wire.ArchiveTarGz, Name: "links"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Write(ctx, "../../outside/secret", strings.NewReader("inside after all")); err != nil {
		t.Fatal(err)
	}
	if f.read(t, "outside/secret") != "inside after all" {
		t.Fatal("a ../.. write did not land inside the volume")
	}
	if err := f.v.Delete(ctx, []string{"abs", "out", "etc", "passwd"}); err != nil {
		t.Fatal(err)
	}

	sameSnapshot(t, "outside", outside, snapshot(t, f.outside, true))
	sameSnapshot(t, "/etc", etc, snapshot(t, "/etc", true))
	if fileHash(t, "/etc/passwd") != passwd {
		t.Fatal("/etc/passwd changed")
	}
	if _, err := os.Lstat("/etc/catalyst-pwned"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a file was written into /etc")
	}
}
