package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"catalyst.dev/core/internal/auth"
	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/store"
	"github.com/golang-jwt/jwt/v5"
)

// snapshot is what a refused request must leave unchanged.
type snapshot struct {
	user      store.User
	apiKeys   int
	sshKeys   int
	subusers  int
	userCount int
}

func takeSnapshot(t *testing.T, f *fixture, r role) snapshot {
	t.Helper()
	ctx := context.Background()
	u, err := f.store.UserByID(ctx, f.users[r].ID)
	if err != nil {
		t.Fatal(err)
	}
	ak, _ := f.store.ListAPIKeys(ctx, u.ID)
	sk, _ := f.store.ListSSHKeys(ctx, u.ID)
	su, _ := f.store.ListSubusers(ctx, f.server.ID)
	n, _ := f.store.CountUsers(ctx)
	return snapshot{user: *u, apiKeys: len(ak), sshKeys: len(sk), subusers: len(su), userCount: n}
}

func signed(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBadInputGetsClear4xxAndChangesNothing(t *testing.T) {
	f := newFixture(t, "", nil)
	owner := f.users[roleOwner]
	now := time.Now()
	good := jwt.MapClaims{"iss": "catalyst", "sub": owner.ID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "sv": 0}
	expired := jwt.MapClaims{"iss": "catalyst", "sub": owner.ID, "iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix(), "sv": 0}
	noneAlg := func() string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		p, _ := json.Marshal(good)
		return h + "." + base64.RawURLEncoding.EncodeToString(p) + "."
	}()
	// A revoked refresh token: spend one, then present it again.
	spent := f.tokens[roleSubWith].RefreshToken
	if got := f.do(roleAnonymous, "POST", "/api/auth/refresh", map[string]string{"refresh_token": spent}); got.Status != 200 {
		t.Fatalf("first refresh: %d %s", got.Status, got.Body)
	}

	// Two-factor setup started: a wrong code must not enable it.
	if _, _, err := f.api.Auth.BeginTOTP(context.Background(), owner); err != nil {
		t.Fatal(err)
	}

	big := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
	cases := []struct {
		name         string
		method, path string
		token        string
		body         any
		status       int
		code         string
	}{
		{"malformed JSON", "POST", "/api/account/api-keys", f.tokens[roleOwner].Token, `{"name": "k",`, 400, "malformed_json"},
		{"not JSON at all", "PATCH", "/api/account", f.tokens[roleOwner].Token, `username=x`, 400, "malformed_json"},
		{"two JSON values", "PATCH", "/api/account", f.tokens[roleOwner].Token, `{"username":"a"}{"username":"b"}`, 400, "malformed_json"},
		{"wrong type", "PATCH", "/api/account", f.tokens[roleOwner].Token, `{"username": 42}`, 422, "invalid_field"},
		{"wrong type in list", "POST", "/api/account/api-keys", f.tokens[roleOwner].Token, `{"name":"k","scopes":"file.*"}`, 422, "invalid_field"},
		{"unknown field", "PATCH", "/api/account", f.tokens[roleOwner].Token, `{"admin": true}`, 422, "invalid_field"},
		{"missing body", "POST", "/api/account/api-keys", f.tokens[roleOwner].Token, nil, 400, "missing_body"},
		{"oversized body", "POST", "/api/account/api-keys", f.tokens[roleOwner].Token, big, 413, "body_too_large"},
		{"bad scope", "POST", "/api/account/api-keys", f.tokens[roleOwner].Token, `{"name":"k","scopes":["server.explode"]}`, 422, "invalid_field"},
		{"bad ssh key", "POST", "/api/account/ssh-keys", f.tokens[roleOwner].Token, `{"name":"k","public_key":"ssh-rsa AAAA"}`, 422, "invalid_field"},
		{"bad email", "PATCH", "/api/account", f.tokens[roleOwner].Token, `{"email":"nope"}`, 422, "invalid_field"},
		{"expired JWT", "GET", "/api/account", signed(t, jwt.SigningMethodHS256, testSecret, expired), nil, 401, "invalid_token"},
		{"forged JWT", "GET", "/api/account", signed(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), good), nil, 401, "invalid_token"},
		{"none-alg JWT", "GET", "/api/account", noneAlg, nil, 401, "invalid_token"},
		{"HS512 JWT", "GET", "/api/account", signed(t, jwt.SigningMethodHS512, testSecret, good), nil, 401, "invalid_token"},
		{"garbage token", "GET", "/api/account", "not.a.token", nil, 401, "invalid_token"},
		{"unknown API key", "GET", "/api/account", "cat_aaaaaaaaaaaa_bbbbbbbb", nil, 401, "invalid_token"},
		{"revoked refresh token", "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": spent}, 401, "invalid_refresh_token"},
		{"unknown refresh token", "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": "catr_nope"}, 401, "invalid_refresh_token"},
		{"wrong password", "POST", "/api/auth/login", "", map[string]string{"email": owner.Email, "password": "wrong-password"}, 401, "invalid_credentials"},
		{"unknown email", "POST", "/api/auth/login", "", map[string]string{"email": "ghost@example.com", "password": "wrong-password"}, 401, "invalid_credentials"},
		{"wrong TOTP on enable", "POST", "/api/account/totp/enable", f.tokens[roleOwner].Token, map[string]string{"code": "000000"}, 401, "invalid_two_factor_code"},
		{"TOTP disable without setup", "POST", "/api/account/totp/disable", f.tokens[roleOwner].Token, map[string]string{"password": "wrong-password", "code": "000000"}, 422, "invalid_field"},
		{"wrong current password", "PUT", "/api/account/password", f.tokens[roleOwner].Token, map[string]string{"current_password": "nope-nope", "new_password": "whatever-long"}, 422, "invalid_field"},
		{"short new password", "PUT", "/api/account/password", f.tokens[roleOwner].Token, map[string]string{"current_password": testPassword, "new_password": "short"}, 422, "invalid_field"},
		{"delete a user who owns a server", "DELETE", "/api/admin/users/" + owner.ID, f.tokens[roleAdmin].Token, nil, 409, "in_use"},
		{"bad limit", "GET", "/api/admin/audit-logs?limit=0", f.tokens[roleAdmin].Token, nil, 422, "invalid_field"},
		{"bad time", "GET", "/api/admin/audit-logs?since=yesterday", f.tokens[roleAdmin].Token, nil, 422, "invalid_field"},
		{"wrong content type", "PATCH", "/api/account", f.tokens[roleOwner].Token, `{"username":"x"}`, 415, "unsupported_media_type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := takeSnapshot(t, f, roleOwner)
			hdr := map[string]string{}
			if tc.code == "unsupported_media_type" {
				hdr["Content-Type"] = "text/plain"
			}
			got := send(t, f.api, tc.method, tc.path, tc.token, tc.body, hdr)
			if got.Status != tc.status || got.Error == nil || got.Error.Code != tc.code || got.Error.Message == "" {
				t.Fatalf("got %d %s; want %d %s", got.Status, got.Body, tc.status, tc.code)
			}
			after := takeSnapshot(t, f, roleOwner)
			after.user.UpdatedAt = before.user.UpdatedAt
			if !equalSnapshots(before, after) {
				t.Fatalf("a refused request changed state:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
	// Refused account changes are audited as failures with their code.
	for action, code := range map[string]string{
		"account.password_change": "invalid_field", "account.totp_enable": "invalid_two_factor_code", "account.totp_disable": "invalid_field",
		"admin.user.delete": "in_use",
	} {
		es, _ := f.store.ListAudit(context.Background(), store.AuditFilter{Action: action})
		if len(es) == 0 || es[0].Outcome != store.OutcomeFailure || es[0].Metadata["error"] != code {
			t.Errorf("%s audited as %+v, want a failure with error %s", action, es, code)
		}
	}
	// The revoked token's whole login is now revoked too.
	if got := f.do(roleAnonymous, "POST", "/api/auth/refresh", map[string]string{"refresh_token": f.tokens[roleSubWith].RefreshToken}); got.Status != 401 {
		t.Fatalf("token reuse did not revoke its family: %d", got.Status)
	}
}

func equalSnapshots(a, b snapshot) bool {
	return a.apiKeys == b.apiKeys && a.sshKeys == b.sshKeys && a.subusers == b.subusers && a.userCount == b.userCount &&
		a.user.Email == b.user.Email && a.user.Username == b.user.Username && a.user.PasswordHash == b.user.PasswordHash &&
		a.user.Admin == b.user.Admin && a.user.TOTPEnabled == b.user.TOTPEnabled && a.user.SessionVersion == b.user.SessionVersion
}

func TestTwoFactorLogin(t *testing.T) {
	f := newFixture(t, "", nil)
	ctx := context.Background()
	u := f.users[roleOwner]
	secret, _, err := f.api.Auth.BeginTOTP(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totpNow(secret)
	got := f.do(roleOwner, "POST", "/api/account/totp/enable", map[string]string{"code": code})
	if got.Status != 200 {
		t.Fatalf("enable: %d %s", got.Status, got.Body)
	}
	var rc recoveryCodes
	json.Unmarshal(got.Data, &rc)
	if len(rc.RecoveryCodes) != 10 {
		t.Fatalf("recovery codes: %v", rc.RecoveryCodes)
	}

	login := func(code string) response {
		return f.do(roleAnonymous, "POST", "/api/auth/login", map[string]string{"email": u.Email, "password": testPassword, "totp_code": code})
	}
	if got := login(""); got.Status != 401 || got.Error.Code != "two_factor_required" {
		t.Fatalf("login without code: %d %s", got.Status, got.Body)
	}
	if got := login("123456"); got.Status != 401 || got.Error.Code != "invalid_two_factor_code" {
		t.Fatalf("login with a wrong code: %d %s", got.Status, got.Body)
	}
	code, _ = totpNow(secret)
	if got := login(code); got.Status != 200 {
		t.Fatalf("login with the right code: %d %s", got.Status, got.Body)
	}
	if got := login(rc.RecoveryCodes[0]); got.Status != 200 {
		t.Fatalf("login with a recovery code: %d %s", got.Status, got.Body)
	}
	if got := login(rc.RecoveryCodes[0]); got.Status != 401 {
		t.Fatalf("a recovery code worked twice: %d", got.Status)
	}
	// Failed logins are audited as failures.
	fails, _ := f.store.ListAudit(ctx, store.AuditFilter{Action: "auth.login"})
	var reasons []string
	for _, e := range fails {
		switch e.Outcome {
		case store.OutcomeFailure:
			reasons = append(reasons, fmt.Sprint(e.Metadata["reason"]))
			if e.ActorID != nil || e.ActorType != "anonymous" {
				t.Errorf("failed login has an actor: %+v", e)
			}
		case store.OutcomeSuccess:
			if e.ActorID == nil || *e.ActorID != u.ID || e.ActorType != "user" || e.Metadata["request_id"] == nil {
				t.Errorf("successful login not attributed to its user: %+v", e)
			}
		}
	}
	// Newest first: the spent recovery code, the wrong code, the missing one.
	if want := []string{"invalid_two_factor_code", "invalid_two_factor_code", "two_factor_required"}; !slices.Equal(reasons, want) {
		t.Fatalf("failed logins audited with reasons %q, want %q", reasons, want)
	}
}

func totpNow(secret string) (string, error) { return auth.TOTPCodeAt(secret, time.Now()) }

func TestPasswordChangeRevokesEverySession(t *testing.T) {
	f := newFixture(t, "", nil)
	old := f.tokens[roleOwner]
	if r := f.do(roleOwner, "PUT", "/api/account/password", map[string]string{"current_password": testPassword, "new_password": "short"}); r.Status != 422 || r.Error.Field != "new_password" {
		t.Fatalf("short new password: %d %s", r.Status, r.Body)
	}
	got := f.do(roleOwner, "PUT", "/api/account/password", map[string]string{"current_password": testPassword, "new_password": "brand-new-password"})
	if got.Status != 200 {
		t.Fatalf("change: %d %s", got.Status, got.Body)
	}
	var fresh sessionResponse
	json.Unmarshal(got.Data, &fresh)
	if r := send(t, f.api, "GET", "/api/account", old.Token, nil, nil); r.Status != 401 {
		t.Fatalf("old access token still works: %d", r.Status)
	}
	if r := send(t, f.api, "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": old.RefreshToken}, nil); r.Status != 401 {
		t.Fatalf("old refresh token still works: %d", r.Status)
	}
	if r := send(t, f.api, "GET", "/api/account", fresh.Token, nil, nil); r.Status != 200 {
		t.Fatalf("new token refused: %d %s", r.Status, r.Body)
	}
	if r := f.do(roleAnonymous, "POST", "/api/auth/login", map[string]string{"email": f.users[roleOwner].Email, "password": "brand-new-password"}); r.Status != 200 {
		t.Fatalf("login with the new password: %d", r.Status)
	}
}

func TestLogoutRevokesRefreshToken(t *testing.T) {
	f := newFixture(t, "", nil)
	s := f.tokens[roleOwner]
	if r := f.do(roleAnonymous, "POST", "/api/auth/logout", map[string]string{"refresh_token": s.RefreshToken}); r.Status != 204 {
		t.Fatalf("logout: %d", r.Status)
	}
	if r := f.do(roleAnonymous, "POST", "/api/auth/refresh", map[string]string{"refresh_token": s.RefreshToken}); r.Status != 401 {
		t.Fatalf("refresh after logout: %d", r.Status)
	}
}

func TestRateLimits(t *testing.T) {
	f := newFixture(t, "", func(c *config.Config) {
		c.RateLimits = []*config.RateLimit{{Group: "api", PerUser: 3, PerIP: 5}, {Group: "auth", PerIP: 100}}
		c.Auth.LoginAttemptsPerMinute = 2
	})
	for i := range 3 {
		if r := f.do(roleOwner, "GET", "/api/account", nil); r.Status != 200 {
			t.Fatalf("request %d: %d", i, r.Status)
		}
	}
	r := f.do(roleOwner, "GET", "/api/account", nil)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || r.Error.Code != "rate_limited" {
		t.Fatalf("4th request for one user: %d Retry-After=%q %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	// Another user from the same IP still has budget until the IP's runs out.
	if r := f.do(roleAdmin, "GET", "/api/account", nil); r.Status != 200 {
		t.Fatalf("other user: %d", r.Status)
	}
	if r := f.do(roleAdmin, "GET", "/api/account", nil); r.Status != 429 {
		t.Fatalf("6th request from one IP: %d", r.Status)
	}

	// Login attempts per IP and email.
	login := func(email string) int {
		return f.do(roleAnonymous, "POST", "/api/auth/login", map[string]string{"email": email, "password": "wrong-password"}).Status
	}
	victim := f.users[roleStranger].Email
	if a, b, c := login(victim), login(victim), login(victim); a != 401 || b != 401 || c != 429 {
		t.Fatalf("login attempts: %d %d %d, want 401 401 429", a, b, c)
	}
	if s := login(f.users[roleSubWith].Email); s != 401 {
		t.Fatalf("another email from the same IP: %d, want 401", s)
	}
}

func TestSecurityHeadersRequestIDAndCORS(t *testing.T) {
	f := newFixture(t, "", func(c *config.Config) { c.HTTP.CORSOrigins = []string{"https://panel.example.com"} })
	r := send(t, f.api, "GET", "/api/health", "", nil, map[string]string{"X-Request-ID": "proxy-req-12345"})
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
		"X-Request-Id": "proxy-req-12345", "Cache-Control": "no-store",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if r := send(t, f.api, "GET", "/api/nope", "", nil, map[string]string{"X-Request-ID": "bad id with spaces"}); r.Error == nil || len(r.Error.RequestID) != 24 || r.Header.Get("X-Request-Id") != r.Error.RequestID {
		t.Errorf("an unsafe incoming request ID was not replaced: %+v", r.Error)
	}
	pre := send(t, f.api, "OPTIONS", "/api/account", "", nil, map[string]string{"Origin": "https://panel.example.com", "Access-Control-Request-Method": "GET"})
	if pre.Status != 204 || pre.Header.Get("Access-Control-Allow-Origin") != "https://panel.example.com" || !strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight from an allowed origin: %d %v", pre.Status, pre.Header)
	}
	evil := send(t, f.api, "OPTIONS", "/api/account", "", nil, map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
	if evil.Status != 403 || evil.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %v", evil.Status, evil.Header)
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	f := newFixture(t, "", nil)
	token := f.tokens[roleOwner].Token
	f.store.Close()
	r := send(t, f.api, "GET", "/api/account", token, nil, nil)
	if r.Status != 500 || r.Error == nil || r.Error.Code != "internal" {
		t.Fatalf("got %d %s", r.Status, r.Body)
	}
	for _, leak := range []string{"sql", "SQL", "database is closed", "goroutine", ".go:"} {
		if strings.Contains(string(r.Body), leak) {
			t.Fatalf("error body leaks %q: %s", leak, r.Body)
		}
	}
}

func TestBadServerInputGetsClear4xx(t *testing.T) {
	f := newFixture(t, "", nil)
	if _, err := f.store.CreateAllocations(context.Background(), f.node.ID, "0.0.0.0", []int{25565}); err != nil {
		t.Fatal(err)
	}
	srv := "/api/servers/" + f.server.ID
	create := func(edit func(map[string]any)) map[string]any {
		b := map[string]any{"name": "x", "node_id": f.node.ID, "template_id": f.tmpl.ID, "memory_mb": 128, "cpu_percent": 100, "disk_mb": 100}
		edit(b)
		return b
	}
	cases := []struct {
		name         string
		r            role
		method, path string
		body         any
		status       int
		code, field  string
	}{
		{"unknown power field", roleOwner, "POST", srv + "/power", `{"action":"start","force":true}`, 422, "invalid_field", "force"},
		{"bad action", roleOwner, "POST", srv + "/power", map[string]string{"action": "explode"}, 422, "invalid_field", "action"},
		{"no action", roleOwner, "POST", srv + "/power", map[string]string{}, 422, "invalid_field", "action"},
		{"empty command", roleOwner, "POST", srv + "/command", map[string]string{"command": ""}, 422, "invalid_field", "command"},
		{"oversized command", roleOwner, "POST", srv + "/command", map[string]string{"command": strings.Repeat("x", 4097)}, 422, "invalid_field", "command"},
		{"history lines not a number", roleOwner, "GET", srv + "/logs?lines=all", nil, 422, "invalid_field", "lines"},
		{"history lines over the cap", roleOwner, "GET", srv + "/logs?lines=5001", nil, 422, "invalid_field", "lines"},
		{"history lines zero", roleOwner, "GET", srv + "/logs?lines=0", nil, 422, "invalid_field", "lines"},
		{"command with a newline", roleOwner, "POST", srv + "/command", map[string]string{"command": "say hi\nop me"}, 422, "invalid_field", "command"},
		{"negative memory", roleAdmin, "POST", "/api/servers", create(func(b map[string]any) { b["memory_mb"] = -1 }), 422, "invalid_field", "memory_mb"},
		{"huge disk", roleAdmin, "POST", "/api/servers", create(func(b map[string]any) { b["disk_mb"] = int64(1) << 50 }), 422, "invalid_field", "disk_mb"},
		{"memory as a string", roleAdmin, "POST", "/api/servers", create(func(b map[string]any) { b["memory_mb"] = "lots" }), 422, "invalid_field", "memory_mb"},
		{"unknown server field", roleAdmin, "POST", "/api/servers", create(func(b map[string]any) { b["privileged"] = true }), 422, "invalid_field", "privileged"},
		{"environment value not a string", roleAdmin, "POST", "/api/servers", create(func(b map[string]any) { b["environment"] = map[string]any{"X": 1} }), 422, "invalid_field", ""},
		{"unknown template", roleAdmin, "POST", "/api/servers", create(func(b map[string]any) { b["template_id"] = "nope" }), 422, "invalid_field", "template_id"},
		{"too much memory for the node", roleAdmin, "POST", "/api/servers", create(func(b map[string]any) { b["memory_mb"] = 5000 }), 409, "insufficient_resources", ""},
		{"negative memory on update", roleOwner, "PATCH", srv, map[string]any{"memory_mb": -5}, 422, "invalid_field", "memory_mb"},
		{"template with a bad env name", roleAdmin, "POST", "/api/admin/templates", map[string]any{"name": "t2", "images": []string{"i"}, "startup": "run",
			"variables": []map[string]any{{"name": "v", "env_name": "lower-case"}}}, 422, "invalid_field", "variables[0].env_name"},
		{"template without images", roleAdmin, "POST", "/api/admin/templates", map[string]any{"name": "t2", "images": []string{}, "startup": "run"}, 422, "invalid_field", "images"},
		{"template in use", roleAdmin, "DELETE", "/api/admin/templates/" + f.tmpl.ID, nil, 409, "in_use", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := f.do(tc.r, tc.method, tc.path, tc.body)
			if got.Status != tc.status || got.Error == nil || got.Error.Code != tc.code || got.Error.Field != tc.field && tc.field != "" {
				t.Fatalf("got %d %s; want %d %s (%s)", got.Status, got.Body, tc.status, tc.code, tc.field)
			}
			s, err := f.store.ServerByID(context.Background(), f.server.ID)
			if err != nil || s.State != store.StateStopped || s.MemoryMB != 128 {
				t.Fatalf("a refused request changed the server: %+v %v", s, err)
			}
			if list, _ := f.store.ListServers(context.Background(), store.ServerFilter{}); len(list) != 1 {
				t.Fatalf("a refused create stored a server")
			}
		})
	}
}
