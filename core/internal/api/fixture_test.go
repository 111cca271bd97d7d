package api

import (
	"bytes"
	"catalyst.dev/core/internal/schedules"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/alerts"
	"catalyst.dev/core/internal/audit"
	"catalyst.dev/core/internal/auth"
	"catalyst.dev/core/internal/backups"
	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/gateway/gatewaytest"
	"catalyst.dev/core/internal/live"
	"catalyst.dev/core/internal/metrics"
	"catalyst.dev/core/internal/nodes"
	"catalyst.dev/core/internal/outbox"
	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
	"catalyst.dev/core/internal/webhooks"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugin/host"
	"catalyst.dev/sdk/webhook"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"
)

const testPassword = "password123"

var testSecret = []byte("0123456789abcdef0123456789abcdef-test")

// passwordHash is computed once: argon2id is deliberately slow.
var passwordHash = sync.OnceValue(func() string {
	h, err := accounts.HashPassword(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

// newTestAPI builds the API on s with defaults, adjusted by tune.
func newTestAPI(t testing.TB, s *store.Store, tune func(*config.Config)) *API {
	t.Helper()
	cfg := config.Default()
	if tune != nil {
		tune(cfg)
	}
	authn, err := auth.New(s, auth.Options{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	ns := nodes.NewService(s)
	gw := gateway.New(s, ns, hclog.NewNullLogger(), gateway.Options{})
	t.Cleanup(gw.Close)
	srvs := servers.New(s, gw, hclog.NewNullLogger(), servers.Options{})
	hub := live.New(hclog.NewNullLogger(), live.OptionsFrom(cfg.WebSocket))
	t.Cleanup(hub.Close)
	srvs.Observe(hub.OnChange)
	rec := metrics.NewRecorder(s, hclog.NewNullLogger(), metrics.Options{})
	bk := backups.New(s, gw, srvs, hub, hclog.NewNullLogger(), backups.OptionsFrom(cfg.Backups, cfg.Servers.StopTimeoutDuration()))
	t.Cleanup(bk.Close) // before the gateway closes
	al, wh := startNotifications(t, s, hub)
	srvs.Observe(al.OnChange)
	srvs.Observe(wh.OnChange)
	bk.OnOutcome(al.OnOutcome)
	bk.OnOutcome(wh.OnOutcome)
	rec.Watch(al.OnSamples)
	gw.SetHandler(gateway.Handlers{srvs, rec, hub, bk, al})
	sched := schedules.New(s, srvs, bk, nil, schedules.Options{MinInterval: time.Second}, hclog.NewNullLogger())
	if err := sched.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sched.Close) // before the backups and the gateway close
	a, err := New(Deps{Alerts: al, Webhooks: wh, Schedules: sched, Store: s, Auth: authn, Accounts: accounts.NewService(s),
		Audit: audit.NewRecorder(s, hclog.NewNullLogger()), Nodes: ns, Gateway: gw, Servers: srvs, Backups: bk, Live: hub,
		Metrics: rec, Prometheus: metrics.NewExporter(s, metrics.Sources{NodesConnected: gw.OnlineCount, WebSocketClients: hub.Clients, ConsoleLines: hub.ConsoleLines}, hclog.NewNullLogger()),
		Plugins: noPlugins{}, Config: cfg, Log: hclog.NewNullLogger(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// startNotifications runs the alerts, the webhooks (allowed to reach
// loopback receivers) and the outbox on s, with no alert sink plugins.
func startNotifications(t testing.TB, s *store.Store, hub *live.Hub) (*alerts.Service, *webhooks.Service) {
	t.Helper()
	client, err := webhook.NewClient(webhook.ClientOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var wh *webhooks.Service
	ob := outbox.New(s, func(name string) (outbox.Sink, error) {
		if strings.HasPrefix(name, webhooks.SinkPrefix) {
			return wh.Sink(), nil
		}
		return nil, fmt.Errorf("no alert sink %q", name)
	}, hclog.NewNullLogger(), outbox.Options{MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second, Poll: 200 * time.Millisecond})
	wh = webhooks.New(s, ob, client, hclog.NewNullLogger())
	al := alerts.New(s, hub, ob, hclog.NewNullLogger(), alerts.Options{Tick: 100 * time.Millisecond})
	al.OnNotice(wh.OnNotice)
	if err := al.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, run := range []func(context.Context){ob.Run, wh.Run, al.Run} {
		wg.Go(func() { run(ctx) })
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return al, wh
}

type role string

const (
	roleAdmin      role = "admin"
	roleOwner      role = "owner"
	roleSubWith    role = "subuser+perm"
	roleSubWithout role = "subuser-perm"
	roleStranger   role = "stranger"
	roleAnonymous  role = "anonymous"
)

var allRoles = []role{roleAdmin, roleOwner, roleSubWith, roleSubWithout, roleStranger, roleAnonymous}

// fixture is a small world: users in every role around one server.
type fixture struct {
	t      testing.TB
	api    *API
	store  *store.Store
	users  map[role]*store.User
	tokens map[role]*auth.Session
	// candidate is a subuser with server.read; newcomer has no relation.
	candidate, newcomer *store.User
	server              *store.Server
	node                *store.Node
	tmpl                *store.Template
	// backupID is a completed backup of server, when the test made one.
	backupID string
}

// newFixture builds the world; the "with" subuser holds every server
// permission and the "without" one every permission except withheld.
func newFixture(t testing.TB, withheld rbac.Permission, tune func(*config.Config)) *fixture {
	t.Helper()
	return newFixtureOn(t, storetest.SQLite(t), withheld, tune)
}

// newFixtureOn is newFixture on the store s, for tests that run on every
// database (storetest.Each).
func newFixtureOn(t testing.TB, s *store.Store, withheld rbac.Permission, tune func(*config.Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, store: s, api: newTestAPI(t, s, tune), users: map[role]*store.User{}, tokens: map[role]*auth.Session{}}
	ctx := context.Background()
	mk := func(name string, admin bool) *store.User {
		u := &store.User{Email: name + "@example.com", Username: name, PasswordHash: passwordHash(), Admin: admin}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	for _, r := range allRoles[:5] {
		f.users[r] = mk(strings.NewReplacer("+", "-with-", "-perm", "-without").Replace(string(r)), r == roleAdmin)
	}
	f.candidate, f.newcomer = mk("candidate", false), mk("newcomer", false)

	node := &store.Node{Name: "n1", FQDN: "n1.example.com", MemoryMB: 4096, DiskMB: 10000}
	tmpl := &store.Template{Name: "t", Images: []store.TemplateImage{{Label: "img", Image: "img"}}, Startup: "run"}
	if err := s.CreateNode(ctx, node); err != nil {
		t.Fatal(err)
	}
	f.node = node
	if err := s.CreateTemplate(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	f.tmpl = tmpl
	f.server = &store.Server{Name: "srv", OwnerID: f.users[roleOwner].ID, NodeID: node.ID, TemplateID: tmpl.ID,
		State: store.StateStopped, Image: "img", Startup: "run", MemoryMB: 128, CPUPercent: 100, DiskMB: 1000, PidsLimit: 512}
	if err := s.CreateServer(ctx, f.server, nil); err != nil {
		t.Fatal(err)
	}
	var all, without []string
	for _, p := range rbac.ServerPermissions {
		all = append(all, string(p))
		if p != withheld {
			without = append(without, string(p))
		}
	}
	for _, su := range []struct {
		u     *store.User
		perms []string
	}{{f.users[roleSubWith], all}, {f.users[roleSubWithout], without}, {f.candidate, []string{"server.read"}}} {
		if err := s.CreateSubuser(ctx, &store.Subuser{ServerID: f.server.ID, UserID: su.u.ID, Permissions: su.perms}); err != nil {
			t.Fatal(err)
		}
	}
	for r, u := range f.users {
		sess, err := f.api.Auth.StartSession(ctx, u, store.NewID(), auth.Client{IP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[r] = sess
	}
	return f
}

// response is a decoded answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
	Data   json.RawMessage
	Error  *errorDetail
}

// do sends a request as role with body (a string, or nil).
func (f *fixture) do(r role, method, path string, body any) response {
	f.t.Helper()
	return f.doWith(r, method, path, body, nil)
}

// doWith is do with extra headers.
func (f *fixture) doWith(r role, method, path string, body any, hdr map[string]string) response {
	f.t.Helper()
	token := ""
	if s, ok := f.tokens[r]; ok {
		token = s.Token
	}
	return send(f.t, f.api, method, path, token, body, hdr)
}

func send(t testing.TB, h http.Handler, method, path, token string, body any, hdr map[string]string) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = "192.0.2.1:4242"
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	out := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	var env struct {
		Data  json.RawMessage `json:"data"`
		Error *errorDetail    `json:"error"`
	}
	if len(out.Body) > 0 && json.Unmarshal(out.Body, &env) == nil {
		out.Data, out.Error = env.Data, env.Error
	}
	return out
}

// testPublicKey is a fresh ed25519 key in authorized_keys form.
func testPublicKey(t testing.TB) string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sk))) + " test@example"
}

// connectAgent enrols the fixture's node and connects an in-memory agent
// to the API's own tunnel route; the fixture's server is known to it in
// the state the database has.
func (f *fixture) connectAgent() *gatewaytest.Fake {
	f.t.Helper()
	fake, _ := f.connectAgentTunnel()
	return fake
}

// connectAgentTunnel is connectAgent, also returning the tunnel (for
// sending events as the agent).
func (f *fixture) connectAgentTunnel() (*gatewaytest.Fake, *gatewaytest.Agent) {
	f.t.Helper()
	return f.connectAgentWith(agentOptions{})
}

// agentOptions vary the fixture's in-memory agent.
type agentOptions struct {
	// handler wraps the fake agent API (nil: the fake as it is).
	handler func(*gatewaytest.Fake) http.Handler
	// sftpAddr is the SFTP address the agent reports in its hello.
	sftpAddr string
	// backupStores are the backup stores the agent reports in its hello.
	backupStores []string
	// node is the node the agent runs on (nil: the fixture's).
	node *store.Node
}

// connectAgentWith enrols the fixture's node and connects an in-memory
// agent to it, returning once the node is online.
func (f *fixture) connectAgentWith(o agentOptions) (*gatewaytest.Fake, *gatewaytest.Agent) {
	f.t.Helper()
	ctx := context.Background()
	node := f.node
	if o.node != nil {
		node = o.node
	}
	token, err := f.api.Nodes.NewDeployToken(ctx, node)
	if err != nil {
		f.t.Fatal(err)
	}
	_, cred, err := f.api.Nodes.Enrol(ctx, token)
	if err != nil {
		f.t.Fatal(err)
	}
	srv := httptest.NewServer(f.api)
	f.t.Cleanup(srv.Close)
	fake := gatewaytest.NewFake()
	cur, err := f.store.ServerByID(ctx, f.server.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	fake.Put(f.server.ID, cur.State)
	var handler http.Handler = fake
	if o.handler != nil {
		handler = o.handler(fake)
	}
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	a, err := gatewaytest.Dial(dialCtx, gatewaytest.Config{URL: srv.URL, NodeID: node.ID, Credential: cred, Handler: handler,
		Hello: wire.Hello{AgentVersion: "test", Servers: fake.States(), SFTPAddr: o.sftpAddr, BackupStores: o.backupStores}})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(a.Close)
	fake.SetEmitter(a.Send)
	// The hello is handled before the node counts as online.
	deadline := time.Now().Add(10 * time.Second)
	for !f.api.Gateway.Online(node.ID) {
		if time.Now().After(deadline) {
			f.t.Fatal("the agent did not come online")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fake, a
}

// noPlugins is a plugin host with nothing loaded; the real host is tested
// in sdk/plugin/host and end to end in cmd/catalyst.
type noPlugins struct{}

func (noPlugins) Status() []host.Status { return nil }

func (noPlugins) TemplateSource(name string) (plugin.TemplateSource, error) {
	return nil, fmt.Errorf("plugin %q: %w", name, host.ErrUnknownPlugin)
}

// openAlert opens an alert of the default "Server crashed" rule about the
// fixture server and returns its ID.
func (f *fixture) openAlert() string {
	f.t.Helper()
	rule := "01900000-0000-7000-8000-000000000001"
	a := &store.Alert{RuleID: &rule, RuleName: "Server crashed", Target: f.server.ID, ServerID: &f.server.ID,
		NodeID: &f.node.ID, Type: "server_crashed", Severity: "warning", Title: f.server.Name + " crashed"}
	if _, err := f.store.OpenAlert(context.Background(), a, nil); err != nil {
		f.t.Fatal(err)
	}
	return a.ID
}
