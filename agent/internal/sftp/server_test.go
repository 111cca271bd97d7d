package sftp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestPasswordLoginPutGetRoundTrip(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.writeLocal("hello.txt", "hello from the client\n")
	out, errOut, err := e.sftp(withPassword,
		"mkdir plugins",
		"put hello.txt plugins/hello.txt",
		"ls -l plugins",
		"get plugins/hello.txt back.txt",
		"pwd",
	)
	if err != nil {
		t.Fatalf("sftp: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	got, err := os.ReadFile(filepath.Join(e.dir, "plugins", "hello.txt"))
	if err != nil || string(got) != "hello from the client\n" {
		t.Fatalf("volume file = %q, %v", got, err)
	}
	back, err := os.ReadFile(filepath.Join(e.work, "back.txt"))
	if err != nil || string(back) != "hello from the client\n" {
		t.Fatalf("downloaded file = %q, %v", back, err)
	}
	if !strings.Contains(out, "hello.txt") || !strings.Contains(out, "Remote working directory: /") {
		t.Errorf("stdout:\n%s", out)
	}
	e.auth.mu.Lock()
	defer e.auth.mu.Unlock()
	if len(e.auth.requests) == 0 || e.auth.requests[0].Username != testUser || e.auth.requests[0].RemoteAddr == "" ||
		e.auth.requests[0].PublicKey != "" {
		t.Errorf("auth requests: %+v", e.auth.requests)
	}

	e.stop() // the session's close line is written by then
	log := e.log.String()
	for _, want := range []string{"sftp login attempt", "method=password", "result=accepted", "sftp session opened",
		"sftp session closed", "bytes_read=22", "bytes_written=22", "reason=\"client disconnected\""} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(log, "horse") {
		t.Error("the log holds the password")
	}
}

func TestKeyLoginSendsTheKeyInAuthorizedKeysFormat(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.writeVolume("server.properties", "motd=hi\n")
	out, errOut, err := e.sftp(withKey, "ls")
	if err != nil {
		t.Fatalf("sftp: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(out, "server.properties") {
		t.Errorf("ls:\n%s", out)
	}
	e.auth.mu.Lock()
	defer e.auth.mu.Unlock()
	var keys []string
	for _, r := range e.auth.requests {
		if r.Password != "" {
			t.Errorf("a key login sent a password: %+v", r)
		}
		keys = append(keys, r.PublicKey)
	}
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "ssh-ed25519 AAAA") || keys[0] != e.auth.key {
		t.Errorf("keys asked about: %q", keys)
	}
}

func TestLargeFileRoundTripIsByteIdentical(t *testing.T) {
	e := newEnv(t, envOptions{})
	const size = 200 << 20
	writeRandomFile(t, filepath.Join(e.work, "world.tar"), size)
	if err := os.Mkdir(filepath.Join(e.dir, "backups"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := e.sftpWith(withKey, []string{"-B", "261120", "-R", "64"},
		"put world.tar backups/world.tar", "get backups/world.tar world-back.tar")
	if err != nil {
		t.Fatalf("sftp: %v\n%s%s", err, out, errOut)
	}
	want := fileSum(t, filepath.Join(e.work, "world.tar"))
	if got := fileSum(t, filepath.Join(e.dir, "backups", "world.tar")); got != want {
		t.Errorf("uploaded file differs")
	}
	if got := fileSum(t, filepath.Join(e.work, "world-back.tar")); got != want {
		t.Errorf("downloaded file differs")
	}
}

func fileSum(t *testing.T, p string) [32]byte {
	t.Helper()
	f, err := os.Open(p)
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

func TestRefusedLogins(t *testing.T) {
	tests := []struct {
		name       string
		password   string
		refuse     error
		wantStderr string
	}{
		{"wrong password", "hunter2", nil, "Permission denied"},
		{"throttled", testPassword, ErrThrottled, "Too many failed logins"},
		{"core unreachable", testPassword, errors.New("tunnel down"), "Logins cannot be checked right now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			e.auth.refuse = tt.refuse
			// Banners show at LogLevel INFO, OpenSSH's default.
			out, errOut, err := e.sftpRun(withPassword, tt.password, []string{"-o", "LogLevel=INFO"}, "ls")
			if err == nil {
				t.Fatalf("login succeeded: %s", out)
			}
			if !strings.Contains(errOut, tt.wantStderr) {
				t.Errorf("stderr = %q, want %q", errOut, tt.wantStderr)
			}
			if e.srv.Sessions() != 0 {
				t.Errorf("Sessions() = %d", e.srv.Sessions())
			}
		})
	}
}

func TestCommandsAndShellsAreRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, errOut, err := e.ssh(withKey, "cat /etc/passwd")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("ssh exit: %v, want status 1", err)
	}
	if !strings.Contains(errOut, "this server offers SFTP only") {
		t.Errorf("stderr = %q", errOut)
	}

	// Port forwarding is a channel other than "session".
	c, conn, err := e.goClient()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	defer c.Close()
	if fwd, err := conn.Dial("tcp", "127.0.0.1:22"); err == nil {
		fwd.Close()
		t.Fatal("port forwarding was allowed")
	}
	// Nor does a second subsystem run, or another than sftp.
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.RequestSubsystem("netconf"); err == nil {
		t.Error("subsystem netconf was accepted")
	}
}

func TestRevokeClosesTheUsersSessions(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.mustGoClient()
	if _, err := c.Getwd(); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Sessions(); n != 1 {
		t.Fatalf("Sessions() = %d, want 1", n)
	}
	if n := e.srv.Revoke("someone-else", ""); n != 0 {
		t.Errorf("Revoke(other user) = %d", n)
	}
	if n := e.srv.Revoke(testUserID, "another-server"); n != 0 {
		t.Errorf("Revoke(other server) = %d", n)
	}
	if n := e.srv.Revoke(testUserID, testServerID); n != 1 {
		t.Fatalf("Revoke = %d, want 1", n)
	}
	waitFor(t, "the session to end", func() bool { return e.srv.Sessions() == 0 })
	if _, err := c.ReadDir("/"); err == nil {
		t.Error("the revoked session still lists files")
	}
}

func TestRevokeOfAServerClosesEveryUsersSessions(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.mustGoClient()
	if _, err := c.Getwd(); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Revoke("", ""); n != 0 {
		t.Errorf("Revoke of nobody = %d, want 0", n)
	}
	if n := e.srv.Revoke("", "another-server"); n != 0 {
		t.Errorf("Revoke(other server) = %d, want 0", n)
	}
	if n := e.srv.Revoke("", testServerID); n != 1 {
		t.Fatalf("Revoke(every user, the server) = %d, want 1", n)
	}
	waitFor(t, "the session to end", func() bool { return e.srv.Sessions() == 0 })
}

func TestManyConcurrentSessions(t *testing.T) {
	e := newEnv(t, envOptions{})
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	opened := make(chan struct{}, n)
	release := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				c, conn, err := e.goClient()
				if err != nil {
					return err
				}
				defer conn.Close()
				defer c.Close()
				name := fmt.Sprintf("/file-%d.txt", i)
				content := strings.Repeat(fmt.Sprint(i), 1000)
				f, err := c.Create(name)
				if err != nil {
					return err
				}
				if _, err := f.Write([]byte(content)); err != nil {
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
				opened <- struct{}{}
				<-release
				f, err = c.Open(name)
				if err != nil {
					return err
				}
				defer f.Close()
				got, err := io.ReadAll(f)
				if err != nil {
					return err
				}
				if string(got) != content {
					return fmt.Errorf("%s read back differs", name)
				}
				return nil
			}()
		}()
	}
	for range n {
		select {
		case <-opened:
		case err := <-errs:
			close(release)
			t.Fatal(err)
		}
	}
	if got := e.srv.Sessions(); got != n {
		t.Errorf("Sessions() = %d, want %d", got, n)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestMaxSessionsRefusesMore(t *testing.T) {
	e := newEnv(t, envOptions{maxSessions: 2})
	e.mustGoClient()
	e.mustGoClient()
	if c, conn, err := e.goClient(); err == nil {
		c.Close()
		conn.Close()
		t.Fatal("a third session was let in")
	}
}

func TestIdleSessionIsClosed(t *testing.T) {
	e := newEnv(t, envOptions{idle: 200 * time.Millisecond})
	_, conn, err := e.goClient()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	done := make(chan error, 1)
	go func() { done <- conn.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("an idle session stayed open")
	}
}

func TestShutdownClosesSessions(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.mustGoClient()
	if _, err := c.Getwd(); err != nil {
		t.Fatal(err)
	}
	e.stop() // returns once Serve has
	if _, err := c.ReadDir("/"); err == nil {
		t.Error("a session outlived the server")
	}
	if n := e.srv.Sessions(); n != 0 {
		t.Errorf("Sessions() = %d after Serve returned", n)
	}
}

func TestOnlyModernAlgorithms(t *testing.T) {
	e := newEnv(t, envOptions{})
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaSigner, err := ssh.NewSignerFromKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	e.auth.key = authorizedKey(rsaSigner.PublicKey())
	sha1Signer, err := ssh.NewSignerWithAlgorithms(rsaSigner.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSA})
	if err != nil {
		t.Fatal(err)
	}
	sha256Signer, err := ssh.NewSignerWithAlgorithms(rsaSigner.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSASHA256})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		config ssh.Config
		signer ssh.Signer
		ok     bool
	}{
		{"rsa-sha2-256 key", ssh.Config{}, sha256Signer, true},
		{"ssh-rsa (SHA-1) key", ssh.Config{}, sha1Signer, false},
		{"aes256-gcm", ssh.Config{Ciphers: []string{ssh.CipherAES256GCM}}, sha256Signer, true},
		{"aes128-ctr cipher", ssh.Config{Ciphers: []string{ssh.CipherAES128CTR}}, sha256Signer, false},
		{"diffie-hellman kex", ssh.Config{KeyExchanges: []string{ssh.KeyExchangeDH14SHA256}}, sha256Signer, false},
		{"ecdh nistp256 kex", ssh.Config{KeyExchanges: []string{ssh.KeyExchangeECDHP256}}, sha256Signer, false},
		{"mlkem768x25519 kex", ssh.Config{KeyExchanges: []string{ssh.KeyExchangeMLKEM768X25519}}, sha256Signer, true},
		{"curve25519 kex", ssh.Config{KeyExchanges: []string{ssh.KeyExchangeCurve25519}}, sha256Signer, true},
		{"curve25519@libssh.org kex", ssh.Config{KeyExchanges: []string{"curve25519-sha256@libssh.org"}}, sha256Signer, true},
		{"chacha20-poly1305", ssh.Config{Ciphers: []string{ssh.CipherChaCha20Poly1305}}, sha256Signer, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := ssh.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", e.port), &ssh.ClientConfig{
				Config:          tt.config,
				User:            testUser,
				Auth:            []ssh.AuthMethod{ssh.PublicKeys(tt.signer)},
				HostKeyCallback: ssh.FixedHostKey(hostKeyOf(t, e)),
			})
			if err == nil {
				conn.Close()
			}
			if (err == nil) != tt.ok {
				t.Errorf("dial: %v, want success %v", err, tt.ok)
			}
		})
	}
}

// hostKeyOf reads the server's public host key from its key file.
func hostKeyOf(t *testing.T, e *env) ssh.PublicKey {
	t.Helper()
	pemBytes, err := os.ReadFile(e.srv.cfg.HostKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	return s.PublicKey()
}

// waitFor polls cond until it holds, failing the test after a generous
// while: the wait is for an event, not a measurement.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// failingListener fails every Accept, as a closed or broken socket does.
type failingListener struct{ net.Listener }

func (failingListener) Accept() (net.Conn, error) { return nil, errors.New("socket broke") }

func TestServeReturnsTheAcceptError(t *testing.T) {
	e := newEnv(t, envOptions{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = e.srv.Serve(context.Background(), failingListener{ln})
	if err == nil || !strings.Contains(err.Error(), "socket broke") {
		t.Errorf("Serve = %v", err)
	}
}
