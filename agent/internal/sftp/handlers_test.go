package sftp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Each command runs in its own sftp batch, which aborts at the first
// failure: the test learns which one failed.
func TestPathsCannotLeaveTheVolume(t *testing.T) {
	tests := []struct {
		name    string
		command string
	}{
		{"cd to a host directory", "cd /etc"},
		{"get through ..", "get ../../../etc/passwd stolen"},
		{"get an absolute host path", "get /etc/passwd stolen"},
		{"get through a symlink to a host file", "get passwd-link stolen"},
		{"cd through a symlink to a host directory", "cd up"},
		{"get through a symlinked host directory", "get up/etc/passwd stolen"},
		{"put through a symlink to a host file", "put local.txt passwd-link"},
		{"put through a symlinked host directory", "put local.txt up/planted.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			outside := filepath.Join(filepath.Dir(e.dir), "outside.txt")
			if err := os.WriteFile(outside, []byte("host data\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			// Links the game might have made.
			if err := os.Symlink("/etc/passwd", filepath.Join(e.dir, "passwd-link")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("../..", filepath.Join(e.dir, "up")); err != nil {
				t.Fatal(err)
			}
			e.writeLocal("local.txt", "planted\n")
			before := treeOf(t, filepath.Dir(e.dir), e.dir, e.work)

			out, errOut, err := e.sftp(withKey, tt.command)
			if err == nil {
				t.Fatalf("%q succeeded:\n%s", tt.command, out)
			}
			t.Logf("refused: %s", strings.TrimSpace(errOut))
			if exists(filepath.Join(e.work, "stolen")) {
				t.Error("a file outside the volume was downloaded")
			}
			if after := treeOf(t, filepath.Dir(e.dir), e.dir, e.work); !slices.Equal(before, after) {
				t.Errorf("outside the volume changed:\nbefore %v\nafter  %v", before, after)
			}
			if b, _ := os.ReadFile(outside); string(b) != "host data\n" {
				t.Errorf("outside.txt = %q", b)
			}
		})
	}
}

// A path with .. stays in the volume, as in a chroot.
func TestDotDotStopsAtTheTop(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.writeLocal("local.txt", "data\n")
	if out, errOut, err := e.sftp(withKey, "put local.txt ../../../../landed.txt", "cd ../..", "pwd"); err != nil {
		t.Fatalf("sftp: %v\n%s%s", err, out, errOut)
	}
	if !exists(filepath.Join(e.dir, "landed.txt")) || exists(filepath.Join(filepath.Dir(e.dir), "landed.txt")) {
		t.Error("the upload did not land at the volume's top")
	}
}

// treeOf lists every path under dir, skipping the trees in skip, with
// each file's size and modification time.
func treeOf(t *testing.T, dir string, skip ...string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if slices.Contains(skip, p) {
			return filepath.SkipDir
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s %v %d %v", p, fi.Mode(), fi.Size(), fi.ModTime()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGrantPermissionsAreEnforced(t *testing.T) {
	tests := []struct {
		name     string
		without  string
		commands []string
		// check, when set, verifies nothing changed.
		check func(t *testing.T, e *env)
	}{
		// OpenSSH's client words this one "not found"; the status is
		// permission denied.
		{"no file.read: no listing", permRead, []string{"ls /"}, func(t *testing.T, e *env) {
			c := e.mustGoClient()
			if _, err := c.ReadDir("/"); !errors.Is(err, fs.ErrPermission) {
				t.Errorf("ReadDir: %v, want permission denied", err)
			}
			if _, err := c.Stat("/a.txt"); !errors.Is(err, fs.ErrPermission) {
				t.Errorf("Stat: %v, want permission denied", err)
			}
		}},
		{"no file.read-content: no download", permReadContent, []string{"get a.txt got.txt"}, func(t *testing.T, e *env) {
			if exists(filepath.Join(e.work, "got.txt")) {
				t.Error("the file was downloaded")
			}
		}},
		{"no file.write: no upload", permWrite, []string{"put local.txt b.txt"}, func(t *testing.T, e *env) {
			if exists(filepath.Join(e.dir, "b.txt")) {
				t.Error("the file was uploaded")
			}
		}},
		{"no file.write: no overwrite", permWrite, []string{"put local.txt a.txt"}, func(t *testing.T, e *env) {
			if b, _ := os.ReadFile(filepath.Join(e.dir, "a.txt")); string(b) != "original\n" {
				t.Errorf("a.txt = %q", b)
			}
		}},
		{"no file.write: no mkdir", permWrite, []string{"mkdir d"}, func(t *testing.T, e *env) {
			if exists(filepath.Join(e.dir, "d")) {
				t.Error("the directory was made")
			}
		}},
		{"no file.write: no rename", permWrite, []string{"rename a.txt c.txt"}, func(t *testing.T, e *env) {
			if !exists(filepath.Join(e.dir, "a.txt")) {
				t.Error("the file was renamed")
			}
		}},
		{"no file.write: no chmod", permWrite, []string{"chmod 600 a.txt"}, nil},
		{"no file.delete: no rm", permDelete, []string{"rm a.txt"}, func(t *testing.T, e *env) {
			if !exists(filepath.Join(e.dir, "a.txt")) {
				t.Error("the file was removed")
			}
		}},
		{"no file.delete: no rmdir", permDelete, []string{"rmdir empty"}, func(t *testing.T, e *env) {
			if !exists(filepath.Join(e.dir, "empty")) {
				t.Error("the directory was removed")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var perms []string
			for _, p := range allPerms {
				if p != tt.without {
					perms = append(perms, p)
				}
			}
			e := newEnv(t, envOptions{permissions: perms})
			e.writeVolume("a.txt", "original\n")
			if err := os.Mkdir(filepath.Join(e.dir, "empty"), 0o755); err != nil {
				t.Fatal(err)
			}
			e.writeLocal("local.txt", "new\n")
			out, errOut, err := e.sftp(withKey, tt.commands...)
			if err == nil {
				t.Fatalf("allowed without %s:\n%s", tt.without, out)
			}
			if tt.without != permRead && !strings.Contains(errOut, "Permission denied") {
				t.Errorf("stderr = %q, want Permission denied", errOut)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

func TestReadOnlyGrantCanBrowseAndDownload(t *testing.T) {
	e := newEnv(t, envOptions{permissions: []string{permRead, permReadContent}})
	e.writeVolume("world/level.dat", "level\n")
	out, errOut, err := e.sftp(withKey, "ls world", "get world/level.dat level.dat")
	if err != nil {
		t.Fatalf("sftp: %v\n%s%s", err, out, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(e.work, "level.dat")); string(b) != "level\n" {
		t.Errorf("level.dat = %q", b)
	}
}

func TestDenylistedFilesAreInvisible(t *testing.T) {
	setup := func(t *testing.T) *env {
		e := newEnv(t, envOptions{deny: []string{"secret.yml", "keys/*.pem"}})
		e.writeVolume("secret.yml", "token: s3cret\n")
		e.writeVolume("config/secret.yml", "token: s3cret\n")
		e.writeVolume("keys/server.pem", "PEM\n")
		e.writeVolume("keys/readme.txt", "hi\n")
		e.writeVolume("public.txt", "hello\n")
		// The game linked them under innocent names.
		for link, target := range map[string]string{"alias.txt": "secret.yml", "pem-link": "keys/server.pem", "k": "keys"} {
			if err := os.Symlink(target, filepath.Join(e.dir, link)); err != nil {
				t.Fatal(err)
			}
		}
		e.writeLocal("local.txt", "overwritten\n")
		return e
	}

	t.Run("listings leave them out", func(t *testing.T) {
		e := setup(t)
		out, errOut, err := e.sftp(withKey, "ls -1 /", "ls -1 /config", "ls -1 /keys", "ls -1 /k")
		if err != nil {
			t.Fatalf("sftp: %v\n%s%s", err, out, errOut)
		}
		if strings.Contains(out, "secret.yml") || strings.Contains(out, "server.pem") {
			t.Errorf("a denylisted file is listed:\n%s", out)
		}
		if !strings.Contains(out, "public.txt") || !strings.Contains(out, "readme.txt") {
			t.Errorf("allowed files are missing:\n%s", out)
		}
	})

	tests := []struct {
		name    string
		command string
	}{
		{"get", "get secret.yml got"},
		{"get in a subdirectory", "get config/secret.yml got"},
		{"get by a path pattern", "get keys/server.pem got"},
		{"get through a symlink", "get alias.txt got"},
		{"get through a symlink to a file", "get pem-link got"},
		{"get through a symlinked directory", "get k/server.pem got"},
		{"stat", "ls -l secret.yml"},
		{"put over", "put local.txt secret.yml"},
		{"put over through a symlink", "put local.txt alias.txt"},
		{"rename away", "rename secret.yml public2.txt"},
		{"rename onto", "rename public.txt secret.yml"},
		{"remove", "rm secret.yml"},
		{"symlink to", "ln -s secret.yml another-alias"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t)
			out, errOut, err := e.sftp(withKey, tt.command)
			if err == nil {
				t.Fatalf("%q succeeded:\n%s", tt.command, out)
			}
			t.Logf("refused: %s", strings.TrimSpace(errOut))
			if exists(filepath.Join(e.work, "got")) {
				t.Error("a denylisted file was downloaded")
			}
			for _, p := range []string{"secret.yml", "config/secret.yml"} {
				if b, _ := os.ReadFile(filepath.Join(e.dir, p)); string(b) != "token: s3cret\n" {
					t.Errorf("%s = %q", p, b)
				}
			}
			if !exists(filepath.Join(e.dir, "public.txt")) || exists(filepath.Join(e.dir, "another-alias")) {
				t.Error("the volume changed")
			}
		})
	}
}

func TestUploadOverQuotaLeavesNothing(t *testing.T) {
	e := newEnv(t, envOptions{quota: &byteQuota{limit: 1 << 20}})
	writeRandomFile(t, filepath.Join(e.work, "small.bin"), 100<<10)
	writeRandomFile(t, filepath.Join(e.work, "big.bin"), 4<<20)
	if out, errOut, err := e.sftp(withKey, "put small.bin"); err != nil {
		t.Fatalf("a put within the quota failed: %v\n%s%s", err, out, errOut)
	}
	out, errOut, err := e.sftp(withKey, "put big.bin")
	if err == nil {
		t.Fatalf("a put over the quota succeeded:\n%s", out)
	}
	t.Logf("refused: %s", strings.TrimSpace(errOut))
	if exists(filepath.Join(e.dir, "big.bin")) {
		t.Error("the failed upload was left behind")
	}
	if !exists(filepath.Join(e.dir, "small.bin")) {
		t.Error("the earlier upload is gone")
	}
	if !strings.Contains(e.log.String(), "over quota removed") {
		t.Error("the removal is not logged")
	}

	// Growing a file by truncation asks the quota too.
	c := e.mustGoClient()
	if err := c.Truncate("/small.bin", 8<<20); err == nil {
		t.Error("truncate past the quota succeeded")
	}
	if fi, err := os.Stat(filepath.Join(e.dir, "small.bin")); err != nil || fi.Size() != 100<<10 {
		t.Errorf("small.bin after a refused truncate: %v, %v", fi, err)
	}
}

// Overwriting in place grows nothing, so a volume at its limit can still
// be edited.
func TestOverwriteInPlaceNeedsNoQuota(t *testing.T) {
	e := newEnv(t, envOptions{quota: &byteQuota{limit: 0}})
	e.writeVolume("server.properties", "motd=old\n")
	c := e.mustGoClient()
	f, err := c.OpenFile("/server.properties", os.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("motd=new\n"), 0); err != nil {
		t.Fatalf("overwrite in place: %v", err)
	}
	if _, err := f.WriteAt([]byte("more"), 9); err == nil {
		t.Error("growing the file past a zero quota succeeded")
	}
	f.Close()
	if b, _ := os.ReadFile(filepath.Join(e.dir, "server.properties")); string(b) != "motd=new\n" {
		t.Errorf("server.properties = %q (a file opened without truncation is kept)", b)
	}
}

func TestSetstat(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.writeVolume("start.sh", "#!/bin/sh\n")
	e.writeLocal("local.txt", "x\n")
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(e.work, "local.txt"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := e.sftp(withKey, "chmod 4755 start.sh", "put -p local.txt kept.txt"); err != nil {
		t.Fatalf("sftp: %v\n%s%s", err, out, errOut)
	}
	fi, err := os.Stat(filepath.Join(e.dir, "start.sh"))
	if err != nil || fi.Mode() != 0o755 {
		t.Errorf("start.sh mode = %v, %v; want 0755 (permission bits only)", fi.Mode(), err)
	}
	fi, err = os.Stat(filepath.Join(e.dir, "kept.txt"))
	if err != nil || !fi.ModTime().Equal(mtime) {
		t.Errorf("kept.txt mtime = %v, %v; want %v", fi.ModTime(), err, mtime)
	}
	if _, errOut, err := e.sftp(withKey, "chown 0 start.sh"); err == nil || !strings.Contains(errOut, "Permission denied") {
		t.Errorf("chown: %v %s", err, errOut)
	}
	if _, errOut, err := e.sftp(withKey, "chgrp 0 start.sh"); err == nil || !strings.Contains(errOut, "Permission denied") {
		t.Errorf("chgrp: %v %s", err, errOut)
	}
}

func TestSymlinkTargetsMustStayInside(t *testing.T) {
	tests := []struct {
		name   string
		target string
		link   string
		ok     bool
	}{
		{"sibling", "server.jar", "current.jar", true},
		{"into a subdirectory", "world/level.dat", "level", true},
		{"up and back in", "../server.jar", "plugins/jar", true},
		{"absolute", "/etc/passwd", "passwd", false},
		{"absolute inside", "/server.jar", "abs", false},
		{"out by ..", "../../etc/passwd", "plugins/passwd", false},
		{"out from the top", "../x", "up", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			e.writeVolume("server.jar", "jar\n")
			e.writeVolume("world/level.dat", "level\n")
			e.writeVolume("plugins/a.jar", "a\n")
			_, errOut, err := e.sftp(withKey, "ln -s "+tt.target+" "+tt.link)
			if (err == nil) != tt.ok {
				t.Fatalf("ln -s %s %s: %v %s, want success %v", tt.target, tt.link, err, errOut, tt.ok)
			}
			got, lerr := os.Readlink(filepath.Join(e.dir, tt.link))
			if tt.ok && got != tt.target {
				t.Errorf("link = %q, %v; want %q", got, lerr, tt.target)
			}
			if !tt.ok && lerr == nil {
				t.Errorf("a refused link exists: -> %q", got)
			}
		})
	}
}

func TestHardLinksAreRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.writeVolume("a.txt", "a\n")
	if _, _, err := e.sftp(withKey, "ln a.txt b.txt"); err == nil || exists(filepath.Join(e.dir, "b.txt")) {
		t.Errorf("hard link: %v", err)
	}
}

func TestRenameSemantics(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.writeVolume("a.txt", "a\n")
	e.writeVolume("b.txt", "b\n")
	c := e.mustGoClient()
	// SFTP's own rename never replaces.
	if err := c.Rename("/a.txt", "/b.txt"); err == nil {
		t.Error("plain rename replaced an existing file")
	}
	// posix-rename, which OpenSSH's rename command uses, does.
	if out, errOut, err := e.sftp(withKey, "rename a.txt b.txt"); err != nil {
		t.Fatalf("sftp rename: %v\n%s%s", err, out, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(e.dir, "b.txt")); string(b) != "a\n" || exists(filepath.Join(e.dir, "a.txt")) {
		t.Errorf("after posix-rename b.txt = %q", b)
	}
	if err := c.Rename("/b.txt", "/c.txt"); err != nil {
		t.Errorf("plain rename to a new name: %v", err)
	}
	if err := c.Rename("/", "/x"); err == nil {
		t.Error("renamed the top of the volume")
	}
}

func TestRemoveAndRmdir(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.writeVolume("d/f.txt", "f\n")
	c := e.mustGoClient()
	if err := c.RemoveDirectory("/d/f.txt"); err == nil {
		t.Error("rmdir removed a file")
	}
	if err := c.RemoveDirectory("/d"); err == nil {
		t.Error("rmdir removed a directory that is not empty")
	}
	if err := c.Remove("/d/f.txt"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveDirectory("/d"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveDirectory("/"); err == nil {
		t.Error("removed the top of the volume")
	}
}

func TestOnlyRegularFilesOpen(t *testing.T) {
	e := newEnv(t, envOptions{})
	if err := syscall.Mkfifo(filepath.Join(e.dir, "console.pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := e.mustGoClient()
	// A FIFO with no writer would block a plain open forever.
	if f, err := c.Open("/console.pipe"); err == nil {
		f.Close()
		t.Error("opened a FIFO for reading")
	}
	if f, err := c.OpenFile("/console.pipe", os.O_WRONLY); err == nil {
		f.Close()
		t.Error("opened a FIFO for writing")
	}
	if f, err := c.Open("/"); err == nil {
		f.Close()
		t.Error("opened a directory as a file")
	}
}

func TestReadWriteHandle(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.writeVolume("ops.json", "[]")
	c := e.mustGoClient()
	f, err := c.OpenFile("/ops.json", os.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 2)
	if _, err := f.ReadAt(buf, 0); err != nil || string(buf) != "[]" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if _, err := f.WriteAt([]byte("[1]"), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(e.dir, "ops.json")); string(b) != "[1]" {
		t.Errorf("ops.json = %q", b)
	}

	// Without file.read-content a read-write open is refused.
	e2 := newEnv(t, envOptions{permissions: []string{permRead, permWrite}})
	e2.writeVolume("ops.json", "[]")
	if f, err := e2.mustGoClient().OpenFile("/ops.json", os.O_RDWR); err == nil {
		f.Close()
		t.Error("read-write open without file.read-content")
	} else if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("err = %v, want permission denied", err)
	}
}

func TestStatVFSAndReadlink(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.writeVolume("a.txt", "a\n")
	if err := os.Symlink("a.txt", filepath.Join(e.dir, "link")); err != nil {
		t.Fatal(err)
	}
	c := e.mustGoClient()
	st, err := c.StatVFS("/")
	if err != nil || st.TotalSpace() == 0 {
		t.Errorf("statvfs: %+v, %v", st, err)
	}
	if target, err := c.ReadLink("/link"); err != nil || target != "a.txt" {
		t.Errorf("readlink = %q, %v", target, err)
	}
	if fi, err := c.Lstat("/link"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("lstat = %v, %v", fi, err)
	}
	if fi, err := c.Stat("/link"); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("stat = %v, %v", fi, err)
	}
}

func TestNewFilesBelongToTheGamesUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	const uid = 4242
	e := newEnv(t, envOptions{uid: uid})
	e.writeLocal("local.txt", "x\n")
	if out, errOut, err := e.sftp(withKey, "mkdir plugins", "put local.txt plugins/a.txt", "ln -s a.txt plugins/b"); err != nil {
		t.Fatalf("sftp: %v\n%s%s", err, out, errOut)
	}
	for _, p := range []string{"plugins", "plugins/a.txt", "plugins/b"} {
		fi, err := os.Lstat(filepath.Join(e.dir, p))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != uid || st.Gid != uid {
			t.Errorf("%s is owned by %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, uid)
		}
	}
}

// OpenSSH's reput opens with the append flag and writes at offsets from
// the remote size on; the offsets are honoured.
func TestResumedUploadCompletesTheFile(t *testing.T) {
	e := newEnv(t, envOptions{})
	writeRandomFile(t, filepath.Join(e.work, "map.zip"), 3<<20)
	whole, err := os.ReadFile(filepath.Join(e.work, "map.zip"))
	if err != nil {
		t.Fatal(err)
	}
	e.writeVolume("map.zip", string(whole[:1<<20+17])) // an upload cut short
	if out, errOut, err := e.sftp(withKey, "reput map.zip map.zip"); err != nil {
		t.Fatalf("sftp: %v\n%s%s", err, out, errOut)
	}
	if got, _ := os.ReadFile(filepath.Join(e.dir, "map.zip")); !bytes.Equal(got, whole) {
		t.Errorf("resumed upload differs: %d bytes, want %d", len(got), len(whole))
	}
}

// Requests no real client sends get an error status, and the session
// goes on.
func TestMalformedRequestsAreAnsweredNotFatal(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.writeVolume("a.txt", "a\n")
	_, conn, err := e.goClient()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	w, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		t.Fatal(err)
	}
	const (
		fxpInit, fxpVersion, fxpOpen, fxpSetstat, fxpStatus, fxpHandle = 1, 2, 3, 9, 101, 102
		fxfWrite, fxfCreat, fxfAppend                                  = 0x02, 0x08, 0x04
		attrSize, attrPermissions                                      = 0x01, 0x04
	)
	send := func(typ byte, fields ...any) {
		var b bytes.Buffer
		b.WriteByte(typ)
		for _, f := range fields {
			switch v := f.(type) {
			case uint32:
				b.Write(binary.BigEndian.AppendUint32(nil, v))
			case string:
				b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(v))))
				b.WriteString(v)
			}
		}
		if _, err := w.Write(append(binary.BigEndian.AppendUint32(nil, uint32(b.Len())), b.Bytes()...)); err != nil {
			t.Fatal(err)
		}
	}
	recv := func() byte {
		var n uint32
		if err := binary.Read(r, binary.BigEndian, &n); err != nil {
			t.Fatalf("the server hung up: %v", err)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatal(err)
		}
		return b[0]
	}

	send(fxpInit, uint32(3))
	if typ := recv(); typ != fxpVersion {
		t.Fatalf("answer to init: type %d", typ)
	}
	// Setstat saying it carries a size and permissions, then ending.
	send(fxpSetstat, uint32(1), "/a.txt", uint32(attrSize|attrPermissions))
	if typ := recv(); typ != fxpStatus {
		t.Errorf("answer to a short setstat: type %d, want status", typ)
	}
	// Open with the append flag (whose bit is the permissions attribute
	// flag's) and no attributes.
	send(fxpOpen, uint32(2), "/b.txt", uint32(fxfWrite|fxfCreat|fxfAppend), uint32(0))
	if typ := recv(); typ != fxpHandle {
		t.Errorf("answer to open with append: type %d, want a handle", typ)
	}
	if b, _ := os.ReadFile(filepath.Join(e.dir, "a.txt")); string(b) != "a\n" {
		t.Errorf("a.txt = %q", b)
	}
}
