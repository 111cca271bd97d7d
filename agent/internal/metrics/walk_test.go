package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// file writes size bytes to root/rel, making its directories.
func file(t *testing.T, root, rel string, size int) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWalkVolume(t *testing.T) {
	tests := []struct {
		name  string
		build func(t *testing.T, root string)
		want  uint64
	}{
		{"empty volume", func(t *testing.T, root string) {}, 0},
		{"nested directories add up their files only", func(t *testing.T, root string) {
			file(t, root, "server.jar", 1000)
			file(t, root, "world/region/r.0.0.mca", 4096)
			file(t, root, "world/level.dat", 10)
			if err := os.MkdirAll(filepath.Join(root, "empty/deeper"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, 1000 + 4096 + 10},
		{"a hard-linked file counts once", func(t *testing.T, root string) {
			file(t, root, "a", 5000)
			if err := os.Link(filepath.Join(root, "a"), filepath.Join(root, "b")); err != nil {
				t.Fatal(err)
			}
			file(t, root, "sub/other", 1)
			if err := os.Link(filepath.Join(root, "a"), filepath.Join(root, "sub/c")); err != nil {
				t.Fatal(err)
			}
		}, 5001},
		{"symlinks are not followed", func(t *testing.T, root string) {
			file(t, root, "real", 300)
			for name, target := range map[string]string{"etc": "/etc", "passwd": "/etc/passwd", "again": "real", "loop": "."} {
				if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
					t.Fatal(err)
				}
			}
		}, 300},
		{"apparent size of a sparse file", func(t *testing.T, root string) {
			f, err := os.Create(filepath.Join(root, "sparse"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(1 << 30); err != nil {
				t.Fatal(err)
			}
		}, 1 << 30},
		{"special files count nothing", func(t *testing.T, root string) {
			if err := unix.Mkfifo(filepath.Join(root, "fifo"), 0o600); err != nil {
				t.Fatal(err)
			}
			file(t, root, "x", 7)
		}, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			tt.build(t, root)
			res, err := walkVolume(context.Background(), root)
			if err != nil {
				t.Fatal(err)
			}
			if res.Bytes != tt.want || res.Skipped != 0 {
				t.Errorf("walk = %+v, want %d bytes and nothing skipped", res, tt.want)
			}
		})
	}
}

func TestWalkOfMissingVolumeIsEmpty(t *testing.T) {
	res, err := walkVolume(context.Background(), filepath.Join(t.TempDir(), "never-created"))
	if err != nil || res.Bytes != 0 {
		t.Fatalf("walk = %+v, %v; want 0 bytes, no error", res, err)
	}
}

func TestWalkFollowsSymlinkedRoot(t *testing.T) {
	dir := t.TempDir()
	file(t, dir, "real/f", 42)
	if err := os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	res, err := walkVolume(context.Background(), filepath.Join(dir, "link"))
	if err != nil || res.Bytes != 42 {
		t.Fatalf("walk = %+v, %v; want 42 bytes", res, err)
	}
}

func TestWalkStopsWhenCancelled(t *testing.T) {
	root := t.TempDir()
	for i := range 3 * ctxCheckEvery {
		file(t, root, fmt.Sprintf("d%d/f%d", i%10, i), 1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := walkVolume(ctx, root)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestWalkDoesNotCrossMounts(t *testing.T) {
	root := t.TempDir()
	file(t, root, "mine", 10)
	mnt := filepath.Join(root, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=4m"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	file(t, mnt, "theirs", 1000)
	res, err := walkVolume(context.Background(), root)
	if err != nil || res.Bytes != 10 {
		t.Fatalf("walk = %+v, %v; want 10 bytes (the mount left out)", res, err)
	}
}

// An unreadable directory is skipped and counted. Root reads everything,
// so as root the walk runs in a copy of the test binary as nobody.
func TestWalkSkipsUnreadableDirectory(t *testing.T) {
	root := openTempDir(t)
	file(t, root, "readable/a", 100)
	file(t, root, "locked/b", 50)
	file(t, root, "c", 1)
	if err := os.Chmod(filepath.Join(root, "locked"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "locked"), 0o755) })

	var res walkResult
	if os.Geteuid() != 0 {
		var err error
		if res, err = walkVolume(context.Background(), root); err != nil {
			t.Fatal(err)
		}
	} else {
		res = walkAsNobody(t, root)
	}
	if res.Bytes != 101 || res.Skipped != 1 || res.FirstSkip == nil || !strings.Contains(res.FirstSkip.Error(), "locked") {
		t.Fatalf("walk = %+v, want 101 bytes and the locked directory skipped", res)
	}
}

// openTempDir is a temporary directory that every user may enter.
func openTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir() // $TMPDIR/<test>NNN/NNN, both private
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const walkHelperEnv = "CATALYST_TEST_WALK_ROOT"

// walkAsNobody runs TestWalkHelper as user nobody (65534) on root.
func walkAsNobody(t *testing.T, root string) walkResult {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(openTempDir(t), "walk-helper")
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestWalkHelper$")
	cmd.Env = append(os.Environ(), walkHelperEnv+"="+root)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("walk helper: %v\n%s", err, out)
	}
	var got struct {
		Bytes     uint64
		Skipped   int
		FirstSkip string
	}
	line, _, _ := strings.Cut(string(out), "\n")
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("walk helper output %q: %v", out, err)
	}
	res := walkResult{Bytes: got.Bytes, Skipped: got.Skipped}
	if got.FirstSkip != "" {
		res.FirstSkip = errors.New(got.FirstSkip)
	}
	return res
}

// TestWalkHelper is walkAsNobody's other half; it does nothing in a
// normal test run.
func TestWalkHelper(t *testing.T) {
	root := os.Getenv(walkHelperEnv)
	if root == "" {
		t.Skip("only run by TestWalkSkipsUnreadableDirectory")
	}
	res, err := walkVolume(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	first := ""
	if res.FirstSkip != nil {
		first = res.FirstSkip.Error()
	}
	b, _ := json.Marshal(map[string]any{"Bytes": res.Bytes, "Skipped": res.Skipped, "FirstSkip": first})
	fmt.Println(string(b))
}
