package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"catalyst.dev/core/internal/gateway/gatewaytest"
	"catalyst.dev/sdk/wire"
)

// call sends a JSON request and decodes the answer into out: the API's
// "data" when envelope is set, else the whole body (the core's answers to
// agents).
func call(t *testing.T, client *http.Client, method, url, token string, envelope bool, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out == nil || resp.StatusCode >= 300 {
		return resp.StatusCode
	}
	if envelope {
		out = &struct{ Data any }{Data: out}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s %s answered %s: %v", method, url, raw, err)
	}
	return resp.StatusCode
}

// The serving core decides SFTP logins its agents ask about, and tells
// users where to connect.
func TestSFTPLoginIsDecidedByTheCore(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	if err := os.WriteFile(filepath.Join(dir, "core.hcl"), []byte("listen = \""+addr+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := run(t, dir, "--config", "core.hcl", "user", "create", "--email", "owner@example.com", "--username", "owner",
		"--password", "a-long-password", "--admin"); err != nil {
		t.Fatalf("user create: %v: %s", err, stderr)
	}
	out, stderr, err := run(t, dir, "--config", "core.hcl", "node", "create", "--name", "local", "--fqdn", "sftp.example.com", "--ports", "25565")
	if err != nil {
		t.Fatalf("node create: %v: %s", err, stderr)
	}
	token := strings.Fields(out[strings.Index(out, "--token ")+len("--token "):])[0]
	startServe(t, dir, addr)
	base, web := "http://"+addr, http.DefaultClient

	var enrolled struct {
		NodeID     string `json:"node_id"`
		Credential string `json:"credential"`
	}
	if st := call(t, web, "POST", base+"/api/agent/configure", "", true, map[string]string{"token": token}, &enrolled); st != 200 {
		t.Fatalf("enrol: %d", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	agent, err := gatewaytest.NewFake().Connect(ctx, gatewaytest.Config{URL: base, NodeID: enrolled.NodeID, Credential: enrolled.Credential,
		Hello: wire.Hello{AgentVersion: "test", SFTPAddr: ":2022"}})
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()

	var session struct{ Token string }
	if st := call(t, web, "POST", base+"/api/auth/login", "", true, map[string]string{"email": "owner@example.com", "password": "a-long-password"}, &session); st != 200 {
		t.Fatalf("login: %d", st)
	}
	var tmpl struct{ ID string }
	if st := call(t, web, "POST", base+"/api/admin/templates", session.Token, true,
		map[string]any{"name": "game", "images": []string{"example.com/game:1"}, "startup": "./run"}, &tmpl); st != 201 {
		t.Fatalf("template: %d", st)
	}
	var srv struct {
		ID      string `json:"id"`
		ShortID string `json:"short_id"`
		State   string `json:"state"`
		SFTP    *struct {
			Host     string `json:"host"`
			Port     int    `json:"port"`
			Username string `json:"username"`
		} `json:"sftp"`
	}
	if st := call(t, web, "POST", base+"/api/servers", session.Token, true, map[string]any{"name": "world", "node_id": enrolled.NodeID,
		"template_id": tmpl.ID, "memory_mb": 512, "cpu_percent": 100, "disk_mb": 1000}, &srv); st != 201 {
		t.Fatalf("server: %d", st)
	}
	// The fake agent installs at once; logins wait for that. Only GET
	// /api/servers/:id tells the SFTP details.
	for {
		call(t, web, "GET", base+"/api/servers/"+srv.ID, session.Token, true, nil, &srv)
		if srv.State == "stopped" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("server still %s", srv.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	username := "owner." + srv.ShortID
	if srv.SFTP == nil || srv.SFTP.Host != "sftp.example.com" || srv.SFTP.Port != 2022 || srv.SFTP.Username != username {
		t.Fatalf("the server view's sftp = %+v", srv.SFTP)
	}

	var grant wire.SFTPGrant
	login := wire.SFTPAuthRequest{Username: username, Password: "a-long-password", RemoteAddr: "192.0.2.7:50000"}
	if st := call(t, agent.CoreHTTP(), "POST", "http://core"+wire.CorePathSFTPAuth, "", false, login, &grant); st != 200 || grant.ServerID != srv.ID {
		t.Fatalf("login through the tunnel: %d %+v", st, grant)
	}
	login.Password = "wrong"
	if st := call(t, agent.CoreHTTP(), "POST", "http://core"+wire.CorePathSFTPAuth, "", false, login, nil); st != 403 {
		t.Fatalf("wrong password through the tunnel: %d", st)
	}
}
