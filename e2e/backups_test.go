package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// backup is the part of the backup view the tests read.
type backup struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Error       string `json:"error"`
	Store       string `json:"store"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Compression string `json:"compression"`
}

func (c *cluster) backup(serverID, id string) backup {
	var b backup
	c.must(http.MethodGet, "/api/servers/"+serverID+"/backups/"+id, nil, &b)
	return b
}

// makeBackup backs server id up into store and waits for the outcome.
func (c *cluster) makeBackup(id, store string) backup {
	c.t.Helper()
	var b backup
	c.must(http.MethodPost, "/api/servers/"+id+"/backups", map[string]any{"store": store}, &b)
	return c.waitBackup(id, b.ID, 3*time.Minute)
}

// waitBackup waits until a backup is no longer being made.
func (c *cluster) waitBackup(serverID, id string, timeout time.Duration) backup {
	c.t.Helper()
	var b backup
	c.eventually(timeout, "backup "+id+" done", func() bool {
		b = c.backup(serverID, id)
		return b.Status != "creating"
	})
	return b
}

// restore restores a backup into the stopped server and waits for the
// outcome on the server's socket: "completed", or "failed" with why.
func (c *cluster) restore(serverID, backupID string, wipe bool) (status, msg string) {
	c.t.Helper()
	r := readSocket(c.dialSocket(serverID, nil))
	c.must(http.MethodPost, "/api/servers/"+serverID+"/backups/"+backupID+"/restore", map[string]any{"wipe": wipe}, nil)
	m := r.next(c.t, 5*time.Minute, "restore_completed", "restore_failed")
	if m.Type == "restore_completed" {
		return "completed", ""
	}
	return "failed", m.Error + m.Message
}

// treeSnapshot describes every entry under dir (not dir itself): kind,
// permission bits, and the sha256 of a file or the target of a symlink.
func treeSnapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "link -> " + target
		case d.IsDir():
			out[rel] = fmt.Sprintf("dir %04o", fi.Mode().Perm())
		default:
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			out[rel] = fmt.Sprintf("file %04o %d %s", fi.Mode().Perm(), fi.Size(), hex.EncodeToString(h.Sum(nil))[:16])
		}
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot %s: %v", dir, err)
	}
	return out
}

// sameTree fails the test with the first differences between two
// snapshots.
func sameTree(t testing.TB, what string, got, want map[string]string) {
	t.Helper()
	if maps.Equal(got, want) {
		return
	}
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			diffs = append(diffs, fmt.Sprintf("  %s: got %q, want %q", k, got[k], want[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("  %s: got %q, want nothing", k, got[k]))
		}
	}
	if len(diffs) > 20 {
		diffs = append(diffs[:20], fmt.Sprintf("  … and %d more", len(diffs)-20))
	}
	t.Fatalf("%s: the trees differ:\n%s", what, strings.Join(diffs, "\n"))
}

// writeGameFiles fills a volume with what a game server leaves: nested
// directories, modes, symlinks (relative, absolute, dangling), an empty
// file and directory, and a bigger binary file.
func writeGameFiles(t testing.TB, dir string) {
	t.Helper()
	files := []struct {
		path string
		mode os.FileMode
		data string
	}{
		{"server.properties", 0o644, "motd=Catalyst\nmax-players=20\n"},
		{"start.sh", 0o755, "#!/bin/sh\nexec ./gamesrv\n"},
		{"secrets/ops.json", 0o600, `[{"name":"admin"}]`},
		{"world/level.dat", 0o640, strings.Repeat("level", 1000)},
		{"world/region/r.0.0.mca", 0o644, ""},
		{"logs/latest.log", 0o644, strings.Repeat("[12:00:00] [Server thread/INFO]: tick\n", 2000)},
		{"empty.txt", 0o644, ""},
		{"unicode ✓ name/файл.txt", 0o644, "привет"},
		{strings.Repeat("long-name-", 12) + ".txt", 0o644, "long"},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.data), f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	randomFile(t, filepath.Join(dir, "world/region/r.1.0.mca"), 3<<20)
	if err := os.MkdirAll(filepath.Join(dir, "plugins/empty"), 0o750); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"current-log":      "logs/latest.log",
		"world/up":         "../server.properties",
		"absolute":         "/etc/hostname",
		"dangling":         "does/not/exist",
		"plugins/worldref": "../world",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
}

// changeGameFiles changes, adds and deletes files, as a game would
// between a backup and its restore.
func changeGameFiles(t testing.TB, dir string) {
	t.Helper()
	for _, p := range []string{"world/level.dat", "plugins/empty", "current-log"} {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "server.properties"), []byte("motd=changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "start.sh"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "new-after-backup.txt"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// storeObjects lists the objects a backup-local store holds under dir:
// every file but the hidden temporaries and sidecars.
func storeObjects(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// startS3 runs the test S3 server with one bucket until the test ends.
func startS3(t testing.TB, bucket string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(env.s3Bin, append([]string{"-addr", "127.0.0.1:0", "-bucket", bucket, "-dir", dir}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start s3server: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "s3server listening on "); ok {
			go io.Copy(io.Discard, out)
			return u
		}
	}
	t.Fatal("s3server exited before listening")
	return ""
}

// s3Plugin is the agent's block for an S3 store at endpoint.
func s3Plugin(endpoint, bucket string) string {
	return fmt.Sprintf(`
plugin "s3" {
  path = "catalyst-backup-s3"
  config {
    bucket       = %q
    endpoint     = %q
    path_style   = true
    access_key   = "e2e-access"
    secret_key   = "e2e-secret"
    part_size_mb = 5
  }
}
`, bucket, endpoint)
}

// Backups through the real binaries, into both shipped stores: the tree
// comes back byte for byte (modes and symlinks too) after it changed; a
// corrupted archive is refused with the files untouched; an agent killed
// mid-backup leaves no object and the backup failed.
func TestBackups(t *testing.T) {
	endpoint := startS3(t, "e2e-backups", "-access-key", "e2e-access", "-secret-key", "e2e-secret")
	// Backups read at most 200 MB/s, so that one of a big file is still
	// under way when the agent is killed.
	c := newCluster(t, clusterOptions{agentHCL: s3Plugin(endpoint, "e2e-backups"), agentSet: map[string]string{"rate_limit_mb": "200"}})
	s := c.createServer("backups", nil)
	vol := c.volume(s.ID)
	writeGameFiles(t, vol)
	want := treeSnapshot(t, vol)
	localStore := filepath.Join(c.dir, "agent-data", "backups")

	backups := map[string]backup{}
	for _, store := range []string{"local", "s3"} {
		step(t, "back up into "+store+", change the files, restore", func() {
			b := c.makeBackup(s.ID, store)
			if b.Status != "completed" || len(b.SHA256) != 64 || b.Size <= 0 || b.Store != store {
				t.Fatalf("backup: %+v", b)
			}
			backups[store] = b
			changeGameFiles(t, vol)
			if status, msg := c.restore(s.ID, b.ID, true); status != "completed" {
				t.Fatalf("restore from %s: %s", store, msg)
			}
			sameTree(t, "after the restore from "+store, treeSnapshot(t, vol), want)
		})
	}

	step(t, "a restore without wipe keeps files the backup does not hold", func() {
		changeGameFiles(t, vol)
		if status, msg := c.restore(s.ID, backups["local"].ID, false); status != "completed" {
			t.Fatalf("restore: %s", msg)
		}
		merged := maps.Clone(want)
		merged["new-after-backup.txt"] = treeSnapshot(t, vol)["new-after-backup.txt"]
		sameTree(t, "after a restore without wipe", treeSnapshot(t, vol), merged)
	})

	step(t, "a corrupted archive is refused and the files stay as they are", func() {
		objs := storeObjects(t, localStore)
		if len(objs) != 1 {
			t.Fatalf("local store holds %v, want one object", objs)
		}
		p := filepath.Join(localStore, objs[0])
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)/2] ^= 0xff
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		changeGameFiles(t, vol)
		before := treeSnapshot(t, vol)
		status, msg := c.restore(s.ID, backups["local"].ID, true)
		if status != "failed" {
			t.Fatal("a corrupted archive was restored")
		}
		t.Logf("refused as it should be: %s", msg)
		sameTree(t, "after the refused restore", treeSnapshot(t, vol), before)
		if m, _ := filepath.Glob(filepath.Join(c.dir, "agent-data", "volumes", ".restore-*")); len(m) > 0 {
			t.Fatalf("staging left behind: %v", m)
		}
	})

	step(t, "an agent killed mid-backup leaves no object and the backup failed", func() {
		randomFile(t, filepath.Join(vol, "world", "big.bin"), 1<<30) // 5 s at the cap
		before := storeObjects(t, localStore)
		var b backup
		c.must(http.MethodPost, "/api/servers/"+s.ID+"/backups", map[string]any{"store": "local"}, &b)
		c.eventually(time.Minute, "the backup to be writing", func() bool {
			var partial []string
			filepath.WalkDir(localStore, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), ".") && !strings.HasSuffix(d.Name(), ".meta") {
					partial = append(partial, p)
				}
				return nil
			})
			return len(partial) > 0
		})
		c.agent.kill()
		c.waitOnline(false)
		c.startAgent()
		c.waitOnline(true)
		got := c.waitBackup(s.ID, b.ID, time.Minute)
		if got.Status != "failed" {
			t.Fatalf("backup after the agent was killed: %+v", got)
		}
		t.Logf("failed as it should be: %s", got.Error)
		if after := storeObjects(t, localStore); !slices.Equal(after, before) {
			t.Fatalf("store objects after the kill: %v, before: %v", after, before)
		}
	})
}
