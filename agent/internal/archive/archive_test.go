package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// richTree holds what a volume may: nested and empty directories, empty
// and big files, symlinks of every kind, the modes servers use, names
// longer than tar's 100 bytes and names that are not ASCII.
func richTree(t testing.TB, dir string) {
	t.Helper()
	long := strings.Repeat("long-directory-name-", 6) // 120 bytes
	big := 3<<20 + 12345                              // several read chunks, not a whole one
	if testing.Short() {
		big = readChunk + 777
	}
	writeTree(t, dir, []fsEntry{
		{path: "server.properties", data: "motd=hello\nmax-players=20\n", perm: 0o640},
		{path: "secret.key", data: "very secret", perm: 0o600},
		{path: "start.sh", data: "#!/bin/sh\nexec java -jar server.jar\n", perm: 0o755},
		{path: "empty.txt", data: ""},
		{path: "empty-dir", kind: "dir", perm: 0o750},
		{path: "world/region/r.0.0.mca", data: randomText(big, 1)},
		{path: "world/level.dat", data: randomText(5000, 2), perm: 0o600},
		{path: "world/private", kind: "dir", perm: 0o700},
		{path: "world/private/data.json", data: `{"a":1}`},
		{path: "logs/2024-01-01-1.log", data: strings.Repeat("[12:00:00] [Server thread/INFO]: Done\n", 1000)},
		{path: "logs/latest.log", kind: "link", data: "2024-01-01-1.log"},
		{path: "world-link", kind: "link", data: "world/region"},
		{path: "abs-link", kind: "link", data: "/etc/hostname"},
		{path: "dangling", kind: "link", data: "does/not/exist"},
		{path: "up-link", kind: "link", data: "../../somewhere/else"},
		{path: long + "/" + long + "/file-with-a-long-path.txt", data: "deep"},
		{path: "long-target", kind: "link", data: strings.Repeat("x/", 80) + "target"},
		{path: "plugins/Ünïcödé-名前/конфиг.yml", data: "ключ: значение\n"},
		{path: "plugins/with space & 'quotes'.txt", data: "odd name"},
	})
}

func TestRoundTripKeepsTheTree(t *testing.T) {
	uid, gid := owner()
	for _, c := range []Compression{Zstd, Gzip, None} {
		t.Run(string(c), func(t *testing.T) {
			base := t.TempDir()
			src := filepath.Join(base, "src")
			richTree(t, src)
			want := snapshot(t, src)

			archive, created := createArchive(t, src, CreateOptions{Compression: c})
			sum := sha256.Sum256(archive)
			if created.SHA256 != hex.EncodeToString(sum[:]) || created.Size != int64(len(archive)) {
				t.Errorf("Create says sha256 %s, %d bytes; the archive is %x, %d bytes", created.SHA256, created.Size, sum, len(archive))
			}
			if created.Compression != c {
				t.Errorf("Compression = %q, want %q", created.Compression, c)
			}
			files := int64(0)
			bytesIn := int64(0)
			for _, n := range want {
				if n.kind == "file" {
					files++
					bytesIn += n.size
				}
			}
			if created.Files != files || created.Bytes != bytesIn {
				t.Errorf("Create counted %d files, %d bytes; the tree has %d, %d", created.Files, created.Bytes, files, bytesIn)
			}

			// Into a directory whose parent does not exist yet either.
			dst := filepath.Join(base, "volumes", "server-1")
			restored, err := Restore(context.Background(), dst, bytes.NewReader(archive), RestoreOptions{
				Verify: ExpectSHA256(created.SHA256), UID: uid, GID: gid,
			})
			if err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if restored.SHA256 != created.SHA256 || restored.Size != created.Size || restored.Compression != c {
				t.Errorf("Restore result %+v, want the digest, size and compression of %+v", restored, created)
			}
			if restored.Files != created.Files || restored.Bytes != created.Bytes {
				t.Errorf("Restore counted %d files, %d bytes; Create %d, %d", restored.Files, restored.Bytes, created.Files, created.Bytes)
			}
			sameTree(t, snapshot(t, dst), withOwner(want, uid, gid), uid >= 0)
			if l := leftovers(t, filepath.Dir(dst)); len(l) > 0 {
				t.Errorf("left behind: %v", l)
			}
		})
	}
}

func TestCreateIsDeterministic(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	richTree(t, src)
	a, _ := createArchive(t, src, CreateOptions{Compression: Gzip})
	b, _ := createArchive(t, src, CreateOptions{Compression: Gzip})
	if !bytes.Equal(a, b) {
		t.Fatal("two archives of one unchanged tree differ")
	}
}

// GNU tar reads what Create writes, and Restore what GNU tar writes: an
// operator can open a backup by hand, and import one made elsewhere.
func TestArchivesInterworkWithGNUTar(t *testing.T) {
	tarBin, err := exec.LookPath("tar")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("GNU tar is missing (Debian: apt-get install tar)")
		}
		t.Skip("GNU tar is missing")
	}
	base := t.TempDir()
	src := filepath.Join(base, "src")
	richTree(t, src)
	want := snapshot(t, src)

	t.Run("tar reads ours", func(t *testing.T) {
		archive, _ := createArchive(t, src, CreateOptions{Compression: Gzip})
		p := filepath.Join(base, "ours.tgz")
		if err := os.WriteFile(p, archive, 0o600); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(base, "by-tar")
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(tarBin, "-xzf", p, "-C", dst).CombinedOutput(); err != nil {
			t.Fatalf("tar -xzf: %v: %s", err, out)
		}
		sameTree(t, snapshot(t, dst), want, false)
	})
	t.Run("we read tar's", func(t *testing.T) {
		p := filepath.Join(base, "theirs.tgz")
		if out, err := exec.Command(tarBin, "-czf", p, "-C", src, ".").CombinedOutput(); err != nil {
			t.Fatalf("tar -czf: %v: %s", err, out)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		dst := filepath.Join(base, "by-us")
		if _, err := Restore(context.Background(), dst, f, RestoreOptions{UID: -1, GID: -1}); err != nil {
			t.Fatalf("Restore: %v", err)
		}
		sameTree(t, snapshot(t, dst), want, false)
	})
}
