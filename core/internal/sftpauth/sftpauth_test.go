package sftpauth_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/audit"
	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/gateway/gatewaytest"
	"catalyst.dev/core/internal/nodes"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/sftpauth"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"
)

const password = "correct horse battery"

// passwordHash is computed once: argon2id is deliberately slow.
var passwordHash = sync.OnceValue(func() string {
	h, err := accounts.HashPassword(password)
	if err != nil {
		panic(err)
	}
	return h
})

// quiet is a gateway.Handler that ignores the agent's events.
type quiet struct{}

func (quiet) OnHello(context.Context, string, wire.Hello)    {}
func (quiet) OnEvent(context.Context, string, wire.Envelope) {}
func (quiet) OnDisconnect(string)                            {}

// world is a core with the SFTP login handler behind its gateway, one
// agent connected for node "here", and users and servers around it.
type world struct {
	t       *testing.T
	store   *store.Store
	gw      *gateway.Gateway
	agent   *gatewaytest.Agent
	revokes *gatewaytest.SFTPRevokes
	here    *store.Node
	there   *store.Node
	users   map[string]*store.User
	servers map[string]*store.Server
	key     ssh.PublicKey // registered for "owner"
}

func newWorld(t *testing.T, s *store.Store, opts sftpauth.Options) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, store: s, users: map[string]*store.User{}, servers: map[string]*store.Server{}}
	ns := nodes.NewService(s)
	here, token, err := ns.Create(ctx, nodes.NewNode{Name: "here", FQDN: "here.example.com", MemoryMB: 4096, DiskMB: 4096})
	if err != nil {
		t.Fatal(err)
	}
	_, cred, err := ns.Enrol(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	there, _, err := ns.Create(ctx, nodes.NewNode{Name: "there", FQDN: "there.example.com", MemoryMB: 4096, DiskMB: 4096})
	if err != nil {
		t.Fatal(err)
	}
	w.here, w.there = here, there

	log := hclog.NewNullLogger()
	svc, err := sftpauth.New(s, audit.NewRecorder(s, log), log, opts)
	if err != nil {
		t.Fatal(err)
	}
	w.gw = gateway.New(s, ns, log, gateway.Options{})
	w.gw.SetHandler(quiet{})
	remote := http.NewServeMux()
	remote.Handle("POST "+wire.CorePathSFTPAuth, svc)
	w.gw.SetRemote(remote)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if err := w.gw.Connect(rw, r); err != nil {
			http.Error(rw, err.Error(), http.StatusUnauthorized)
		}
	}))
	t.Cleanup(func() {
		w.gw.Close()
		srv.Close()
	})
	w.revokes = gatewaytest.NewSFTPRevokes(http.NotFoundHandler())
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	w.agent, err = gatewaytest.Dial(dialCtx, gatewaytest.Config{URL: srv.URL, NodeID: here.ID, Credential: cred, Handler: w.revokes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.agent.Close)

	for _, name := range []string{"owner", "helper", "viewer", "stranger", "admin", "guarded"} {
		u := &store.User{Email: name + "@example.com", Username: name, PasswordHash: passwordHash(),
			Admin: name == "admin", TOTPEnabled: name == "guarded"}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		w.users[name] = u
	}
	tmpl := &store.Template{Name: "t", Images: []store.TemplateImage{{Label: "img", Image: "img"}}, Startup: "run"}
	if err := s.CreateTemplate(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	for _, sv := range []struct{ name, state, node string }{
		{"game", store.StateRunning, here.ID},
		{"fresh", store.StateInstalling, here.ID},
		{"moving", store.StateTransferring, here.ID},
		{"frozen", store.StateSuspended, here.ID},
		{"elsewhere", store.StateStopped, there.ID},
	} {
		srv := &store.Server{Name: sv.name, OwnerID: w.users["owner"].ID, NodeID: sv.node, TemplateID: tmpl.ID,
			State: sv.state, Image: "img", Startup: "run", MemoryMB: 128, CPUPercent: 100, DiskMB: 100}
		if err := s.CreateServer(ctx, srv, nil); err != nil {
			t.Fatal(err)
		}
		w.servers[sv.name] = srv
	}
	game := w.servers["game"]
	for _, su := range []struct {
		user  string
		perms []string
	}{
		{"helper", []string{"server.read", "file.read", "file.sftp", "server.console"}},
		{"viewer", []string{"server.read", "file.read", "file.read-content"}},
		{"guarded", []string{"file.sftp", "file.read"}},
	} {
		if err := s.CreateSubuser(ctx, &store.Subuser{ServerID: game.ID, UserID: w.users[su.user].ID, Permissions: su.perms}); err != nil {
			t.Fatal(err)
		}
	}
	w.key = w.addKey("owner")
	return w
}

// addKey registers a new ed25519 key for a user.
func (w *world) addKey(user string) ssh.PublicKey {
	w.t.Helper()
	pk := newKey(w.t)
	k := &store.SSHKey{UserID: w.users[user].ID, Name: "laptop", PublicKey: authorized(pk), Fingerprint: ssh.FingerprintSHA256(pk)}
	if err := w.store.CreateSSHKey(context.Background(), k); err != nil {
		w.t.Fatal(err)
	}
	return pk
}

func newKey(t *testing.T) ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

func authorized(pk ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk)))
}

// login is a user name for user on server.
func (w *world) login(user, server string) string { return user + "." + w.servers[server].ShortID }

// answer is the core's answer to one login.
type answer struct {
	status     int
	grant      wire.SFTPGrant
	code       string
	retryAfter string
}

// ask sends a login through the agent's tunnel, as the agent's SFTP server
// does.
func (w *world) ask(req wire.SFTPAuthRequest) answer {
	w.t.Helper()
	b, _ := json.Marshal(req)
	return w.askRaw(b)
}

func (w *world) askRaw(body []byte) answer {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://core"+wire.CorePathSFTPAuth, bytes.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	resp, err := w.agent.CoreHTTP().Do(hr)
	if err != nil {
		w.t.Fatalf("ask the core: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &a.grant); err != nil {
			w.t.Fatalf("grant %q: %v", raw, err)
		}
	} else {
		var eb wire.ErrorBody
		if err := json.Unmarshal(raw, &eb); err != nil {
			w.t.Fatalf("error answer %q: %v", raw, err)
		}
		a.code = eb.Error.Code
	}
	return a
}

// lastAudit is the newest audit entry.
func (w *world) lastAudit() *store.AuditEntry {
	w.t.Helper()
	es, err := w.store.ListAudit(context.Background(), store.AuditFilter{Limit: 1})
	if err != nil || len(es) == 0 {
		w.t.Fatalf("audit log: %v, %d entries", err, len(es))
	}
	return es[0]
}

func TestLogins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s, sftpauth.Options{})
		allFile := []string{"file.read", "file.read-content", "file.write", "file.delete", "file.archive", "file.sftp"}
		unregistered := newKey(t)
		cases := []struct {
			name     string
			username string
			password string
			key      ssh.PublicKey
			// wantPerms is the grant's permissions; nil means a refusal
			// for wantReason.
			wantPerms  []string
			wantServer string
			wantReason string
		}{
			{name: "owner with the password", username: w.login("owner", "game"), password: password, wantPerms: allFile, wantServer: "game"},
			{name: "user name in capitals", username: strings.ToUpper(w.login("owner", "game")), password: password, wantPerms: allFile, wantServer: "game"},
			{name: "owner with a registered key", username: w.login("owner", "game"), key: w.key, wantPerms: allFile, wantServer: "game"},
			{name: "admin on a server they do not own", username: w.login("admin", "game"), password: password, wantPerms: allFile, wantServer: "game"},
			{name: "subuser with file.sftp gets exactly its file permissions", username: w.login("helper", "game"), password: password,
				wantPerms: []string{"file.read", "file.sftp"}, wantServer: "game"},
			{name: "wrong password", username: w.login("owner", "game"), password: "guess", wantReason: "wrong_password"},
			{name: "unregistered key", username: w.login("owner", "game"), key: unregistered, wantReason: "unknown_key"},
			{name: "unknown user", username: "nobody." + w.servers["game"].ShortID, password: password, wantReason: "unknown_user"},
			{name: "unknown short id", username: "owner.0badc0de", password: password, wantReason: "unknown_server_on_node"},
			{name: "server on another node", username: w.login("owner", "elsewhere"), password: password, wantReason: "unknown_server_on_node"},
			{name: "no short id", username: "owner", password: password, wantReason: "malformed_username"},
			{name: "short id not hex", username: "owner.zzzzzzzz", password: password, wantReason: "malformed_username"},
			{name: "subuser without file.sftp", username: w.login("viewer", "game"), password: password, wantReason: "missing_permission"},
			{name: "user without access", username: w.login("stranger", "game"), password: password, wantReason: "missing_permission"},
			{name: "installing server", username: w.login("owner", "fresh"), password: password, wantReason: "server_installing"},
			{name: "transferring server", username: w.login("owner", "moving"), password: password, wantReason: "server_transferring"},
			{name: "suspended server", username: w.login("owner", "frozen"), password: password, wantReason: "server_suspended"},
			{name: "two-factor account with its password", username: w.login("guarded", "game"), password: password, wantReason: "two_factor_needs_key"},
			{name: "password and key at once", username: w.login("owner", "game"), password: password, key: w.key, wantReason: "bad_request"},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				req := wire.SFTPAuthRequest{Username: tc.username, Password: tc.password, RemoteAddr: fmt.Sprintf("198.51.100.%d:50000", i+1)}
				if tc.key != nil {
					req.PublicKey = authorized(tc.key)
				}
				got := w.ask(req)
				e := w.lastAudit()
				if tc.wantPerms == nil {
					if got.status != http.StatusForbidden || got.code != wire.CodeUnauthorized {
						t.Fatalf("answer = %+v, want 403 %s", got, wire.CodeUnauthorized)
					}
					if e.Action != sftpauth.ActionLoginFailed || e.Metadata["reason"] != tc.wantReason || e.IP != fmt.Sprintf("198.51.100.%d", i+1) {
						t.Fatalf("audit = %s %v from %s, want %s for %s", e.Action, e.Metadata, e.IP, sftpauth.ActionLoginFailed, tc.wantReason)
					}
					return
				}
				want := w.servers[tc.wantServer]
				if got.status != http.StatusOK || got.grant.ServerID != want.ID || !slices.Equal(got.grant.Permissions, tc.wantPerms) {
					t.Fatalf("answer = %+v, want server %s with %v", got, want.ID, tc.wantPerms)
				}
				if e.Action != sftpauth.ActionLogin || e.ServerID == nil || *e.ServerID != want.ID || e.ActorID == nil || *e.ActorID != got.grant.UserID {
					t.Fatalf("audit = %+v, want %s by %s", e, sftpauth.ActionLogin, got.grant.UserID)
				}
				method := sftpauth.MethodPassword
				if tc.key != nil {
					method = sftpauth.MethodPublicKey
				}
				if e.Metadata["method"] != method {
					t.Fatalf("audited method %v, want %s", e.Metadata["method"], method)
				}
			})
		}

		// A two-factor account logs in with a key.
		key := w.addKey("guarded")
		if got := w.ask(wire.SFTPAuthRequest{Username: w.login("guarded", "game"), PublicKey: authorized(key), RemoteAddr: "198.51.100.200:1"}); got.status != http.StatusOK {
			t.Fatalf("two-factor account with its key = %+v", got)
		}
		// No audit entry holds a password.
		es, err := s.ListAudit(context.Background(), store.AuditFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if b, _ := json.Marshal(e); bytes.Contains(b, []byte(password)) || bytes.Contains(b, []byte("guess")) {
				t.Fatalf("audit entry holds a password: %s", b)
			}
		}
	})
}

func TestMalformedRequestIsABadRequest(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t), sftpauth.Options{})
	if got := w.askRaw([]byte("{not json")); got.status != http.StatusBadRequest || got.code != wire.CodeInvalid {
		t.Fatalf("answer to a malformed body = %+v", got)
	}
}

func TestFailedLoginsAreThrottled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s, sftpauth.Options{MaxFailuresPerAccount: 3, MaxFailuresPerIP: 5, FailureWindow: time.Hour})
		owner := w.login("owner", "game")
		// Keys keep this test quick: a wrong key fails without a password
		// hash, and counts like a wrong password.
		good, bad := authorized(w.key), authorized(newKey(t))
		try := func(addr, username, key string) answer {
			return w.ask(wire.SFTPAuthRequest{Username: username, PublicKey: key, RemoteAddr: addr})
		}
		throttled := func(a answer) bool {
			return a.status == http.StatusTooManyRequests && a.code == wire.CodeThrottled && a.retryAfter != ""
		}

		// Three failures on one account from one address: even the right
		// password is then refused unchecked, once audited.
		for range 3 {
			if got := try("203.0.113.1:1", owner, bad); got.status != http.StatusForbidden {
				t.Fatalf("failure = %+v", got)
			}
		}
		for range 2 {
			got := w.ask(wire.SFTPAuthRequest{Username: owner, Password: password, RemoteAddr: "203.0.113.1:2"})
			if !throttled(got) {
				t.Fatalf("right password after 3 failures = %+v, want 429 with Retry-After", got)
			}
		}
		es, _ := s.ListAudit(context.Background(), store.AuditFilter{Action: sftpauth.ActionLoginFailed, Limit: 100})
		n := 0
		for _, e := range es {
			if e.Metadata["reason"] == "throttled" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d throttled refusals audited for 2 attempts, want 1", n)
		}
		// Naming another server does not buy more guesses on the account.
		if got := try("203.0.113.1:3", "owner.0badc0de", good); !throttled(got) {
			t.Fatalf("same account, other short id = %+v, want 429", got)
		}
		// Another address is not affected.
		if got := try("203.0.113.2:1", owner, good); got.status != http.StatusOK {
			t.Fatalf("another address = %+v", got)
		}

		// A success clears the address's count on that account: 2
		// failures, a success, 2 more failures stay under 3.
		for _, step := range []struct {
			key  string
			want int
		}{{bad, 403}, {bad, 403}, {good, 200}, {bad, 403}, {bad, 403}, {good, 200}} {
			if got := try("203.0.113.3:1", owner, step.key); got.status != step.want {
				t.Fatalf("after a success the count restarts: got %+v, want %d", got, step.want)
			}
		}

		// But not its count across accounts: 4 failures on accounts that
		// do not exist, the owner's success, one more failure make 5, and
		// the address is done.
		for i := range 4 {
			if got := try("203.0.113.4:1", fmt.Sprintf("ghost%d.%s", i, w.servers["game"].ShortID), good); got.status != http.StatusForbidden {
				t.Fatalf("failure = %+v", got)
			}
		}
		if got := try("203.0.113.4:1", owner, good); got.status != http.StatusOK {
			t.Fatalf("success = %+v", got)
		}
		if got := try("203.0.113.4:1", "ghost9."+w.servers["game"].ShortID, good); got.status != http.StatusForbidden {
			t.Fatalf("fifth failure = %+v", got)
		}
		if got := try("203.0.113.4:1", owner, good); !throttled(got) {
			t.Fatalf("after 5 failures across accounts = %+v, want 429", got)
		}

		// IPv6 clients are counted by /64.
		for i := range 3 {
			if got := try(fmt.Sprintf("[2001:db8:1:2::%d]:22", i+1), owner, bad); got.status != http.StatusForbidden {
				t.Fatalf("failure = %+v", got)
			}
		}
		if got := try("[2001:db8:1:2::ff]:22", owner, good); !throttled(got) {
			t.Fatalf("another address of the same /64 = %+v, want 429", got)
		}
	})
}

func TestRevoker(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t), sftpauth.Options{})
	r := sftpauth.NewRevoker(w.store, w.gw, hclog.NewNullLogger())
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	game, frozen := w.servers["game"], w.servers["frozen"]
	owner := w.users["owner"].ID

	// A change to a state that keeps SFTP open sends nothing.
	r.OnChange(servers.Change{ServerID: game.ID, From: store.StateStopped, To: store.StateRunning})
	r.RevokeServer(w.here.ID, game.ID, owner)
	if got := w.revokes.Wait(ctx, 1); len(got) != 1 || got[0] != (wire.SFTPRevoke{UserID: owner, ServerID: game.ID}) {
		t.Fatalf("revocations = %+v, want the owner's on game", got)
	}
	r.OnChange(servers.Change{ServerID: frozen.ID, From: store.StateStopped, To: store.StateSuspended})
	if got := w.revokes.Wait(ctx, 2); len(got) != 2 || got[1] != (wire.SFTPRevoke{ServerID: frozen.ID}) {
		t.Fatalf("revocations = %+v, want everyone's on the suspended server", got)
	}
	r.RevokeUser(owner)
	if got := w.revokes.Wait(ctx, 3); len(got) != 3 || got[2] != (wire.SFTPRevoke{UserID: owner}) {
		t.Fatalf("revocations = %+v, want the owner's everywhere", got)
	}
	// Offline nodes are skipped, and Close waits for what is in flight.
	r.RevokeServer(w.there.ID, w.servers["elsewhere"].ID, "")
	r.Close()
	r.RevokeUser(owner) // after Close: dropped
	if got := w.revokes.Wait(ctx, 3); len(got) != 3 {
		t.Fatalf("revocations after Close = %+v", got)
	}
}

func TestThrottledErrorIsErrThrottled(t *testing.T) {
	var err error = fmt.Errorf("login: %w", &sftpauth.ThrottledError{RetryAfter: time.Minute})
	if !errors.Is(err, sftpauth.ErrThrottled) || errors.Is(err, sftpauth.ErrDenied) {
		t.Fatalf("errors.Is on %v does not match ErrThrottled alone", err)
	}
}
