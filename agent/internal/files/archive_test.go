package files_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"

	"catalyst.dev/agent/internal/files"
	"catalyst.dev/agent/internal/metrics"
	"catalyst.dev/sdk/wire"
)

// member is one entry of a test archive.
type member struct {
	name   string
	typ    byte // tar type; for zips, TypeReg, TypeDir or TypeSymlink
	body   string
	link   string
	mode   int64
	size   int64 // zips: the declared size when not len(body)
	devMaj int64
}

func file(name, body string) member {
	return member{name: name, typ: tar.TypeReg, body: body, mode: 0o644}
}
func dir(name string) member { return member{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, target string) member {
	return member{name: name, typ: tar.TypeSymlink, link: target, mode: 0o777}
}
func hardlink(name, target string) member {
	return member{name: name, typ: tar.TypeLink, link: target, mode: 0o644}
}
func special(name string, typ byte) member {
	return member{name: name, typ: typ, mode: 0o644, devMaj: 1}
}

func tarball(t testing.TB, ms ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		h := &tar.Header{Name: m.name, Typeflag: m.typ, Mode: m.mode, Linkname: m.link, Devmajor: m.devMaj, Format: tar.FormatPAX}
		if m.typ == tar.TypeReg {
			h.Size = int64(len(m.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, m.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawHeader is a ustar header block, for what tar.Writer will not
// write.
func rawHeader(name string, typ byte, size int64) []byte {
	b := make([]byte, 512)
	copy(b, name)
	copy(b[100:], "0000644\x00")
	copy(b[108:], "0000000\x00")
	copy(b[116:], "0000000\x00")
	copy(b[124:], fmt.Sprintf("%011o\x00", size))
	copy(b[136:], "00000000000\x00")
	b[156] = typ
	copy(b[257:], "ustar\x0000")
	copy(b[148:], "        ")
	var sum int
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// pad fills b up to a multiple of tar's 512-byte blocks.
func pad(b []byte) []byte { return append(b, make([]byte, (512-len(b)%512)%512)...) }

// sparseBomb is a GNU sparse file (PAX format 1.0) of 1 TiB, one byte of
// data and the rest a hole the reader fills with zeros.
func sparseBomb() []byte {
	var records string
	for _, kv := range [][2]string{{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"}, {"GNU.sparse.name", "big.bin"}, {"GNU.sparse.realsize", "1099511627776"}} {
		rec := " " + kv[0] + "=" + kv[1] + "\n"
		n := len(rec) + 2
		if len(strconv.Itoa(n)+rec) != n {
			n++
		}
		records += strconv.Itoa(n) + rec
	}
	var b []byte
	b = append(b, rawHeader("PaxHeaders/big.bin", 'x', int64(len(records)))...)
	b = append(b, pad([]byte(records))...)
	b = append(b, rawHeader("big.bin", '0', 1024)...)
	b = append(b, pad([]byte("1\n0\n1\n"))...)
	b = append(b, pad([]byte("x"))...)
	return append(b, make([]byte, 1024)...)
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func xzipped(t testing.TB, b []byte, dict int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := xz.WriterConfig{DictCap: dict}.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipball writes members as a zip; a declared size that differs from the
// body is written raw, as a lying archive would.
func zipball(t testing.TB, ms ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		h := &zip.FileHeader{Name: m.name, Method: zip.Store}
		mode := fs.FileMode(m.mode)
		body := m.body
		switch m.typ {
		case tar.TypeDir:
			mode |= fs.ModeDir
		case tar.TypeSymlink:
			mode |= fs.ModeSymlink
			body = m.link
		}
		h.SetMode(mode)
		if m.size != 0 {
			h.CRC32 = crc32.ChecksumIEEE([]byte(body))
			h.CompressedSize64 = uint64(len(body))
			h.UncompressedSize64 = uint64(m.size)
			w, err := zw.CreateRaw(h)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, body)
			continue
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (f *fixture) putBytes(t testing.TB, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.vol, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCompressThenDecompressRestoresTheTree(t *testing.T) {
	for _, format := range []string{wire.ArchiveTarGz, wire.ArchiveZip} {
		t.Run(format, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, []string{"*.secret"}, nil)
			f.put(t, map[string]string{"server/world/level.dat": "level", "server/start.sh": "#!/bin/sh", "server/empty/": "",
				"server/plugins/x.secret": "hidden", "server/big.bin": strings.Repeat("0123456789", 300_000)})
			if err := os.Chmod(filepath.Join(f.vol, "server/start.sh"), 0o755); err != nil {
				t.Fatal(err)
			}
			f.link(t, "world/level.dat", "server/current")
			fi, err := f.v.Compress(ctx, wire.CompressRequest{Directory: "/server", Paths: []string{"world", "start.sh", "empty", "plugins", "big.bin", "current"}, Format: format, Name: "backup"})
			if err != nil {
				t.Fatal(err)
			}
			if fi.Path != "/server/backup."+format || fi.Size == 0 {
				t.Fatalf("archive = %+v", fi)
			}
			if uid, _ := owner(t, filepath.Join(f.vol, "server/backup."+format)); uid != gameUID {
				t.Error("archive not the game's")
			}
			if _, err := f.v.Compress(ctx, wire.CompressRequest{Directory: "/server", Paths: []string{"world"}, Format: format, Name: "backup"}); !errors.Is(err, fs.ErrExist) {
				t.Fatalf("second archive of the same name = %v, want ErrExist", err)
			}
			// The archive's name says nothing: the content tells the format.
			if err := os.Rename(filepath.Join(f.vol, fi.Path), filepath.Join(f.vol, "misleading.rar")); err != nil {
				t.Fatal(err)
			}
			if err := f.v.Decompress(ctx, wire.DecompressRequest{Path: "misleading.rar", Destination: "/restored"}); err != nil {
				t.Fatal(err)
			}
			want := snapshot(t, filepath.Join(f.vol, "server"), false)
			delete(want, "plugins/x.secret")
			got := snapshot(t, filepath.Join(f.vol, "restored"), false)
			for k, v := range want {
				if k == "." {
					continue
				}
				// Extracted entries are the game's; the originals were put
				// there by root.
				v = strings.Replace(v, " 0:0", " 1000:1001", 1)
				if got[k] != v {
					t.Errorf("%s: restored %q, want %q", k, got[k], v)
				}
			}
			if len(got) != len(want) {
				t.Errorf("restored %d entries, want %d: %v", len(got), len(want), got)
			}
			noTemp(t, f.vol)
		})
	}
}

func TestCompressRequests(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil, nil)
	f.put(t, map[string]string{"a/file.txt": "x", "b/other.txt": "y"})
	tests := []struct {
		name     string
		req      wire.CompressRequest
		want     error
		wantName string
	}{
		{"default name", wire.CompressRequest{Directory: "/a", Paths: []string{"file.txt"}, Format: wire.ArchiveTarGz}, nil, "archive-"},
		{"name with its extension", wire.CompressRequest{Directory: "/a", Paths: []string{"file.txt"}, Format: wire.ArchiveTarGz, Name: "x.tgz"}, nil, "x.tgz"},
		{"the whole directory", wire.CompressRequest{Directory: "/a", Paths: []string{"."}, Format: wire.ArchiveZip, Name: "all"}, nil, "all.zip"},
		{"unknown format", wire.CompressRequest{Directory: "/a", Paths: []string{"file.txt"}, Format: "rar"}, files.ErrInvalid, ""},
		{"no paths", wire.CompressRequest{Directory: "/a", Format: wire.ArchiveZip}, files.ErrInvalid, ""},
		{"a path outside the directory", wire.CompressRequest{Directory: "/a", Paths: []string{"../b/other.txt"}, Format: wire.ArchiveZip}, files.ErrInvalid, ""},
		{"a missing path", wire.CompressRequest{Directory: "/a", Paths: []string{"nope"}, Format: wire.ArchiveZip}, fs.ErrNotExist, ""},
		{"a bad name", wire.CompressRequest{Directory: "/a", Paths: []string{"file.txt"}, Format: wire.ArchiveZip, Name: "x\ny"}, files.ErrInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fi, err := f.v.Compress(ctx, tt.req)
			wantErr(t, "compress", err, tt.want)
			if err == nil && !strings.HasPrefix(fi.Name, tt.wantName) {
				t.Errorf("archive named %q, want %q", fi.Name, tt.wantName)
			}
		})
	}
	// An archive of the directory that holds it leaves itself out.
	if err := f.v.Decompress(ctx, wire.DecompressRequest{Path: "a/all.zip", Destination: "unpacked"}); err != nil {
		t.Fatal(err)
	}
	got := snapshot(t, filepath.Join(f.vol, "unpacked"), false)
	if _, ok := got["all.zip"]; ok || got["file.txt"] == "" {
		t.Errorf("unpacked %v, want file.txt and not the archive itself", got)
	}
}

func TestCompressOverQuotaLeavesNothing(t *testing.T) {
	f := newFixture(t, nil, &budget{left: 1 << 20})
	f.put(t, map[string]string{"data/random.bin": string(randomBytes(3 << 20))})
	before := snapshot(t, f.vol, false)
	_, err := f.v.Compress(context.Background(), wire.CompressRequest{Directory: "/", Paths: []string{"data"}, Format: wire.ArchiveZip})
	if !errors.Is(err, metrics.ErrOverQuota) {
		t.Fatalf("compress = %v, want ErrOverQuota", err)
	}
	sameSnapshot(t, "volume", before, snapshot(t, f.vol, false))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	var x uint32 = 2463534242
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func TestDecompressFormats(t *testing.T) {
	plain := tarball(t, dir("d/"), file("d/a.txt", "tar content"))
	tests := []struct {
		name    string
		archive []byte
	}{
		{"tar", plain},
		{"tar.gz", gzipped(t, plain)},
		{"tar.xz", xzipped(t, plain, 1<<20)},
		{"zip", zipball(t, dir("d/"), file("d/a.txt", "tar content"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, nil)
			f.putBytes(t, "archive.bin", tt.archive)
			if err := f.v.Decompress(context.Background(), wire.DecompressRequest{Path: "/archive.bin"}); err != nil {
				t.Fatal(err)
			}
			if f.read(t, "d/a.txt") != "tar content" {
				t.Fatal("not extracted")
			}
			if uid, gid := owner(t, filepath.Join(f.vol, "d/a.txt")); uid != gameUID || gid != gameGID {
				t.Errorf("extracted file owned by %d:%d", uid, gid)
			}
			noTemp(t, f.vol)
		})
	}
}

func TestDecompressMergesIntoTheDestination(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil, nil)
	f.put(t, map[string]string{"world/old.dat": "old", "server.properties": "motd=old", "plugins/": ""})
	f.putBytes(t, "update.tar", tarball(t, file("world/new.dat", "new"), file("server.properties", "motd=new"), file("plugins/p.jar", "jar")))
	if err := f.v.Decompress(ctx, wire.DecompressRequest{Path: "update.tar"}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"world/old.dat": "old", "world/new.dat": "new", "server.properties": "motd=new", "plugins/p.jar": "jar"} {
		if got := f.read(t, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// A directory where the destination has a file, or the other way
	// round: refused before anything moves.
	for _, archive := range [][]byte{
		tarball(t, file("a-new-file", "x"), file("world", "a file where a directory is")),
		tarball(t, file("a-new-file", "x"), file("server.properties/x", "a directory where a file is")),
	} {
		f.putBytes(t, "clash.tar", archive)
		before := snapshot(t, f.vol, false)
		if err := f.v.Decompress(ctx, wire.DecompressRequest{Path: "clash.tar"}); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("decompress = %v, want ErrExist", err)
		}
		sameSnapshot(t, "volume", before, snapshot(t, f.vol, false))
	}
}

// Archives that try to leave the volume, or hide what they are: each is
// refused naming the entry, and the volume is as it was.
func TestDecompressRefusesEvilArchives(t *testing.T) {
	many := make([]member, files.MaxArchiveEntries+1)
	for i := range many {
		many[i] = dir("./")
	}
	tests := []struct {
		name     string
		archive  func(t testing.TB) []byte
		want     error
		wantText string
	}{
		{"tar zip-slip", func(t testing.TB) []byte { return tarball(t, file("ok.txt", "x"), file("../evil.txt", "x")) }, files.ErrInvalid, `"../evil.txt" leads out`},
		{"tar zip-slip through a directory", func(t testing.TB) []byte { return tarball(t, file("a/../../evil.txt", "x")) }, files.ErrInvalid, "leads out"},
		{"tar absolute name", func(t testing.TB) []byte { return tarball(t, file("/etc/evil", "x")) }, files.ErrInvalid, `"/etc/evil" has an absolute name`},
		{"tar symlink to an absolute path", func(t testing.TB) []byte { return tarball(t, symlink("etc", "/etc")) }, files.ErrInvalid, "absolute path"},
		{"tar symlink out of the volume", func(t testing.TB) []byte { return tarball(t, symlink("out", "../../outside")) }, files.ErrInvalid, "outside the volume"},
		{"tar symlink out, then a file written through it", func(t testing.TB) []byte {
			return tarball(t, symlink("out", "../outside"), file("out/secret", "pwned"))
		}, files.ErrInvalid, "outside the volume"},
		{"tar symlink inside, then a file written through it", func(t testing.TB) []byte {
			return tarball(t, dir("real/"), symlink("alias", "real"), file("alias/x", "x"))
		}, files.ErrInvalid, `lies inside the archive's symlink "alias"`},
		{"tar hard link to /etc/passwd", func(t testing.TB) []byte { return tarball(t, hardlink("passwd", "/etc/passwd")) }, files.ErrInvalid, "outside the archive"},
		{"tar hard link out", func(t testing.TB) []byte { return tarball(t, hardlink("secret", "../outside/secret")) }, files.ErrInvalid, "outside the archive"},
		{"tar hard link to nothing extracted", func(t testing.TB) []byte { return tarball(t, hardlink("h", "later.txt"), file("later.txt", "x")) }, files.ErrInvalid, "not a file the archive holds before it"},
		{"tar hard link to a directory", func(t testing.TB) []byte { return tarball(t, dir("d/"), hardlink("h", "d")) }, files.ErrInvalid, "not a file"},
		{"tar character device", func(t testing.TB) []byte { return tarball(t, special("dev", tar.TypeChar)) }, files.ErrInvalid, "device or FIFO"},
		{"tar block device", func(t testing.TB) []byte { return tarball(t, special("disk", tar.TypeBlock)) }, files.ErrInvalid, "device or FIFO"},
		{"tar FIFO", func(t testing.TB) []byte { return tarball(t, special("fifo", tar.TypeFifo)) }, files.ErrInvalid, "device or FIFO"},
		{"tar with too many entries", func(t testing.TB) []byte { return tarball(t, many...) }, files.ErrInvalid, "more than 100000 entries"},
		{"tar sparse file", func(t testing.TB) []byte { return sparseBomb() }, files.ErrInvalid, `"big.bin" is a sparse file`},
		{"tar cut short", func(t testing.TB) []byte { b := tarball(t, file("a.txt", strings.Repeat("x", 4096))); return b[:2048] }, files.ErrInvalid, ""},
		{"zip zip-slip", func(t testing.TB) []byte { return zipball(t, file("ok.txt", "x"), file("../evil.txt", "x")) }, files.ErrInvalid, "leads out"},
		{"zip zip-slip with backslashes", func(t testing.TB) []byte { return zipball(t, file(`..\..\evil.txt`, "x")) }, files.ErrInvalid, "leads out"},
		{"zip absolute name", func(t testing.TB) []byte { return zipball(t, file("/tmp/evil", "x")) }, files.ErrInvalid, "absolute"},
		{"zip symlink out", func(t testing.TB) []byte { return zipball(t, symlink("passwd", "/etc/passwd")) }, files.ErrInvalid, "absolute path"},
		{"zip declaring fewer bytes than it holds", func(t testing.TB) []byte {
			m := file("bomb.bin", strings.Repeat("x", 10000))
			m.size = 10
			return zipball(t, m)
		}, files.ErrInvalid, "bomb.bin"},
		{"zip declaring more bytes than it holds", func(t testing.TB) []byte {
			m := file("short.bin", "x")
			m.size = 5000
			return zipball(t, m)
		}, files.ErrInvalid, "short.bin"},
		{"xz with a 1 GiB dictionary", func(t testing.TB) []byte { return xzipped(t, tarball(t, file("a", "x")), 1<<30) }, files.ErrInvalid, "1 GiB dictionary"},
		{"not an archive", func(t testing.TB) []byte { return []byte("just some text") }, files.ErrInvalid, "not a tar, tar.gz, tar.xz or zip"},
		{"gzip of garbage", func(t testing.TB) []byte { return gzipped(t, []byte("not a tar")) }, files.ErrInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, nil)
			f.put(t, map[string]string{"real/": "", "keep.txt": "keep"})
			f.putBytes(t, "evil.archive", tt.archive(t))
			before, outside := snapshot(t, f.vol, false), snapshot(t, f.outside, true)
			err := f.v.Decompress(context.Background(), wire.DecompressRequest{Path: "evil.archive"})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("decompress = %v, want %v with %q", err, tt.want, tt.wantText)
			}
			sameSnapshot(t, "volume", before, snapshot(t, f.vol, false))
			sameSnapshot(t, "outside", outside, snapshot(t, f.outside, true))
		})
	}
}

func TestDecompressWithinTheQuotaAndDenylist(t *testing.T) {
	big := strings.Repeat("x", 3<<20)
	tests := []struct {
		name    string
		deny    []string
		archive func(t testing.TB) []byte
		want    error
	}{
		{"tar over quota", nil, func(t testing.TB) []byte { return gzipped(t, tarball(t, file("a.txt", "a"), file("big.bin", big))) }, metrics.ErrOverQuota},
		{"zip over quota, by its declared sizes", nil, func(t testing.TB) []byte { return zipball(t, file("a.txt", "a"), file("big.bin", big)) }, metrics.ErrOverQuota},
		{"a denied entry", []string{"*.jar"}, func(t testing.TB) []byte { return tarball(t, file("ok.txt", "a"), file("plugins/x.jar", "jar")) }, files.ErrDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.deny, &budget{left: 2 << 20})
			archive := tt.archive(t)
			f.putBytes(t, "a.archive", archive)
			before := snapshot(t, f.vol, false)
			err := f.v.Decompress(context.Background(), wire.DecompressRequest{Path: "a.archive", Destination: "/out"})
			wantErr(t, "decompress", err, tt.want)
			sameSnapshot(t, "volume", before, snapshot(t, f.vol, false))
		})
	}
}
