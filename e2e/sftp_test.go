package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"catalyst.dev/agent/testkit/lockedbuf"
	"catalyst.dev/agent/testkit/openssh"
)

// sftpCommand is the OpenSSH sftp client logging in as l to addr and
// running the batch commands it reads from its stdin; batch mode stops at
// the first failing command and exits non-zero.
func sftpCommand(ctx context.Context, t testing.TB, addr string, l openssh.Login, options ...string) *exec.Cmd {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return l.Command(ctx, t, "sftp", options, "-P", port, "-b", "-", l.User+"@"+host)
}

// runSFTP runs batch as l and returns what the client printed.
func runSFTP(t testing.TB, addr string, l openssh.Login, batch string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := sftpCommand(ctx, t, addr, l)
	cmd.Stdin = strings.NewReader(batch)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// account is a panel user the tests log in as.
type account struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
	password string
}

// createUser makes a user who is not an administrator.
func (c *cluster) createUser(name string) account {
	c.t.Helper()
	a := account{password: "pw-" + randomHex(8)}
	c.must(http.MethodPost, "/api/admin/users", map[string]any{
		"email": name + "@e2e.test", "username": name, "password": a.password,
	}, &a)
	return a
}

// adminAccount is the administrator the cluster logged in as.
func (c *cluster) adminAccount() account {
	c.t.Helper()
	var a account
	c.must(http.MethodGet, "/api/account", nil, &a)
	a.password = c.admin[1]
	return a
}

// sftpUser is a's SFTP login on server id: "<username>.<short id>".
func (c *cluster) sftpUser(a account, id string) string {
	c.t.Helper()
	var v struct {
		ShortID string `json:"short_id"`
	}
	c.must(http.MethodGet, "/api/servers/"+id, nil, &v)
	return a.Username + "." + v.ShortID
}

func sha256File(t testing.TB, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

func randomFile(t testing.TB, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		t.Fatal(err)
	}
}

// SFTP through the real binaries and the real OpenSSH client: the core
// decides who logs in, the agent serves the volume.
func TestSFTP(t *testing.T) {
	c := newCluster(t, clusterOptions{})
	s := c.createServer("sftp", nil)
	admin := c.adminAccount()
	asAdmin := openssh.Login{User: c.sftpUser(admin, s.ID), Password: admin.password}
	work := t.TempDir()
	vol := c.volume(s.ID)

	step(t, "the server view tells where SFTP is", func() {
		var v struct {
			SFTP *struct {
				Host     string `json:"host"`
				Port     int    `json:"port"`
				Username string `json:"username"`
			} `json:"sftp"`
		}
		c.must(http.MethodGet, "/api/servers/"+s.ID, nil, &v)
		_, port, _ := net.SplitHostPort(c.sftpAddr)
		if v.SFTP == nil || v.SFTP.Username != asAdmin.User || fmt.Sprint(v.SFTP.Port) != port {
			t.Fatalf("sftp details = %+v, want user %s port %s", v.SFTP, asAdmin.User, port)
		}
	})

	step(t, "a 200 MB file goes up and comes back byte-identical, with a password", func() {
		src := filepath.Join(work, "big.bin")
		randomFile(t, src, 200<<20)
		back := filepath.Join(work, "back.bin")
		out, err := runSFTP(t, c.sftpAddr, asAdmin, fmt.Sprintf("put %s big.bin\nget big.bin %s\n", src, back))
		if err != nil {
			t.Fatalf("sftp put/get: %v\n%s", err, out)
		}
		want := sha256File(t, src)
		if got := sha256File(t, filepath.Join(vol, "big.bin")); got != want {
			t.Fatal("the file on the node differs from the one sent")
		}
		if got := sha256File(t, back); got != want {
			t.Fatal("the file fetched back differs from the one sent")
		}
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(vol, "big.bin"), &st); err != nil || st.Uid != 988 {
			t.Errorf("uploaded file owned by uid %d (err %v), want the game's 988", st.Uid, err)
		}
	})

	step(t, "a registered SSH key logs in", func() {
		keyFile, pub := openssh.Keygen(t, t.TempDir(), "e2e")
		c.must(http.MethodPost, "/api/account/ssh-keys", map[string]any{"name": "e2e", "public_key": pub}, nil)
		out, err := runSFTP(t, c.sftpAddr, openssh.Login{User: asAdmin.User, KeyFile: keyFile}, "ls -1\n")
		if err != nil || !strings.Contains(out, "big.bin") {
			t.Fatalf("key login: %v\n%s", err, out)
		}
		other, _ := openssh.Keygen(t, t.TempDir(), "e2e")
		if out, err := runSFTP(t, c.sftpAddr, openssh.Login{User: asAdmin.User, KeyFile: other}, "ls\n"); err == nil {
			t.Fatalf("an unregistered key logged in:\n%s", out)
		}
	})

	step(t, "a wrong password is refused", func() {
		out, err := runSFTP(t, c.sftpAddr, openssh.Login{User: asAdmin.User, Password: "not-the-password"}, "ls\n")
		if err == nil || !strings.Contains(out, "Permission denied") {
			t.Fatalf("wrong password: err %v\n%s", err, out)
		}
	})

	step(t, "nothing outside the volume is reachable", func() {
		if err := os.Symlink("/etc", filepath.Join(vol, "etc-link")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/etc/passwd", filepath.Join(vol, "passwd-link")); err != nil {
			t.Fatal(err)
		}
		for _, batch := range []string{
			"get /etc/passwd " + filepath.Join(work, "x") + "\n",
			"get ../../../../etc/passwd " + filepath.Join(work, "x") + "\n",
			"get passwd-link " + filepath.Join(work, "x") + "\n",
			"put " + filepath.Join(work, "big.bin") + " etc-link/catalyst-escape\n",
		} {
			if out, err := runSFTP(t, c.sftpAddr, asAdmin, batch); err == nil {
				t.Errorf("%q succeeded:\n%s", strings.TrimSpace(batch), out)
			}
		}
		// A symlink out of the volume is shown as what it is, never followed.
		if out, _ := runSFTP(t, c.sftpAddr, asAdmin, "ls -1 etc-link/\n"); strings.Contains(out, "passwd") || strings.Contains(out, "hostname") {
			t.Errorf("ls through a symlink to /etc listed the host's /etc:\n%s", out)
		}
		if _, err := os.Stat("/etc/catalyst-escape"); err == nil {
			os.Remove("/etc/catalyst-escape")
			t.Error("a put through a symlink wrote to the host's /etc")
		}
		out, err := runSFTP(t, c.sftpAddr, asAdmin, "cd ../../..\npwd\n")
		if err != nil || !strings.Contains(out, `Remote working directory: /`+"\n") {
			t.Errorf("cd above the top: %v\n%s", err, out)
		}
	})

	bob := c.createUser("bob")
	asBob := openssh.Login{User: c.sftpUser(bob, s.ID), Password: bob.password}
	step(t, "a subuser without file.sftp cannot log in", func() {
		c.must(http.MethodPost, "/api/servers/"+s.ID+"/subusers", map[string]any{"email": bob.Email, "permissions": []string{"file.read", "file.read-content"}}, nil)
		if out, err := runSFTP(t, c.sftpAddr, asBob, "ls\n"); err == nil {
			t.Fatalf("logged in without file.sftp:\n%s", out)
		}
	})

	step(t, "a subuser may do what its permissions say and no more", func() {
		c.must(http.MethodPatch, "/api/servers/"+s.ID+"/subusers/"+bob.ID, map[string]any{"permissions": []string{"file.sftp", "file.read"}}, nil)
		if out, err := runSFTP(t, c.sftpAddr, asBob, "ls -1\n"); err != nil || !strings.Contains(out, "big.bin") {
			t.Fatalf("list with file.read: %v\n%s", err, out)
		}
		small := filepath.Join(work, "small.txt")
		os.WriteFile(small, []byte("hello"), 0o644)
		for _, batch := range []string{
			"get big.bin " + filepath.Join(work, "bob.bin") + "\n", // file.read-content
			"put " + small + " small.txt\n",                        // file.write
			"rm big.bin\n",                                         // file.delete
		} {
			if out, err := runSFTP(t, c.sftpAddr, asBob, batch); err == nil {
				t.Errorf("%q succeeded without the permission:\n%s", strings.TrimSpace(batch), out)
			}
		}
		if _, err := os.Stat(filepath.Join(vol, "big.bin")); err != nil {
			t.Errorf("big.bin: %v", err)
		}
		if _, err := os.Stat(filepath.Join(vol, "small.txt")); err == nil {
			t.Error("small.txt was written without file.write")
		}
	})

	step(t, "removing the subuser closes its open session", func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := sftpCommand(ctx, t, c.sftpAddr, asBob)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out lockedbuf.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		defer stdin.Close()
		fmt.Fprintln(stdin, "pwd")
		c.eventually(20*time.Second, "the session to open", func() bool {
			return strings.Contains(out.String(), "Remote working directory")
		})
		c.must(http.MethodDelete, "/api/servers/"+s.ID+"/subusers/"+bob.ID, nil, nil)
		// The client notices a closed connection on its next request.
		deadline := time.After(20 * time.Second)
		for {
			select {
			case <-done:
				return
			case <-deadline:
				t.Fatalf("the session is still open 20s after the subuser was removed\n%s", out.String())
			case <-time.After(300 * time.Millisecond):
				// pwd is answered locally; ls asks the server.
				fmt.Fprintln(stdin, "ls")
			}
		}
	})
}
