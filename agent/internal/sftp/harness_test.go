package sftp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"catalyst.dev/agent/internal/files"
	"catalyst.dev/agent/internal/metrics"
	"catalyst.dev/agent/testkit/lockedbuf"
	"catalyst.dev/agent/testkit/openssh"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
	pkgsftp "github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// The test login: account "alice" on server 0123abcd-….
const (
	testServerID = "0123abcd-0000-4000-8000-000000000001"
	testUserID   = "user-alice"
	testUser     = "alice.0123abcd"
	testPassword = "correct horse battery staple"
)

var allPerms = []string{permRead, permReadContent, permWrite, permDelete}

// testAuth stands in for the core: it knows one password and one key.
type testAuth struct {
	key string // authorized_keys line

	mu          sync.Mutex
	permissions []string
	requests    []wire.SFTPAuthRequest
	// refuse, when set, is every answer.
	refuse error
}

func (a *testAuth) Authenticate(_ context.Context, req wire.SFTPAuthRequest) (wire.SFTPGrant, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, req)
	if a.refuse != nil {
		return wire.SFTPGrant{}, a.refuse
	}
	ok := req.Username == testUser &&
		(req.Password != "" && req.Password == testPassword || req.PublicKey != "" && req.PublicKey == a.key)
	if !ok {
		return wire.SFTPGrant{}, ErrDenied
	}
	return wire.SFTPGrant{ServerID: testServerID, UserID: testUserID, Username: "alice", Permissions: a.permissions}, nil
}

// testVolumes opens every server's volume at one directory.
type testVolumes struct {
	dir   string
	deny  []string
	quota files.Quota
	uid   int
}

func (v testVolumes) Open(id string) (*files.Volume, error) {
	return files.OpenVolume(id, v.dir, v.deny, v.quota, v.uid, v.uid)
}

// byteQuota approves writes up to limit bytes in all, as the metrics
// collector does between two disk walks.
type byteQuota struct {
	mu           sync.Mutex
	limit, spent uint64
}

func (q *byteQuota) CheckWrite(id string, n uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.spent+n > q.limit {
		return fmt.Errorf("%w: server %s: %d more bytes do not fit", metrics.ErrOverQuota, id, n)
	}
	q.spent += n
	return nil
}

type envOptions struct {
	permissions []string
	deny        []string
	quota       files.Quota
	uid         int
	maxSessions int
	idle        time.Duration
	hostKey     string
	// quiet drops the server's log (benchmarks).
	quiet bool
}

// env is a running Server on 127.0.0.1 with a volume in a temp dir, and
// an ed25519 client key the test Authenticator accepts.
type env struct {
	t      testing.TB
	dir    string // the volume
	work   string // the client's side: keys, batch files, local files
	port   int
	srv    *Server
	auth   *testAuth
	keyPEM string // the client's private key file
	signer ssh.Signer
	// stop ends Serve and waits for it; it runs at cleanup too.
	stop func()
	log  *lockedbuf.Buffer
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	base := t.TempDir()
	e := &env{t: t, dir: filepath.Join(base, "volume"), work: filepath.Join(base, "client")}
	for _, d := range []string{e.dir, e.work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var pub string
	e.keyPEM, pub = openssh.Keygen(t, e.work, "alice")
	pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pub))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := os.ReadFile(e.keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if e.signer, err = ssh.ParsePrivateKey(priv); err != nil {
		t.Fatal(err)
	}
	perms := o.permissions
	if perms == nil {
		perms = allPerms
	}
	e.auth = &testAuth{key: authorizedKey(pk), permissions: perms}
	uid := o.uid
	if uid == 0 {
		uid = -1
	}
	hostKey := o.hostKey
	if hostKey == "" {
		hostKey = filepath.Join(base, "hostkey", "ssh_host_ed25519_key")
	}
	cfg := Config{
		HostKeyPath: hostKey,
		Auth:        e.auth,
		Volumes:     testVolumes{dir: e.dir, deny: o.deny, quota: o.quota, uid: uid},
		MaxSessions: o.maxSessions,
	}
	if o.idle > 0 {
		cfg.IdleTimeout = o.idle
	}
	e.log = &lockedbuf.Buffer{}
	if !o.quiet {
		cfg.Log = hclog.New(&hclog.LoggerOptions{Name: "sftp", Level: hclog.Debug, Output: io.MultiWriter(testWriter{t}, e.log)})
	}
	e.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.port = ln.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	e.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	t.Cleanup(e.stop)
	return e
}

type login int

const (
	withPassword login = iota
	withKey
)

// sftp runs OpenSSH's sftp with commands as its batch file, in e.work.
func (e *env) sftp(how login, commands ...string) (stdout, stderr string, err error) {
	return e.sftpAs(how, testPassword, commands...)
}

func (e *env) sftpAs(how login, password string, commands ...string) (stdout, stderr string, err error) {
	return e.sftpRun(how, password, nil, commands...)
}

// sftpWith is sftp with more command line options.
func (e *env) sftpWith(how login, options []string, commands ...string) (stdout, stderr string, err error) {
	return e.sftpRun(how, testPassword, options, commands...)
}

func (e *env) sftpRun(how login, password string, options []string, commands ...string) (stdout, stderr string, err error) {
	e.t.Helper()
	batch := filepath.Join(e.work, "batch")
	if err := os.WriteFile(batch, []byte(strings.Join(commands, "\n")+"\n"), 0o600); err != nil {
		e.t.Fatal(err)
	}
	cmd := e.login(how, password).Command(context.Background(), e.t, "sftp", options,
		"-P", strconv.Itoa(e.port), "-b", batch, testUser+"@127.0.0.1")
	return e.run(cmd)
}

// ssh runs OpenSSH's ssh with a remote command.
func (e *env) ssh(how login, command string) (stdout, stderr string, err error) {
	e.t.Helper()
	cmd := e.login(how, testPassword).Command(context.Background(), e.t, "ssh", nil,
		"-p", strconv.Itoa(e.port), testUser+"@127.0.0.1", command)
	return e.run(cmd)
}

func (e *env) login(how login, password string) openssh.Login {
	if how == withKey {
		return openssh.Login{User: testUser, KeyFile: e.keyPEM}
	}
	return openssh.Login{User: testUser, Password: password}
}

func (e *env) run(cmd *exec.Cmd) (string, string, error) {
	cmd.Dir = e.work
	cmd.Env = append(cmd.Env, "HOME="+e.work)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// goClient logs in with the client key through pkg/sftp's client.
func (e *env) goClient() (*pkgsftp.Client, *ssh.Client, error) {
	conn, err := ssh.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(e.port)), &ssh.ClientConfig{
		User:            testUser,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(e.signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	})
	if err != nil {
		return nil, nil, err
	}
	c, err := pkgsftp.NewClient(conn)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return c, conn, nil
}

func (e *env) mustGoClient() *pkgsftp.Client {
	e.t.Helper()
	c, conn, err := e.goClient()
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		c.Close()
		conn.Close()
	})
	return c
}

// writeVolume writes a file into the volume directly, as the game would.
func (e *env) writeVolume(rel, content string) {
	e.t.Helper()
	p := filepath.Join(e.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) writeLocal(name, content string) string {
	e.t.Helper()
	p := filepath.Join(e.work, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return !errors.Is(err, os.ErrNotExist)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// writeRandomFile writes size random bytes to p.
func writeRandomFile(tb testing.TB, p string, size int64) {
	tb.Helper()
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	if _, err := io.CopyN(f, rng, size); err != nil {
		tb.Fatal(err)
	}
}
