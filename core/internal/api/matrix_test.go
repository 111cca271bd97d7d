package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"catalyst.dev/core/internal/alerts"
	"catalyst.dev/core/internal/auth"
	"catalyst.dev/core/internal/nodes"
	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/schedules"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/webhooks"
)

// expect maps each role to the status it must get.
type expect map[role]int

// The usual shapes; ok is the route's success status.
func public(ok int) expect {
	return expect{roleAdmin: ok, roleOwner: ok, roleSubWith: ok, roleSubWithout: ok, roleStranger: ok, roleAnonymous: ok}
}

func anyUser(ok int) expect {
	return expect{roleAdmin: ok, roleOwner: ok, roleSubWith: ok, roleSubWithout: ok, roleStranger: ok, roleAnonymous: 401}
}

func onServer(ok int) expect {
	return expect{roleAdmin: ok, roleOwner: ok, roleSubWith: ok, roleSubWithout: 403, roleStranger: 404, roleAnonymous: 401}
}

func adminOnly(ok int) expect {
	return expect{roleAdmin: ok, roleOwner: 403, roleSubWith: 403, roleSubWithout: 403, roleStranger: 403, roleAnonymous: 401}
}

// matrixCase is one route. path and body may use the fixture and role.
type matrixCase struct {
	method, route string // route as registered, to check coverage
	perm          rbac.Permission
	path          func(f *fixture, r role) string
	body          func(f *fixture, r role) any
	want          expect
	// agent connects an in-memory agent for the node first; state, when
	// set, is the fixture server's state before the call.
	agent bool
	state string
	// files serves the agent's file API from a test volume (with agent);
	// header is sent beside the body.
	files  bool
	header map[string]string
	// backups connects an agent with a backup store (instead of agent)
	// and makes a completed backup first (fixture.backupID).
	backups bool
}

// matrixUpload is a one-file multipart body, sent with matrixUploadType.
const (
	matrixUpload     = "--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n\r\nhello\r\n--b--\r\n"
	matrixUploadType = "multipart/form-data; boundary=b"
)

func fixed(p string) func(*fixture, role) string { return func(*fixture, role) string { return p } }

func serverPath(suffix string) func(*fixture, role) string {
	return func(f *fixture, _ role) string { return "/api/servers/" + f.server.ID + suffix }
}

func backupPath(suffix string) func(*fixture, role) string {
	return func(f *fixture, _ role) string {
		return "/api/servers/" + f.server.ID + "/backups/" + f.backupID + suffix
	}
}

func adminRulePath(f *fixture, _ role) string {
	r, err := f.api.Alerts.CreateRule(context.Background(), "", alerts.RuleSpec{Type: ptr("disk"), Threshold: ptr(90.0), Severity: ptr("warning")})
	if err != nil {
		f.t.Fatal(err)
	}
	return "/api/admin/alert-rules/" + r.ID
}

func serverRulePath(f *fixture, _ role) string {
	r, err := f.api.Alerts.CreateRule(context.Background(), f.server.ID, alerts.RuleSpec{Type: ptr("server_crashed"), Severity: ptr("critical")})
	if err != nil {
		f.t.Fatal(err)
	}
	return "/api/servers/" + f.server.ID + "/alert-rules/" + r.ID
}

// webhookPath makes a webhook of the fixture server, posting to a local
// receiver, and returns its path with suffix.
func webhookPath(suffix string) func(*fixture, role) string {
	return func(f *fixture, _ role) string {
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
		f.t.Cleanup(rcv.Close)
		w, err := f.api.Webhooks.Create(context.Background(), f.server.ID, webhooks.Spec{URL: ptr(rcv.URL), Events: &[]string{"*"}})
		if err != nil {
			f.t.Fatal(err)
		}
		return "/api/servers/" + f.server.ID + "/webhooks/" + w.ID + suffix
	}
}

// scheduleBody is a schedule a server's owner might write.
var scheduleBody = map[string]any{"name": "nightly restart", "cron": "30 4 * * *", "timezone": "Europe/Berlin",
	"tasks": []map[string]any{{"action": "command", "payload": "say restarting"}, {"action": "power", "payload": "restart", "offset_seconds": 5}}}

// schedulePath makes a schedule of the fixture server and returns its path
// with suffix.
func schedulePath(suffix string) func(*fixture, role) string {
	return func(f *fixture, _ role) string {
		sc, err := f.api.Schedules.Create(context.Background(), f.server.ID, schedules.Spec{Name: "s", Cron: "@hourly",
			Tasks: []store.ScheduleTask{{Action: store.TaskCommand, Payload: "say hi"}}})
		if err != nil {
			f.t.Fatal(err)
		}
		return "/api/servers/" + f.server.ID + "/schedules/" + sc.ID + suffix
	}
}

func ptr[T any](v T) *T { return &v }

func jsonBody(v any) func(*fixture, role) any { return func(*fixture, role) any { return v } }

// sessionOf is the role's own session, or the owner's for anonymous.
func sessionOf(f *fixture, r role) *auth.Session {
	if s, ok := f.tokens[r]; ok {
		return s
	}
	return f.tokens[roleOwner]
}

func userOfRole(f *fixture, r role) *store.User {
	if u, ok := f.users[r]; ok {
		return u
	}
	return f.users[roleOwner]
}

var matrix = []matrixCase{
	{method: "GET", route: "/api/health", path: fixed("/api/health"), want: public(200)},
	{method: "GET", route: "/api/openapi.json", path: fixed("/api/openapi.json"), want: public(200)},
	{method: "POST", route: "/api/auth/login", path: fixed("/api/auth/login"),
		body: func(f *fixture, r role) any {
			return map[string]string{"email": userOfRole(f, r).Email, "password": testPassword}
		}, want: public(200)},
	{method: "POST", route: "/api/auth/refresh", path: fixed("/api/auth/refresh"),
		body: func(f *fixture, r role) any { return map[string]string{"refresh_token": sessionOf(f, r).RefreshToken} },
		want: public(200)},
	{method: "POST", route: "/api/auth/logout", path: fixed("/api/auth/logout"),
		body: func(f *fixture, r role) any { return map[string]string{"refresh_token": sessionOf(f, r).RefreshToken} },
		want: public(204)},

	{method: "GET", route: "/api/account", path: fixed("/api/account"), want: anyUser(200)},
	{method: "PATCH", route: "/api/account", path: fixed("/api/account"), body: jsonBody(map[string]string{"username": "renamed"}), want: anyUser(200)},
	{method: "PUT", route: "/api/account/password", path: fixed("/api/account/password"),
		body: jsonBody(map[string]string{"current_password": testPassword, "new_password": "another-password"}), want: anyUser(200)},
	{method: "POST", route: "/api/account/totp", path: fixed("/api/account/totp"), want: anyUser(200)},
	{method: "POST", route: "/api/account/totp/enable", path: fixed("/api/account/totp/enable"),
		body: func(f *fixture, r role) any {
			// Start setup for the role's user so a valid code exists.
			u := userOfRole(f, r)
			secret, _, err := f.api.Auth.BeginTOTP(context.Background(), u)
			if err != nil {
				f.t.Fatal(err)
			}
			code, _ := auth.TOTPCodeAt(secret, time.Now())
			return map[string]string{"code": code}
		}, want: anyUser(200)},
	{method: "POST", route: "/api/account/totp/disable", path: fixed("/api/account/totp/disable"),
		body: jsonBody(map[string]string{"password": testPassword, "code": ""}), want: anyUser(204)},
	{method: "GET", route: "/api/account/api-keys", path: fixed("/api/account/api-keys"), want: anyUser(200)},
	{method: "POST", route: "/api/account/api-keys", path: fixed("/api/account/api-keys"), body: jsonBody(map[string]any{"name": "billing"}), want: anyUser(201)},
	{method: "DELETE", route: "/api/account/api-keys/:kid",
		path: func(f *fixture, r role) string {
			_, k, err := f.api.Auth.CreateAPIKey(context.Background(), userOfRole(f, r), auth.NewAPIKey{Name: "k"})
			if err != nil {
				f.t.Fatal(err)
			}
			return "/api/account/api-keys/" + k.ID
		}, want: anyUser(204)},
	{method: "GET", route: "/api/account/ssh-keys", path: fixed("/api/account/ssh-keys"), want: anyUser(200)},
	{method: "POST", route: "/api/account/ssh-keys", path: fixed("/api/account/ssh-keys"),
		body: func(f *fixture, _ role) any {
			return map[string]string{"name": "laptop", "public_key": testPublicKey(f.t)}
		},
		want: anyUser(201)},
	{method: "DELETE", route: "/api/account/ssh-keys/:kid",
		path: func(f *fixture, r role) string {
			k := &store.SSHKey{UserID: userOfRole(f, r).ID, Name: "k", PublicKey: "x", Fingerprint: "SHA256:" + store.NewID()}
			if err := f.store.CreateSSHKey(context.Background(), k); err != nil {
				f.t.Fatal(err)
			}
			return "/api/account/ssh-keys/" + k.ID
		}, want: anyUser(204)},
	{method: "GET", route: "/api/permissions", path: fixed("/api/permissions"), want: anyUser(200)},
	{method: "GET", route: "/api/servers", path: fixed("/api/servers"), want: anyUser(200)},

	{method: "POST", route: "/api/servers", path: fixed("/api/servers"),
		body: func(f *fixture, _ role) any {
			if _, err := f.store.CreateAllocations(context.Background(), f.node.ID, "0.0.0.0", []int{25565}); err != nil {
				f.t.Fatal(err)
			}
			return map[string]any{"name": "new", "node_id": f.node.ID, "template_id": f.tmpl.ID, "memory_mb": 512, "cpu_percent": 100, "disk_mb": 1000}
		}, want: adminOnly(201)},
	{method: "GET", route: "/api/servers/:id", perm: rbac.ServerRead, path: serverPath(""), want: onServer(200)},
	{method: "PATCH", route: "/api/servers/:id", perm: rbac.ServerUpdate, path: serverPath(""),
		body: jsonBody(map[string]any{"name": "renamed", "memory_mb": 256}), want: onServer(200)},
	{method: "DELETE", route: "/api/servers/:id", perm: rbac.ServerDelete, agent: true, path: serverPath(""), want: onServer(204)},
	{method: "POST", route: "/api/servers/:id/power", perm: rbac.ServerStart, agent: true, path: serverPath("/power"),
		body: jsonBody(map[string]string{"action": "start"}), want: onServer(202)},
	{method: "GET", route: "/api/servers/:id/logs", perm: rbac.ServerConsole, agent: true, path: serverPath("/logs?lines=10"), want: onServer(200)},
	{method: "POST", route: "/api/servers/:id/ws/ticket", perm: rbac.ServerRead, path: serverPath("/ws/ticket"), want: onServer(201)},
	// Without an Upgrade header the socket route answers 400 once access is checked.
	{method: "GET", route: "/api/servers/:id/ws", perm: rbac.ServerRead, path: serverPath("/ws"), want: onServer(400)},
	{method: "POST", route: "/api/servers/:id/command", perm: rbac.ServerConsole, agent: true, state: store.StateRunning, path: serverPath("/command"),
		body: jsonBody(map[string]string{"command": "say hi"}), want: onServer(204)},
	{method: "GET", route: "/api/servers/:id/stats", perm: rbac.ServerRead, path: serverPath("/stats"), want: onServer(200)},
	{method: "GET", route: "/api/servers/:id/metrics", perm: rbac.ServerRead, path: serverPath("/metrics?hours=2&step=1m"), want: onServer(200)},
	// The same node is refused (422) after the permission check; the
	// transfer itself runs in e2e between two real agents.
	{method: "POST", route: "/api/servers/:id/transfer", path: serverPath("/transfer"),
		body: func(f *fixture, _ role) any { return map[string]any{"node_id": f.node.ID} }, want: adminOnly(422)},
	{method: "GET", route: "/api/servers/:id/startup", perm: rbac.StartupRead, path: serverPath("/startup"), want: onServer(200)},
	{method: "PATCH", route: "/api/servers/:id/startup", perm: rbac.StartupImage, path: serverPath("/startup"),
		body: jsonBody(map[string]any{"image": "img"}), want: onServer(200)},
	{method: "POST", route: "/api/servers/:id/reinstall", perm: rbac.ServerUpdate, agent: true, path: serverPath("/reinstall"), want: onServer(202)},
	{method: "GET", route: "/api/servers/:id/alerts", perm: rbac.ServerRead, path: serverPath("/alerts"), want: onServer(200)},
	{method: "POST", route: "/api/servers/:id/alerts/:aid/resolve", perm: rbac.AlertManage,
		path: func(f *fixture, _ role) string {
			return "/api/servers/" + f.server.ID + "/alerts/" + f.openAlert() + "/resolve"
		}, want: onServer(200)},
	{method: "GET", route: "/api/servers/:id/alert-rules", perm: rbac.AlertManage, path: serverPath("/alert-rules"), want: onServer(200)},
	{method: "POST", route: "/api/servers/:id/alert-rules", perm: rbac.AlertManage, path: serverPath("/alert-rules"),
		body: jsonBody(map[string]any{"type": "memory", "threshold": 95, "severity": "warning"}), want: onServer(201)},
	{method: "PATCH", route: "/api/servers/:id/alert-rules/:rid", perm: rbac.AlertManage, path: serverRulePath,
		body: jsonBody(map[string]any{"enabled": false}), want: onServer(200)},
	{method: "DELETE", route: "/api/servers/:id/alert-rules/:rid", perm: rbac.AlertManage, path: serverRulePath, want: onServer(204)},
	{method: "GET", route: "/api/servers/:id/schedules", perm: rbac.ScheduleManage, path: serverPath("/schedules"), want: onServer(200)},
	{method: "POST", route: "/api/servers/:id/schedules", perm: rbac.ScheduleManage, path: serverPath("/schedules"),
		body: jsonBody(scheduleBody), want: onServer(201)},
	{method: "POST", route: "/api/servers/:id/schedules/preview", perm: rbac.ScheduleManage, path: serverPath("/schedules/preview"),
		body: jsonBody(map[string]any{"cron": "@daily", "timezone": "Europe/Berlin"}), want: onServer(200)},
	{method: "GET", route: "/api/servers/:id/schedules/:sid", perm: rbac.ScheduleManage, path: schedulePath(""), want: onServer(200)},
	{method: "PUT", route: "/api/servers/:id/schedules/:sid", perm: rbac.ScheduleManage, path: schedulePath(""),
		body: jsonBody(scheduleBody), want: onServer(200)},
	{method: "DELETE", route: "/api/servers/:id/schedules/:sid", perm: rbac.ScheduleManage, path: schedulePath(""), want: onServer(204)},
	{method: "POST", route: "/api/servers/:id/schedules/:sid/run", perm: rbac.ScheduleManage, path: schedulePath("/run"), want: onServer(202)},
	{method: "GET", route: "/api/servers/:id/schedules/:sid/runs", perm: rbac.ScheduleManage, path: schedulePath("/runs"), want: onServer(200)},
	{method: "GET", route: "/api/servers/:id/webhooks", perm: rbac.AlertManage, path: serverPath("/webhooks"), want: onServer(200)},
	{method: "POST", route: "/api/servers/:id/webhooks", perm: rbac.AlertManage, path: serverPath("/webhooks"),
		body: jsonBody(map[string]any{"url": "https://hooks.example.com/catalyst", "events": []string{"server.crashed"}}), want: onServer(201)},
	{method: "PATCH", route: "/api/servers/:id/webhooks/:wid", perm: rbac.AlertManage, path: webhookPath(""),
		body: jsonBody(map[string]any{"enabled": false}), want: onServer(200)},
	{method: "DELETE", route: "/api/servers/:id/webhooks/:wid", perm: rbac.AlertManage, path: webhookPath(""), want: onServer(204)},
	{method: "POST", route: "/api/servers/:id/webhooks/:wid/test", perm: rbac.AlertManage, path: webhookPath("/test"), want: onServer(200)},
	{method: "GET", route: "/api/servers/:id/webhooks/:wid/deliveries", perm: rbac.AlertManage, path: webhookPath("/deliveries"), want: onServer(200)},

	// Any backup permission lets a user see the backups: the "without"
	// subuser, missing one, still holds the others.
	{method: "GET", route: "/api/servers/:id/backups", perm: rbac.BackupDownload, backups: true, path: serverPath("/backups"),
		want: expect{roleAdmin: 200, roleOwner: 200, roleSubWith: 200, roleSubWithout: 200, roleStranger: 404, roleAnonymous: 401}},
	{method: "POST", route: "/api/servers/:id/backups", perm: rbac.BackupCreate, backups: true, path: serverPath("/backups"),
		body: jsonBody(map[string]string{"name": "manual"}), want: onServer(202)},
	{method: "GET", route: "/api/servers/:id/backups/:bid", perm: rbac.BackupRestore, backups: true, path: backupPath(""),
		want: expect{roleAdmin: 200, roleOwner: 200, roleSubWith: 200, roleSubWithout: 200, roleStranger: 404, roleAnonymous: 401}},
	{method: "PATCH", route: "/api/servers/:id/backups/:bid", perm: rbac.BackupDelete, backups: true, path: backupPath(""),
		body: jsonBody(map[string]any{"locked": true}), want: onServer(200)},
	{method: "DELETE", route: "/api/servers/:id/backups/:bid", perm: rbac.BackupDelete, backups: true, path: backupPath(""), want: onServer(204)},
	{method: "POST", route: "/api/servers/:id/backups/:bid/restore", perm: rbac.BackupRestore, backups: true, path: backupPath("/restore"),
		body: jsonBody(map[string]bool{"wipe": false}), want: onServer(202)},
	{method: "GET", route: "/api/servers/:id/backups/:bid/download", perm: rbac.BackupDownload, backups: true, path: backupPath("/download"), want: onServer(200)},
	{method: "GET", route: "/api/servers/:id/files", perm: rbac.FileRead, agent: true, files: true, path: serverPath("/files?path=/"), want: onServer(200)},
	{method: "GET", route: "/api/servers/:id/files/stat", perm: rbac.FileRead, agent: true, files: true, path: serverPath("/files/stat?path=/" + sampleFile), want: onServer(200)},
	{method: "GET", route: "/api/servers/:id/files/search", perm: rbac.FileRead, agent: true, files: true, path: serverPath("/files/search?path=/&query=server"), want: onServer(200)},
	{method: "GET", route: "/api/servers/:id/files/content", perm: rbac.FileReadContent, agent: true, files: true, path: serverPath("/files/content?path=/" + sampleFile), want: onServer(200)},
	{method: "PUT", route: "/api/servers/:id/files/content", perm: rbac.FileWrite, agent: true, files: true, path: serverPath("/files/content?path=/eula.txt"),
		body: func(*fixture, role) any { return []byte("eula=true\n") }, want: onServer(200)},
	{method: "POST", route: "/api/servers/:id/files/upload", perm: rbac.FileWrite, agent: true, files: true, path: serverPath("/files/upload?path=/"),
		body: func(*fixture, role) any { return matrixUpload }, header: map[string]string{"Content-Type": matrixUploadType}, want: onServer(200)},
	{method: "GET", route: "/api/servers/:id/files/download", perm: rbac.FileReadContent, agent: true, files: true, path: serverPath("/files/download?path=/" + sampleFile), want: onServer(200)},
	{method: "POST", route: "/api/servers/:id/files/mkdir", perm: rbac.FileWrite, agent: true, files: true, path: serverPath("/files/mkdir"),
		body: jsonBody(map[string]string{"path": "/world"}), want: onServer(200)},
	{method: "POST", route: "/api/servers/:id/files/rename", perm: rbac.FileWrite, agent: true, files: true, path: serverPath("/files/rename"),
		body: jsonBody(map[string]string{"from": "/a", "to": "/b"}), want: onServer(204)},
	{method: "POST", route: "/api/servers/:id/files/copy", perm: rbac.FileWrite, agent: true, files: true, path: serverPath("/files/copy"),
		body: jsonBody(map[string]string{"from": "/" + sampleFile}), want: onServer(200)},
	{method: "POST", route: "/api/servers/:id/files/delete", perm: rbac.FileDelete, agent: true, files: true, path: serverPath("/files/delete"),
		body: jsonBody(map[string]any{"paths": []string{"/a"}}), want: onServer(204)},
	{method: "POST", route: "/api/servers/:id/files/chmod", perm: rbac.FileWrite, agent: true, files: true, path: serverPath("/files/chmod"),
		body: jsonBody(map[string]string{"path": "/a", "mode": "0644"}), want: onServer(204)},
	{method: "POST", route: "/api/servers/:id/files/compress", perm: rbac.FileArchive, agent: true, files: true, path: serverPath("/files/compress"),
		body: jsonBody(map[string]any{"directory": "/", "paths": []string{"a"}, "format": "zip"}), want: onServer(200)},
	{method: "POST", route: "/api/servers/:id/files/decompress", perm: rbac.FileArchive, agent: true, files: true, path: serverPath("/files/decompress"),
		body: jsonBody(map[string]string{"path": "/a.zip"}), want: onServer(204)},
	{method: "POST", route: "/api/servers/:id/files/pull", perm: rbac.FileWrite, agent: true, files: true, path: serverPath("/files/pull"),
		body: jsonBody(map[string]string{"url": "https://example.com/a.jar", "directory": "/"}), want: onServer(200)},
	{method: "GET", route: "/api/servers/:id/subusers", perm: rbac.SubuserManage, path: serverPath("/subusers"), want: onServer(200)},
	{method: "POST", route: "/api/servers/:id/subusers", perm: rbac.SubuserManage, path: serverPath("/subusers"),
		body: func(f *fixture, _ role) any {
			return map[string]any{"email": f.newcomer.Email, "permissions": []string{"server.read", "server.console"}}
		}, want: onServer(201)},
	{method: "GET", route: "/api/servers/:id/subusers/:uid", perm: rbac.SubuserManage,
		path: func(f *fixture, _ role) string { return "/api/servers/" + f.server.ID + "/subusers/" + f.candidate.ID },
		want: onServer(200)},
	{method: "PATCH", route: "/api/servers/:id/subusers/:uid", perm: rbac.SubuserManage,
		path: func(f *fixture, _ role) string { return "/api/servers/" + f.server.ID + "/subusers/" + f.candidate.ID },
		body: jsonBody(map[string]any{"permissions": []string{"file.read"}}), want: onServer(200)},
	{method: "DELETE", route: "/api/servers/:id/subusers/:uid", perm: rbac.SubuserManage,
		path: func(f *fixture, _ role) string { return "/api/servers/" + f.server.ID + "/subusers/" + f.candidate.ID },
		want: onServer(204)},

	{method: "GET", route: "/api/admin/users", path: fixed("/api/admin/users"), want: adminOnly(200)},
	{method: "POST", route: "/api/admin/users", path: fixed("/api/admin/users"),
		body: jsonBody(map[string]any{"email": "fresh@example.com", "password": "long-enough-pw"}), want: adminOnly(201)},
	{method: "GET", route: "/api/admin/users/:uid", path: func(f *fixture, _ role) string { return "/api/admin/users/" + f.newcomer.ID }, want: adminOnly(200)},
	{method: "PATCH", route: "/api/admin/users/:uid", path: func(f *fixture, _ role) string { return "/api/admin/users/" + f.newcomer.ID },
		body: jsonBody(map[string]any{"username": "newname"}), want: adminOnly(200)},
	{method: "DELETE", route: "/api/admin/users/:uid", path: func(f *fixture, _ role) string { return "/api/admin/users/" + f.newcomer.ID }, want: adminOnly(204)},
	{method: "GET", route: "/api/admin/users/:uid/ssh-keys", path: func(f *fixture, _ role) string { return "/api/admin/users/" + f.newcomer.ID + "/ssh-keys" }, want: adminOnly(200)},
	{method: "GET", route: "/api/admin/nodes", path: fixed("/api/admin/nodes"), want: adminOnly(200)},
	{method: "POST", route: "/api/admin/nodes", path: fixed("/api/admin/nodes"),
		body: jsonBody(map[string]any{"name": "fra-2", "fqdn": "fra2.example.com", "memory_mb": 8192, "disk_mb": 50000}), want: adminOnly(201)},
	{method: "GET", route: "/api/admin/nodes/:nid", path: func(f *fixture, _ role) string { return "/api/admin/nodes/" + f.node.ID }, want: adminOnly(200)},
	{method: "DELETE", route: "/api/admin/nodes/:nid",
		path: func(f *fixture, _ role) string {
			n, _, err := f.api.Nodes.Create(context.Background(), nodes.NewNode{Name: "spare", FQDN: "spare.example.com", MemoryMB: 1, DiskMB: 1})
			if err != nil {
				f.t.Fatal(err)
			}
			return "/api/admin/nodes/" + n.ID
		}, want: adminOnly(204)},
	{method: "POST", route: "/api/admin/nodes/:nid/token", path: func(f *fixture, _ role) string { return "/api/admin/nodes/" + f.node.ID + "/token" }, want: adminOnly(200)},
	{method: "GET", route: "/api/admin/nodes/:nid/allocations", path: func(f *fixture, _ role) string { return "/api/admin/nodes/" + f.node.ID + "/allocations" }, want: adminOnly(200)},
	{method: "POST", route: "/api/admin/nodes/:nid/allocations", path: func(f *fixture, _ role) string { return "/api/admin/nodes/" + f.node.ID + "/allocations" },
		body: jsonBody(map[string]any{"ip": "0.0.0.0", "ports": []string{"25565-25567"}}), want: adminOnly(201)},
	{method: "POST", route: "/api/admin/nodes/:nid/images", agent: true, path: func(f *fixture, _ role) string { return "/api/admin/nodes/" + f.node.ID + "/images" },
		body: func(*fixture, role) any { return []byte("pretend this is a tar") }, want: adminOnly(200)},
	{method: "GET", route: "/api/nodes/:nid/stats", path: func(f *fixture, _ role) string { return "/api/nodes/" + f.node.ID + "/stats" }, want: adminOnly(200)},
	{method: "GET", route: "/api/nodes/:nid/metrics", path: func(f *fixture, _ role) string { return "/api/nodes/" + f.node.ID + "/metrics" }, want: adminOnly(200)},
	{method: "GET", route: "/api/admin/templates", path: fixed("/api/admin/templates"), want: adminOnly(200)},
	{method: "POST", route: "/api/admin/templates", path: fixed("/api/admin/templates"),
		body: jsonBody(map[string]any{"name": "Valheim", "images": []string{"ghcr.io/x/valheim:1"}, "startup": "./valheim -port {{SERVER_PORT}}",
			"variables": []map[string]any{{"name": "World", "env_name": "WORLD", "default": "Dedicated", "user_viewable": true}}}),
		want: adminOnly(201)},
	{method: "POST", route: "/api/admin/templates/import", path: fixed("/api/admin/templates/import"),
		body: jsonBody(map[string]any{"name": "Imported", "images": []map[string]string{{"label": "Java 21", "image": "ghcr.io/x/java:21"}}, "startup": "java -jar server.jar"}),
		want: adminOnly(201)},
	{method: "GET", route: "/api/admin/templates/:tid", path: func(f *fixture, _ role) string { return "/api/admin/templates/" + f.tmpl.ID }, want: adminOnly(200)},
	{method: "PATCH", route: "/api/admin/templates/:tid", path: func(f *fixture, _ role) string { return "/api/admin/templates/" + f.tmpl.ID },
		body: jsonBody(map[string]any{"stop_command": "quit"}), want: adminOnly(200)},
	{method: "DELETE", route: "/api/admin/templates/:tid",
		path: func(f *fixture, _ role) string {
			t := &store.Template{Name: "unused", Images: []store.TemplateImage{{Label: "img", Image: "img"}}, Startup: "run"}
			if err := f.store.CreateTemplate(context.Background(), t); err != nil {
				f.t.Fatal(err)
			}
			return "/api/admin/templates/" + t.ID
		}, want: adminOnly(204)},
	// The tunnel authenticates nodes, not users: every user is refused.
	{method: "GET", route: "/api/agent/connect", path: fixed("/api/agent/connect"),
		want: expect{roleAdmin: 401, roleOwner: 401, roleSubWith: 401, roleSubWithout: 401, roleStranger: 401, roleAnonymous: 401}},
	{method: "POST", route: "/api/agent/configure", path: fixed("/api/agent/configure"),
		body: func(f *fixture, _ role) any {
			_, token, err := f.api.Nodes.Create(context.Background(), nodes.NewNode{Name: "new", FQDN: "new.example.com", MemoryMB: 1, DiskMB: 1})
			if err != nil {
				f.t.Fatal(err)
			}
			return map[string]string{"token": token}
		}, want: public(200)},
	{method: "GET", route: "/api/admin/plugins", path: fixed("/api/admin/plugins"), want: adminOnly(200)},
	// No template source plugin runs here (TestImportFromTemplateSource
	// serves some): an administrator is told the source does not exist.
	{method: "GET", route: "/api/admin/template-sources", path: fixed("/api/admin/template-sources"), want: adminOnly(200)},
	{method: "GET", route: "/api/admin/template-sources/:source/templates", path: fixed("/api/admin/template-sources/eggs/templates"), want: adminOnly(404)},
	{method: "POST", route: "/api/admin/template-sources/:source/import", path: fixed("/api/admin/template-sources/eggs/import"),
		body: jsonBody(map[string]string{"ref": "minecraft/paper"}), want: adminOnly(404)},

	{method: "GET", route: "/api/admin/alert-rules", path: fixed("/api/admin/alert-rules"), want: adminOnly(200)},
	{method: "POST", route: "/api/admin/alert-rules", path: fixed("/api/admin/alert-rules"),
		body: jsonBody(map[string]any{"type": "cpu", "threshold": 90, "for_seconds": 60, "severity": "critical"}), want: adminOnly(201)},
	{method: "PATCH", route: "/api/admin/alert-rules/:rid", path: adminRulePath, body: jsonBody(map[string]any{"threshold": 80}), want: adminOnly(200)},
	{method: "DELETE", route: "/api/admin/alert-rules/:rid", path: adminRulePath, want: adminOnly(204)},
	{method: "GET", route: "/api/admin/alerts", path: fixed("/api/admin/alerts?status=open"), want: adminOnly(200)},
	{method: "POST", route: "/api/admin/alerts/:aid/resolve", path: func(f *fixture, _ role) string { return "/api/admin/alerts/" + f.openAlert() + "/resolve" }, want: adminOnly(200)},
	{method: "GET", route: "/api/admin/alert-sinks", path: fixed("/api/admin/alert-sinks"), want: adminOnly(200)},
	// No alert sink plugin runs here (the e2e tests send real test
	// alerts): an administrator is told the sink does not exist.
	{method: "POST", route: "/api/admin/alert-sinks/:sink/test", path: fixed("/api/admin/alert-sinks/discord/test"), want: adminOnly(404)},
	{method: "GET", route: "/api/admin/deliveries", path: fixed("/api/admin/deliveries?status=failed"), want: adminOnly(200)},
	{method: "GET", route: "/api/admin/audit-logs", path: fixed("/api/admin/audit-logs"), want: adminOnly(200)},
}

// TestPermissionMatrix calls every route as every role, each on a fresh
// world, and checks the status. A route added without a row here fails
// TestPermissionMatrixCoversEveryRoute.
func TestPermissionMatrix(t *testing.T) {
	for _, mc := range matrix {
		for _, r := range allRoles {
			t.Run(fmt.Sprintf("%s %s as %s", mc.method, mc.route, r), func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, mc.perm, nil)
				if mc.state != "" {
					if err := f.store.SetServerState(context.Background(), f.server.ID, mc.state); err != nil {
						t.Fatal(err)
					}
				}
				if mc.agent {
					fake := f.connectAgent()
					if mc.files {
						fake.ServeFiles(newTestFiles(t))
					}
				}
				if mc.backups {
					f.connectBackupAgent(newBackupNode("local"), agentOptions{})
					f.backupID = f.completedBackup("seed").ID
				}
				var body any
				if mc.body != nil {
					body = mc.body(f, r)
				}
				got := f.doWith(r, mc.method, mc.path(f, r), body, mc.header)
				if want := mc.want[r]; got.Status != want {
					t.Fatalf("status %d, want %d; body %s", got.Status, want, got.Body)
				}
				if got.Status >= 400 && (got.Error == nil || got.Error.Code == "" || got.Error.RequestID == "") {
					t.Fatalf("error without the envelope: %s", got.Body)
				}
				if got.Status == 403 {
					denied, _ := f.store.ListAudit(context.Background(), store.AuditFilter{Action: "permission.denied"})
					if len(denied) != 1 || denied[0].Outcome != store.OutcomeDenied {
						t.Fatalf("a 403 did not record one permission.denied audit entry: %+v", denied)
					}
				}
			})
		}
	}
}

func TestPermissionMatrixCoversEveryRoute(t *testing.T) {
	f := newFixture(t, "", nil)
	var have []string
	for _, mc := range matrix {
		have = append(have, mc.method+" "+mc.route)
	}
	for _, ri := range f.api.engine.Routes() {
		key := ri.Method + " " + ri.Path
		if !slices.Contains(have, key) {
			t.Errorf("route %s has no row in the permission matrix", key)
		}
	}
	if len(have) != len(f.api.engine.Routes()) {
		t.Errorf("matrix has %d rows for %d routes", len(have), len(f.api.engine.Routes()))
	}
}

// A scoped API key is held to its scopes even on the owner's own server.
func TestScopedAPIKeyIsLimitedToItsScopes(t *testing.T) {
	f := newFixture(t, "", nil)
	ctx := context.Background()
	key, k, err := f.api.Auth.CreateAPIKey(ctx, f.users[roleOwner], auth.NewAPIKey{Name: "ro", Scopes: []string{"file.*"}})
	if err != nil {
		t.Fatal(err)
	}
	got := send(t, f.api, "GET", "/api/servers/"+f.server.ID, key, nil, nil)
	if got.Status != http.StatusForbidden {
		t.Fatalf("file.* key reading the server: %d %s", got.Status, got.Body)
	}
	// The refusal is audited as the key's, on behalf of its user.
	denied, _ := f.store.ListAudit(ctx, store.AuditFilter{Action: "permission.denied"})
	if len(denied) != 1 || denied[0].ActorType != "api_key" || denied[0].ActorID == nil || *denied[0].ActorID != f.users[roleOwner].ID ||
		denied[0].Metadata["api_key_id"] != k.ID {
		t.Fatalf("denied API key request audited as %+v", denied)
	}
	got = send(t, f.api, "GET", "/api/account", key, nil, nil)
	if got.Status != http.StatusOK {
		t.Fatalf("file.* key reading its account: %d %s", got.Status, got.Body)
	}
	full, _, _ := f.api.Auth.CreateAPIKey(ctx, f.users[roleOwner], auth.NewAPIKey{Name: "full"})
	if got := send(t, f.api, "GET", "/api/servers/"+f.server.ID, full, nil, nil); got.Status != http.StatusOK {
		t.Fatalf("unscoped key: %d %s", got.Status, got.Body)
	}
	// A key from an address outside its allow list is refused.
	ipKey, _, _ := f.api.Auth.CreateAPIKey(ctx, f.users[roleOwner], auth.NewAPIKey{Name: "ip", AllowedIPs: []string{"198.51.100.0/24"}})
	if got := send(t, f.api, "GET", "/api/account", ipKey, nil, nil); got.Status != http.StatusForbidden || got.Error.Code != "ip_not_allowed" {
		t.Fatalf("key from a disallowed IP: %d %s", got.Status, got.Body)
	}
	// A scoped key cannot mint a broader one.
	got = send(t, f.api, "POST", "/api/account/api-keys", key, map[string]any{"name": "escalate"}, nil)
	if got.Status != http.StatusUnprocessableEntity || !strings.Contains(got.Error.Message, "scopes") {
		t.Fatalf("scoped key minting an unscoped key: %d %s", got.Status, got.Body)
	}
}

// A subuser with subuser.manage cannot grant what it does not hold.
func TestSubuserCannotEscalate(t *testing.T) {
	f := newFixture(t, rbac.FileDelete, nil)
	got := f.do(roleSubWithout, "POST", "/api/servers/"+f.server.ID+"/subusers",
		map[string]any{"email": f.newcomer.Email, "permissions": []string{"file.delete"}})
	if got.Status != http.StatusUnprocessableEntity || got.Error.Field != "permissions" {
		t.Fatalf("granting a withheld permission: %d %s", got.Status, got.Body)
	}
	if _, err := f.store.Subuser(context.Background(), f.server.ID, f.newcomer.ID); err == nil {
		t.Fatal("the refused grant was stored")
	}
}
