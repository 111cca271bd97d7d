package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"

	"catalyst.dev/agent/internal/api"
	"catalyst.dev/agent/internal/files"
	"catalyst.dev/agent/internal/servers"
	"catalyst.dev/agent/testkit/testimage"
	"catalyst.dev/agent/testkit/testruntime"
	"catalyst.dev/sdk/wire"
)

func TestMain(m *testing.M) { os.Exit(testruntime.Main(m)) }

type nopPublisher struct{}

func (nopPublisher) Publish(string, any) {}

// newServer serves the API of a real Manager on the shared containerd.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	env := testruntime.Get(t)
	m, err := servers.New(env.Runtime, t.TempDir(), nopPublisher{}, hclog.NewNullLogger(), servers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	srv := httptest.NewServer(api.New(api.Deps{Servers: m, Images: env.Runtime, Files: files.NewService(m, nil, files.Options{}), Log: hclog.NewNullLogger()}))
	t.Cleanup(srv.Close)
	return srv
}

type step struct {
	name     string
	method   string
	path     string
	body     string
	status   int
	wantCode string // error code in the envelope
	wantBody string // substring of the body
}

func do(t *testing.T, srv *httptest.Server, method, path string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// run runs steps against srv; no answer may contain any of hidden.
func run(t *testing.T, srv *httptest.Server, steps []step, hidden ...string) {
	t.Helper()
	for _, s := range steps {
		status, body := do(t, srv, s.method, s.path, strings.NewReader(s.body))
		for _, h := range hidden {
			if strings.Contains(string(body), h) {
				t.Fatalf("%s: the answer holds %q: %s", s.name, h, body)
			}
		}
		if status != s.status {
			t.Fatalf("%s: %s %s = %d %s, want %d", s.name, s.method, s.path, status, body, s.status)
		}
		if s.wantCode != "" {
			var e wire.ErrorBody
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != s.wantCode || e.Error.Message == "" {
				t.Fatalf("%s: error body %s, want code %s", s.name, body, s.wantCode)
			}
		}
		if !strings.Contains(string(body), s.wantBody) {
			t.Fatalf("%s: body %s, want %q in it", s.name, body, s.wantBody)
		}
	}
}

func TestServerRoutes(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	id := uuid.NewString()
	path := wire.AgentServerPath(id, "")
	cfg, _ := json.Marshal(wire.ServerConfig{
		ID: id, Image: testimage.Ref, Env: map[string]string{"GAMESRV_TICK": "1h"},
		StopCommand: "stop", StopTimeout: wire.Duration(10 * time.Second),
	})
	big := `{"id":"` + id + `","image":"` + strings.Repeat("x", 1<<20) + `"}`
	run(t, srv, []step{
		{"nothing known yet", "GET", wire.AgentPathServers, "", 200, "", "[]"},
		{"bad JSON", "PUT", path, "{", 400, wire.CodeInvalid, ""},
		{"unknown field", "PUT", path, `{"id":"` + id + `","image":"x","colour":"red"}`, 400, wire.CodeInvalid, "colour"},
		{"body too large", "PUT", path, big, 413, wire.CodeTooLarge, ""},
		{"id differs from the path", "PUT", path, `{"id":"` + uuid.NewString() + `","image":"x"}`, 400, wire.CodeInvalid, ""},
		{"id not a UUID", "PUT", wire.AgentServerPath("nope", ""), `{"image":"x"}`, 400, wire.CodeInvalid, ""},
		{"unknown server", "GET", wire.AgentServerPath(uuid.NewString(), ""), "", 404, wire.CodeNotFound, ""},
		{"power to unknown server", "POST", wire.AgentServerPath(uuid.NewString(), "/power"), `{"action":"start"}`, 404, wire.CodeNotFound, ""},
		{"configure", "PUT", path, string(cfg), 204, "", ""},
		{"configured server is stopped", "GET", path, "", 200, "", `"state":"stopped"`},
		{"listed", "GET", wire.AgentPathServers, "", 200, "", id},
		{"command while stopped", "POST", wire.AgentServerPath(id, "/command"), `{"command":"help"}`, 409, wire.CodeNotRunning, ""},
		{"unknown action", "POST", wire.AgentServerPath(id, "/power"), `{"action":"explode"}`, 400, wire.CodeInvalid, ""},
		{"start answers once running", "POST", wire.AgentServerPath(id, "/power"), `{"action":"start"}`, 204, "", ""},
		{"running", "GET", path, "", 200, "", `"state":"running"`},
		{"start again conflicts", "POST", wire.AgentServerPath(id, "/power"), `{"action":"start"}`, 409, wire.CodeConflict, ""},
		{"install while running conflicts", "POST", wire.AgentServerPath(id, "/install"), `{"config":` + string(cfg) + `}`, 409, wire.CodeConflict, ""},
		{"command", "POST", wire.AgentServerPath(id, "/command"), `{"command":"help"}`, 204, "", ""},
	})
	// The game answers in its own time; killed sooner, it has said nothing.
	logs := wire.AgentServerPath(id, "/logs?lines=50")
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := do(t, srv, "GET", logs, nil)
		if strings.Contains(string(body), "commands: help, stop") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer to help in the console history: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	run(t, srv, []step{
		{"kill answers once exited", "POST", wire.AgentServerPath(id, "/power"), `{"action":"kill"}`, 204, "", ""},
		{"stopped after kill", "GET", path, "", 200, "", `"exit_code":137`},
		{"console history keeps the run's output", "GET", logs, "", 200, "", "commands: help, stop"},
		{"history: lines not a number", "GET", wire.AgentServerPath(id, "/logs?lines=many"), "", 400, wire.CodeInvalid, "lines must be"},
		{"history: too many lines", "GET", wire.AgentServerPath(id, "/logs?lines=999999"), "", 400, wire.CodeInvalid, "lines must be"},
		{"history of an unknown server", "GET", wire.AgentServerPath(uuid.NewString(), "/logs"), "", 404, wire.CodeNotFound, ""},
		{"stop answers at once", "POST", wire.AgentServerPath(id, "/power"), `{"action":"stop"}`, 202, "", ""},
		{"delete", "DELETE", path, "", 204, "", ""},
		{"gone", "GET", path, "", 404, wire.CodeNotFound, ""},
		{"delete again", "DELETE", path, "", 204, "", ""},
		{"unknown route", "GET", "/v2/whatever", "", 404, wire.CodeNotFound, ""},
	})
}

func TestImageImport(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	archive, err := os.ReadFile(testruntime.Get(t).Image.Archive)
	if err != nil {
		t.Fatal(err)
	}
	status, body := do(t, srv, "POST", wire.AgentPathImageImport, bytes.NewReader(archive))
	var res wire.ImportResult
	if status != 200 || json.Unmarshal(body, &res) != nil || len(res.Images) != 1 || res.Images[0] != testimage.Ref {
		t.Fatalf("import = %d %s, want the test image named", status, body)
	}
	status, body = do(t, srv, "POST", wire.AgentPathImageImport, strings.NewReader("not a tar"))
	if status < 400 {
		t.Fatalf("import of garbage = %d %s", status, body)
	}
}
