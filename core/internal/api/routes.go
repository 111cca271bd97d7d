package api

import (
	"net/http"

	"catalyst.dev/core/internal/alerts"
	"catalyst.dev/core/internal/backups"
	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/schedules"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/templates"
	"catalyst.dev/core/internal/webhooks"
	"catalyst.dev/sdk/plugin/host"
	"catalyst.dev/sdk/wire"
	"github.com/gin-gonic/gin"
)

// Access says who may call a route.
type Access int

const (
	// Public routes need no credential.
	Public Access = iota
	// Authenticated routes need any valid credential.
	Authenticated
	// Global routes need a permission not tied to a server (admin.*).
	Global
	// OnServer routes need a permission on the server named by :id.
	OnServer
)

// route is one entry of the API: everything the router, the authorization
// middleware and the OpenAPI document need to know about it.
type route struct {
	Method  string
	Path    string // gin syntax: /api/servers/:id
	Access  Access
	Perm    rbac.Permission
	Summary string
	// Group selects the rate limits ("auth" or "api").
	Group string
	// Request and Response are zero values of the body and data types, for
	// the OpenAPI document; nil when there is none.
	Request  any
	Response any
	// BodyType and AnswerType are the media types of a body or answer
	// that is not JSON (files, streamed as is), for the OpenAPI document.
	BodyType   string
	AnswerType string
	// Status is the success status (200 when zero).
	Status int
	// MaxBody is the largest request body in bytes; zero means
	// http.max_body_kb.
	MaxBody int64
	// Ticketed routes also take a one-use ?ticket= from POST
	// /api/servers/:id/ws/ticket instead of the Authorization header, so
	// that a browser can follow a plain download link.
	Ticketed bool
	Handler  gin.HandlerFunc
}

// chain is the handler list of a route: rate limits, authentication,
// authorization, then the handler itself.
func (a *API) chain(rt route) []gin.HandlerFunc {
	group := rt.Group
	if group == "" {
		group = "api"
	}
	maxBody := rt.MaxBody
	if maxBody == 0 {
		maxBody = a.Config.HTTP.MaxBodyKB * 1024
	}
	hs := []gin.HandlerFunc{limitBody(maxBody), a.limitIP(group)}
	if rt.Ticketed {
		hs = append(hs, func(c *gin.Context) { c.Set(keyTicketed, true) })
	}
	if rt.Access != Public {
		hs = append(hs, a.authenticate, a.limitUser(group))
	}
	switch rt.Access {
	case Global:
		hs = append(hs, a.requireGlobal(rt.Perm))
	case OnServer:
		hs = append(hs, a.requireServer(rt.Perm))
	}
	return append(hs, rt.Handler)
}

// routes is the whole API.
func (a *API) routes() []route {
	const (
		get, post, put, patch, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete
	)
	return []route{
		{Method: get, Path: "/api/health", Access: Public, Summary: "Report whether the core and its database answer", Response: healthReport{}, Handler: a.health},
		{Method: get, Path: "/api/openapi.json", Access: Public, Summary: "This API's OpenAPI 3 document", Handler: a.openAPI},

		{Method: post, Path: "/api/auth/login", Access: Public, Group: "auth", Summary: "Log in with email and password (and a two-factor code when enabled)", Request: loginRequest{}, Response: sessionResponse{}, Handler: a.login},
		{Method: post, Path: "/api/auth/refresh", Access: Public, Group: "auth", Summary: "Spend a refresh token for a new access token and refresh token", Request: refreshRequest{}, Response: sessionResponse{}, Handler: a.refresh},
		{Method: post, Path: "/api/auth/logout", Access: Public, Group: "auth", Summary: "Revoke the login a refresh token belongs to", Request: refreshRequest{}, Status: http.StatusNoContent, Handler: a.logout},

		{Method: get, Path: "/api/account", Access: Authenticated, Summary: "The current user", Response: accountView{}, Handler: a.getAccount},
		{Method: patch, Path: "/api/account", Access: Authenticated, Summary: "Change the current user's email or user name", Request: accountUpdate{}, Response: accountView{}, Handler: a.updateAccount},
		{Method: put, Path: "/api/account/password", Access: Authenticated, Group: "auth", Summary: "Change the password; ends every other session", Request: passwordChange{}, Response: sessionResponse{}, Handler: a.changePassword},
		{Method: post, Path: "/api/account/totp", Access: Authenticated, Summary: "Start two-factor setup: a new secret and its otpauth:// URL", Response: totpSetup{}, Handler: a.beginTOTP},
		{Method: post, Path: "/api/account/totp/enable", Access: Authenticated, Group: "auth", Summary: "Turn two-factor on with a code from the app; returns recovery codes once", Request: totpCode{}, Response: recoveryCodes{}, Handler: a.enableTOTP},
		{Method: post, Path: "/api/account/totp/disable", Access: Authenticated, Group: "auth", Summary: "Turn two-factor off (password and code required)", Request: totpDisable{}, Status: http.StatusNoContent, Handler: a.disableTOTP},
		{Method: get, Path: "/api/account/api-keys", Access: Authenticated, Summary: "The current user's API keys", Response: []apiKeyView{}, Handler: a.listAPIKeys},
		{Method: post, Path: "/api/account/api-keys", Access: Authenticated, Summary: "Create an API key; its secret is shown once", Request: apiKeyCreate{}, Response: apiKeyCreated{}, Status: http.StatusCreated, Handler: a.createAPIKey},
		{Method: del, Path: "/api/account/api-keys/:kid", Access: Authenticated, Summary: "Delete an API key", Status: http.StatusNoContent, Handler: a.deleteAPIKey},
		{Method: get, Path: "/api/account/ssh-keys", Access: Authenticated, Summary: "The current user's SSH public keys (for SFTP)", Response: []sshKeyView{}, Handler: a.listSSHKeys},
		{Method: post, Path: "/api/account/ssh-keys", Access: Authenticated, Summary: "Add an SSH public key for SFTP logins (one authorized_keys line: ed25519, ECDSA or RSA of 2048 bits or more; at most 50)", Request: sshKeyCreate{}, Response: sshKeyView{}, Status: http.StatusCreated, Handler: a.createSSHKey},
		{Method: del, Path: "/api/account/ssh-keys/:kid", Access: Authenticated, Summary: "Delete an SSH public key; the user's SFTP sessions close", Status: http.StatusNoContent, Handler: a.deleteSSHKey},
		{Method: get, Path: "/api/permissions", Access: Authenticated, Summary: "Every permission, for subuser and API key forms", Response: permissionCatalog{}, Handler: a.permissions},

		{Method: get, Path: "/api/servers", Access: Authenticated, Summary: "Servers the caller owns or is a subuser of (all, for admins), each with its latest resource sample (stats)", Response: []serverView{}, Handler: a.listServers},
		{Method: post, Path: "/api/servers", Access: Global, Perm: rbac.ServerCreate, Summary: "Create a server on a node from a template; it installs in the background (202-like: state installing)", Request: serverCreate{}, Response: serverView{}, Status: http.StatusCreated, Handler: a.createServer},
		{Method: get, Path: "/api/servers/:id", Access: OnServer, Perm: rbac.ServerRead, Summary: "One server (with the caller's SFTP host, port and user name when they hold file.sftp and the node serves SFTP)", Response: serverView{}, Handler: a.getServer},
		{Method: patch, Path: "/api/servers/:id", Access: OnServer, Perm: rbac.ServerUpdate, Summary: "Rename a server, change its resources or environment (takes effect at the next start)", Request: serverUpdate{}, Response: serverView{}, Handler: a.updateServer},
		{Method: del, Path: "/api/servers/:id", Access: OnServer, Perm: rbac.ServerDelete, Summary: "Delete a server: its process, files and allocations (the node must be online)", Status: http.StatusNoContent, Handler: a.deleteServer},
		{Method: post, Path: "/api/servers/:id/power", Access: OnServer, Summary: "Start, stop, restart or kill (start and restart need server.start; stop and kill server.stop)", Request: powerRequest{}, Response: serverView{}, Status: http.StatusAccepted, Handler: a.powerServer},
		{Method: get, Path: "/api/servers/:id/logs", Access: OnServer, Perm: rbac.ServerConsole, Summary: "The server's recent console lines, oldest first (lines=1..5000, default 100); kept on its node", Response: consoleLog{}, Handler: a.serverLogs},
		{Method: post, Path: "/api/servers/:id/ws/ticket", Access: OnServer, Perm: rbac.ServerRead, Summary: "A one-use ticket (30 s) for opening the server's WebSocket from a browser (GET /api/servers/:id/ws?ticket=…) or following one of its download links (files/download, backups/:bid/download, with ?ticket=…)", Response: socketTicket{}, Status: http.StatusCreated, Handler: a.socketTicket},
		{Method: get, Path: "/api/servers/:id/ws", Access: OnServer, Perm: rbac.ServerRead, Summary: "The server's live feed (WebSocket; authenticate with ?ticket= or the Authorization header): console_output, install_output, status, stats, daemon_message, throttled, token_expiring, backup_progress, backup_completed, backup_failed, restore_completed, restore_failed; send send_command, set_state, request_logs, request_stats, auth", Handler: a.serverSocket},
		{Method: post, Path: "/api/servers/:id/command", Access: OnServer, Perm: rbac.ServerConsole, Summary: "Send one line to a running server's console", Request: commandRequest{}, Status: http.StatusNoContent, Handler: a.serverCommand},
		{Method: get, Path: "/api/servers/:id/stats", Access: OnServer, Perm: rbac.ServerRead, Summary: "The server's latest resource sample (null unless it runs on a connected node)", Response: serverStats{}, Handler: a.serverStats},
		{Method: get, Path: "/api/servers/:id/metrics", Access: OnServer, Perm: rbac.ServerRead, Summary: "The server's resource history, downsampled (hours=1..720, default 24; step a duration or seconds, at least 30s, default about 300 points; at most 5000 points)", Response: serverHistory{}, Handler: a.serverMetrics},
		{Method: get, Path: "/api/servers/:id/startup", Access: OnServer, Perm: rbac.StartupRead, Summary: "How the server starts: the template's images (the selected one marked), the command line raw and rendered, and the variables the caller may see with their values and rules", Response: startupView{}, Handler: a.getStartup},
		{Method: patch, Path: "/api/servers/:id/startup", Access: OnServer, Summary: "Change how the server starts (takes effect at the next start): environment needs startup.update and editable variables whose values pass their rules, image needs startup.image and one of the template's images, startup (the command line) is for administrators only", Request: startupChange{}, Response: startupView{}, Handler: a.updateStartup},
		{Method: post, Path: "/api/servers/:id/reinstall", Access: OnServer, Perm: rbac.ServerUpdate, Summary: "Run the template's installer again on a stopped server", Response: serverView{}, Status: http.StatusAccepted, Handler: a.reinstallServer},
		{Method: get, Path: "/api/servers/:id/alerts", Access: OnServer, Perm: rbac.ServerRead, Summary: "Alerts about the server, newest first (filters status, severity, type; cursor before; limit)", Response: []*store.Alert{}, Handler: a.listServerAlerts},
		{Method: post, Path: "/api/servers/:id/alerts/:aid/resolve", Access: OnServer, Perm: rbac.AlertManage, Summary: "Resolve an open alert about the server by hand", Response: store.Alert{}, Handler: a.resolveServerAlert},
		{Method: get, Path: "/api/servers/:id/alert-rules", Access: OnServer, Perm: rbac.AlertManage, Summary: "The server's own alert rules (admin-wide rules apply too)", Response: []*store.AlertRule{}, Handler: a.listServerAlertRules},
		{Method: post, Path: "/api/servers/:id/alert-rules", Access: OnServer, Perm: rbac.AlertManage, Summary: "Add a rule for this server (any type but node_offline); its alerts reach the server's webhooks (alert.firing, alert.resolved)", Request: alerts.RuleSpec{}, Response: store.AlertRule{}, Status: http.StatusCreated, Handler: a.createServerAlertRule},
		{Method: patch, Path: "/api/servers/:id/alert-rules/:rid", Access: OnServer, Perm: rbac.AlertManage, Summary: "Change one of the server's rules", Request: alerts.RuleSpec{}, Response: store.AlertRule{}, Handler: a.updateServerAlertRule},
		{Method: del, Path: "/api/servers/:id/alert-rules/:rid", Access: OnServer, Perm: rbac.AlertManage, Summary: "Delete one of the server's rules", Status: http.StatusNoContent, Handler: a.deleteServerAlertRule},
		{Method: get, Path: "/api/servers/:id/schedules", Access: OnServer, Perm: rbac.ScheduleManage, Summary: "The server's schedules, each with its next slots (upcoming)", Response: []schedules.View{}, Handler: a.listSchedules},
		{Method: post, Path: "/api/servers/:id/schedules", Access: OnServer, Perm: rbac.ScheduleManage, Summary: "Add a schedule: a cron expression (5 fields or @hourly, @daily, @weekly, @monthly, @yearly) read in timezone, and 1 to 20 tasks (command, power, backup) run in order, each offset_seconds (0-900) after the previous; a failing task ends the run unless continue_on_failure", Request: schedules.Spec{}, Response: schedules.View{}, Status: http.StatusCreated, Handler: a.createSchedule},
		{Method: post, Path: "/api/servers/:id/schedules/preview", Access: OnServer, Perm: rbac.ScheduleManage, Summary: "The next 5 slots of a cron expression in a time zone, or the field error creating it would give", Request: schedulePreview{}, Response: previewView{}, Handler: a.previewSchedule},
		{Method: get, Path: "/api/servers/:id/schedules/:sid", Access: OnServer, Perm: rbac.ScheduleManage, Summary: "One schedule, with its next slots", Response: schedules.View{}, Handler: a.getSchedule},
		{Method: put, Path: "/api/servers/:id/schedules/:sid", Access: OnServer, Perm: rbac.ScheduleManage, Summary: "Replace a schedule's settings and tasks; its next slot is counted from now", Request: schedules.Spec{}, Response: schedules.View{}, Handler: a.updateSchedule},
		{Method: del, Path: "/api/servers/:id/schedules/:sid", Access: OnServer, Perm: rbac.ScheduleManage, Summary: "Delete a schedule and its run log; a run in progress stops before its next task", Status: http.StatusNoContent, Handler: a.deleteSchedule},
		{Method: post, Path: "/api/servers/:id/schedules/:sid/run", Access: OnServer, Perm: rbac.ScheduleManage, Summary: "Run the schedule's tasks now, whatever its expression or enabled flag (409 while a run is in progress); the answer is the run, still running: follow it in …/runs", Response: store.ScheduleRun{}, Status: http.StatusAccepted, Handler: a.runSchedule},
		{Method: get, Path: "/api/servers/:id/schedules/:sid/runs", Access: OnServer, Perm: rbac.ScheduleManage, Summary: "The schedule's runs, newest first (cursor before; limit): trigger cron, catch_up or manual, status running, completed, failed or skipped (with why), and each task's outcome and times", Response: []*store.ScheduleRun{}, Handler: a.scheduleRuns},
		{Method: get, Path: "/api/servers/:id/webhooks", Access: OnServer, Perm: rbac.AlertManage, Summary: "The server's webhooks (secrets are shown only when set)", Response: []*store.Webhook{}, Handler: a.listWebhooks},
		{Method: post, Path: "/api/servers/:id/webhooks", Access: OnServer, Perm: rbac.AlertManage, Summary: "Subscribe a URL to the server's events (server.started, server.stopped, server.crashed, server.installed, server.install_failed, backup.completed, backup.failed, restore.completed, restore.failed, transfer.completed, transfer.failed, alert.firing, alert.resolved, or *); deliveries are signed JSON (Catalyst-Webhook-Signature), retried until taken. The answer holds the secret, shown this once", Request: webhooks.Spec{}, Response: webhooks.Created{}, Status: http.StatusCreated, Handler: a.createWebhook},
		{Method: patch, Path: "/api/servers/:id/webhooks/:wid", Access: OnServer, Perm: rbac.AlertManage, Summary: "Change a webhook's URL, events or enabled flag, set its secret or rotate_secret (the answer holds a new secret)", Request: webhooks.Spec{}, Response: webhooks.Created{}, Handler: a.updateWebhook},
		{Method: del, Path: "/api/servers/:id/webhooks/:wid", Access: OnServer, Perm: rbac.AlertManage, Summary: "Delete a webhook and its pending deliveries", Status: http.StatusNoContent, Handler: a.deleteWebhook},
		{Method: post, Path: "/api/servers/:id/webhooks/:wid/test", Access: OnServer, Perm: rbac.AlertManage, Summary: "Send a webhook.test event now and wait up to 15 s for the first attempt: the delivery comes back delivered, or with the receiver's answer in last_error (it is retried like any other)", Response: store.Delivery{}, Handler: a.testWebhook},
		{Method: get, Path: "/api/servers/:id/webhooks/:wid/deliveries", Access: OnServer, Perm: rbac.AlertManage, Summary: "A webhook's delivery log, newest first", Response: []*store.Delivery{}, Handler: a.webhookDeliveries},
		{Method: post, Path: "/api/servers/:id/transfer", Access: Global, Perm: rbac.AdminNodesWrite, Summary: "Move a server to another node (admin): stopped, its files streamed node to node and checked, switched, started again if it ran; any failure leaves it on its node. Answers at once; progress on the server's WebSocket (transfer_progress, transfer_completed, transfer_failed)", Request: transferRequest{}, Response: serverView{}, Status: http.StatusAccepted, Handler: a.transferServer},
		{Method: get, Path: backupsPath, Access: OnServer, Summary: "The server's backups, newest first (any of backup.create, backup.restore, backup.delete, backup.download)", Response: []backups.View{}, Handler: a.listBackups},
		{Method: post, Path: backupsPath, Access: OnServer, Perm: rbac.BackupCreate, Summary: "Back the server's files up into one of its node's backup stores, in the background (status creating; backup_completed or backup_failed on the server's WebSocket). At the server's backup limit the oldest unlocked backup is deleted first", Request: backupCreate{}, Response: backups.View{}, Status: http.StatusAccepted, Handler: a.createBackup},
		{Method: get, Path: backupsPath + "/:bid", Access: OnServer, Summary: "One backup (any of the backup permissions)", Response: backups.View{}, Handler: a.getBackup},
		{Method: patch, Path: backupsPath + "/:bid", Access: OnServer, Perm: rbac.BackupDelete, Summary: "Rename a backup, or lock it (a locked backup is never rotated out nor deleted) or unlock it", Request: backupUpdate{}, Response: backups.View{}, Handler: a.updateBackup},
		{Method: del, Path: backupsPath + "/:bid", Access: OnServer, Perm: rbac.BackupDelete, Summary: "Delete a backup from its store (the node holding it must be online); locked backups are refused", Status: http.StatusNoContent, Handler: a.deleteBackup},
		{Method: post, Path: backupsPath + "/:bid/restore", Access: OnServer, Perm: rbac.BackupRestore, Summary: "Restore a backup into the stopped server, in the background (restore_completed or restore_failed on the WebSocket); the server cannot start meanwhile. The archive is checked against its sha256 before it replaces anything; wipe deletes the files it does not hold", Request: backupRestore{}, Response: backups.View{}, Status: http.StatusAccepted, Handler: a.restoreBackup},
		{Method: get, Path: backupsPath + "/:bid/download", Access: OnServer, Perm: rbac.BackupDownload, Summary: "A completed backup's archive (tar, compressed as its compression says), streamed as an attachment; takes ?ticket= in place of the Authorization header", AnswerType: "application/octet-stream", Ticketed: true, Handler: a.downloadBackup},
		{Method: get, Path: filesPath, Access: OnServer, Perm: rbac.FileRead, Summary: "A directory's entries, directories first (path, offset, limit, sort=name|size|modified, order=asc|desc)", Response: wire.FileList{}, Handler: a.fileLookup()},
		{Method: get, Path: filesPath + "/stat", Access: OnServer, Perm: rbac.FileRead, Summary: "One file or directory (path)", Response: wire.FileInfo{}, Handler: a.fileLookup()},
		{Method: get, Path: filesPath + "/search", Access: OnServer, Perm: rbac.FileRead, Summary: "Entries under a directory whose name contains a string, case-insensitive (path, query, limit)", Response: wire.FileList{}, Handler: a.fileLookup()},
		{Method: get, Path: filesPath + "/content", Access: OnServer, Perm: rbac.FileReadContent, Summary: "A file's bytes (path); honours Range (206), If-Range, If-Modified-Since and If-None-Match (304)", AnswerType: "application/octet-stream", Handler: a.fileSend("server.file.read")},
		{Method: put, Path: filesPath + "/content", Access: OnServer, Perm: rbac.FileWrite, Summary: "Write a file (path) from the raw body, streamed; it replaces the file whole when complete (files.max_upload_mb)", BodyType: "application/octet-stream", Response: wire.FileInfo{}, MaxBody: a.uploadLimit(), Handler: a.fileReceive("server.file.write", bodyRaw)},
		{Method: post, Path: filesPath + "/upload", Access: OnServer, Perm: rbac.FileWrite, Summary: "Upload files into a directory (path): multipart/form-data, any number of \"files\" parts, streamed (files.max_upload_mb in all)", BodyType: "multipart/form-data", Response: []wire.FileInfo{}, MaxBody: a.uploadLimit(), Handler: a.fileReceive("server.file.upload", bodyMultipart)},
		{Method: get, Path: filesPath + "/download", Access: OnServer, Perm: rbac.FileReadContent, Summary: "A file's bytes as an attachment (path); honours Range; takes ?ticket= in place of the Authorization header", AnswerType: "application/octet-stream", Ticketed: true, Handler: a.fileSend("server.file.download")},
		{Method: post, Path: filesPath + "/mkdir", Access: OnServer, Perm: rbac.FileWrite, Summary: "Create a directory and any missing parents", Request: wire.MkdirRequest{}, Response: wire.FileInfo{}, Handler: fileCommand(a, "server.file.mkdir", mkdirMeta)},
		{Method: post, Path: filesPath + "/rename", Access: OnServer, Perm: rbac.FileWrite, Summary: "Move or rename a file or directory; the target must not exist", Request: wire.RenameRequest{}, Status: http.StatusNoContent, Handler: fileCommand(a, "server.file.rename", renameMeta)},
		{Method: post, Path: filesPath + "/copy", Access: OnServer, Perm: rbac.FileWrite, Summary: "Copy a file or directory (an empty to picks a free name beside it)", Request: wire.CopyRequest{}, Response: wire.FileInfo{}, Handler: fileCommand(a, "server.file.copy", copyMeta)},
		{Method: post, Path: filesPath + "/delete", Access: OnServer, Perm: rbac.FileDelete, Summary: "Delete files and directories (recursively)", Request: wire.DeleteRequest{}, Status: http.StatusNoContent, Handler: fileCommand(a, "server.file.delete", deleteMeta)},
		{Method: post, Path: filesPath + "/chmod", Access: OnServer, Perm: rbac.FileWrite, Summary: "Set a file's permission bits (octal, \"0644\")", Request: wire.ChmodRequest{}, Status: http.StatusNoContent, Handler: fileCommand(a, "server.file.chmod", chmodMeta)},
		{Method: post, Path: filesPath + "/compress", Access: OnServer, Perm: rbac.FileArchive, Summary: "Archive files of a directory into a new tar.gz or zip beside them", Request: wire.CompressRequest{}, Response: wire.FileInfo{}, Handler: fileCommand(a, "server.file.compress", compressMeta)},
		{Method: post, Path: filesPath + "/decompress", Access: OnServer, Perm: rbac.FileArchive, Summary: "Extract a tar, tar.gz, tar.xz or zip archive (into its directory by default)", Request: wire.DecompressRequest{}, Status: http.StatusNoContent, Handler: fileCommand(a, "server.file.decompress", decompressMeta)},
		{Method: post, Path: filesPath + "/pull", Access: OnServer, Perm: rbac.FileWrite, Summary: "Download a URL (http or https) into a directory on the node", Request: wire.PullRequest{}, Response: wire.FileInfo{}, Handler: fileCommand(a, "server.file.pull", pullMeta)},
		{Method: get, Path: "/api/servers/:id/subusers", Access: OnServer, Perm: rbac.SubuserManage, Summary: "A server's subusers", Response: []subuserView{}, Handler: a.listSubusers},
		{Method: post, Path: "/api/servers/:id/subusers", Access: OnServer, Perm: rbac.SubuserManage, Summary: "Give a user permissions on the server", Request: subuserCreate{}, Response: subuserView{}, Status: http.StatusCreated, Handler: a.createSubuser},
		{Method: get, Path: "/api/servers/:id/subusers/:uid", Access: OnServer, Perm: rbac.SubuserManage, Summary: "One subuser", Response: subuserView{}, Handler: a.getSubuser},
		{Method: patch, Path: "/api/servers/:id/subusers/:uid", Access: OnServer, Perm: rbac.SubuserManage, Summary: "Replace a subuser's permissions", Request: subuserUpdate{}, Response: subuserView{}, Handler: a.updateSubuser},
		{Method: del, Path: "/api/servers/:id/subusers/:uid", Access: OnServer, Perm: rbac.SubuserManage, Summary: "Remove a subuser", Status: http.StatusNoContent, Handler: a.deleteSubuser},

		{Method: get, Path: "/api/admin/users", Access: Global, Perm: rbac.AdminUsersRead, Summary: "List users (filter q, cursor after, limit)", Response: userPage{}, Handler: a.adminListUsers},
		{Method: post, Path: "/api/admin/users", Access: Global, Perm: rbac.AdminUsersWrite, Summary: "Create a user", Request: userCreate{}, Response: accountView{}, Status: http.StatusCreated, Handler: a.adminCreateUser},
		{Method: get, Path: "/api/admin/users/:uid", Access: Global, Perm: rbac.AdminUsersRead, Summary: "One user", Response: accountView{}, Handler: a.adminGetUser},
		{Method: patch, Path: "/api/admin/users/:uid", Access: Global, Perm: rbac.AdminUsersWrite, Summary: "Change a user's email, name, password or admin flag", Request: userUpdate{}, Response: accountView{}, Handler: a.adminUpdateUser},
		{Method: del, Path: "/api/admin/users/:uid", Access: Global, Perm: rbac.AdminUsersWrite, Summary: "Delete a user who owns no servers", Status: http.StatusNoContent, Handler: a.adminDeleteUser},
		{Method: get, Path: "/api/admin/users/:uid/ssh-keys", Access: Global, Perm: rbac.AdminUsersRead, Summary: "A user's SSH public keys (for SFTP)", Response: []sshKeyView{}, Handler: a.adminListSSHKeys},
		{Method: get, Path: "/api/admin/nodes", Access: Global, Perm: rbac.AdminNodesRead, Summary: "List nodes", Response: []nodeView{}, Handler: a.listNodes},
		{Method: post, Path: "/api/admin/nodes", Access: Global, Perm: rbac.AdminNodesWrite, Summary: "Create a node; returns its one-time deployment token and the agent command", Request: nodeCreate{}, Response: nodeCreated{}, Status: http.StatusCreated, Handler: a.createNode},
		{Method: get, Path: "/api/admin/nodes/:nid", Access: Global, Perm: rbac.AdminNodesRead, Summary: "One node", Response: nodeView{}, Handler: a.getNode},
		{Method: del, Path: "/api/admin/nodes/:nid", Access: Global, Perm: rbac.AdminNodesWrite, Summary: "Delete a node that has no servers", Status: http.StatusNoContent, Handler: a.deleteNode},
		{Method: post, Path: "/api/admin/nodes/:nid/token", Access: Global, Perm: rbac.AdminNodesWrite, Summary: "Issue a new deployment token (re-enrol a reinstalled machine)", Response: nodeCreated{}, Handler: a.newNodeToken},
		{Method: get, Path: "/api/admin/nodes/:nid/allocations", Access: Global, Perm: rbac.AdminNodesRead, Summary: "A node's allocations (ip:port), free and assigned", Response: []*store.Allocation{}, Handler: a.listAllocations},
		{Method: post, Path: "/api/admin/nodes/:nid/allocations", Access: Global, Perm: rbac.AdminNodesWrite, Summary: "Add allocations: an IP and ports or ranges", Request: allocationCreate{}, Response: []*store.Allocation{}, Status: http.StatusCreated, Handler: a.createAllocations},
		{Method: post, Path: "/api/admin/nodes/:nid/images", Access: Global, Perm: rbac.AdminNodesWrite, Summary: "Import an image archive (OCI layout or docker save tar, streamed as the body) into a node's runtime", Response: wire.ImportResult{}, MaxBody: a.Config.Gateway.ImageImportMaxMB << 20, Handler: a.importImage},
		{Method: get, Path: "/api/nodes/:nid/stats", Access: Global, Perm: rbac.AdminNodesRead, Summary: "The node's latest health report (null unless connected)", Response: nodeStats{}, Handler: a.nodeStats},
		{Method: get, Path: "/api/nodes/:nid/metrics", Access: Global, Perm: rbac.AdminNodesRead, Summary: "The node's resource history, downsampled (hours and step as for a server's metrics)", Response: nodeHistory{}, Handler: a.nodeMetrics},
		{Method: get, Path: "/api/admin/templates", Access: Global, Perm: rbac.AdminTemplatesRead, Summary: "List templates", Response: []*store.Template{}, Handler: a.listTemplates},
		{Method: post, Path: "/api/admin/templates", Access: Global, Perm: rbac.AdminTemplatesWrite, Summary: "Create a template", Request: templates.Spec{}, Response: store.Template{}, Status: http.StatusCreated, Handler: a.createTemplate},
		{Method: post, Path: "/api/admin/templates/import", Access: Global, Perm: rbac.AdminTemplatesWrite, Summary: "Import a template file: multipart/form-data with the file in \"file\" (and \"source\", a template source plugin that converts it, such as Pterodactyl eggs), or the file as the body (?source=, ?name=). Without a source the file is a template as POST /api/admin/templates takes it. Answers the template and the source's conversion warnings", BodyType: "multipart/form-data", Response: templateImported{}, Status: http.StatusCreated, MaxBody: maxTemplateFile + 64<<10, Handler: a.importTemplate},
		{Method: get, Path: "/api/admin/templates/:tid", Access: Global, Perm: rbac.AdminTemplatesRead, Summary: "One template", Response: store.Template{}, Handler: a.getTemplate},
		{Method: patch, Path: "/api/admin/templates/:tid", Access: Global, Perm: rbac.AdminTemplatesWrite, Summary: "Change a template; servers keep the startup line they were created with and pick up the rest at their next start or reinstall", Request: templatePatch{}, Response: store.Template{}, Handler: a.updateTemplate},
		{Method: del, Path: "/api/admin/templates/:tid", Access: Global, Perm: rbac.AdminTemplatesWrite, Summary: "Delete a template no server uses", Status: http.StatusNoContent, Handler: a.deleteTemplate},
		{Method: get, Path: "/api/admin/template-sources", Access: Global, Perm: rbac.AdminTemplatesRead, Summary: "The template source plugins, their health and how many templates each offers", Response: []templateSourceView{}, Handler: a.listTemplateSources},
		{Method: get, Path: "/api/admin/template-sources/:source/templates", Access: Global, Perm: rbac.AdminTemplatesRead, Summary: "The templates a source offers, each with the template an earlier import made from it, the version imported and whether the source has a newer one", Response: []sourceTemplateView{}, Handler: a.listSourceTemplates},
		{Method: post, Path: "/api/admin/template-sources/:source/import", Access: Global, Perm: rbac.AdminTemplatesWrite, Summary: "Import one of a source's templates by its ref: creates the template, or updates the one an earlier import of the same ref made (its servers pick the changes up at their next start or reinstall)", Request: sourceImport{}, Response: templateImported{}, Handler: a.importSourceTemplate},
		{Method: get, Path: wire.PathConnect, Access: Public, Summary: "Agent tunnel: a WebSocket carrying a yamux session (node ID and credential in headers; see sdk/wire)", Handler: a.agentConnect},
		{Method: post, Path: "/api/agent/configure", Access: Public, Group: "auth", Summary: "Agent enrolment: exchange a deployment token for the node's credential", Request: enrolRequest{}, Response: enrolResponse{}, Handler: a.enrolAgent},
		{Method: get, Path: "/api/admin/plugins", Access: Global, Perm: rbac.AdminPluginsRead, Summary: "Configured plugins: name, kind, version, health, restarts", Response: []host.Status{}, Handler: a.listPlugins},
		{Method: get, Path: "/api/admin/alert-rules", Access: Global, Perm: rbac.AdminAlertsRead, Summary: "The admin-wide alert rules (every server, or every node for node_offline)", Response: []*store.AlertRule{}, Handler: a.listAlertRules},
		{Method: post, Path: "/api/admin/alert-rules", Access: Global, Perm: rbac.AdminAlertsWrite, Summary: "Add an admin-wide alert rule: type (cpu, memory, disk with a threshold in percent and for_seconds; node_offline with for_seconds; server_crashed, crash_loop, install_failed, backup_failed, transfer_failed), severity (info, warning, critical)", Request: alerts.RuleSpec{}, Response: store.AlertRule{}, Status: http.StatusCreated, Handler: a.createAlertRule},
		{Method: patch, Path: "/api/admin/alert-rules/:rid", Access: Global, Perm: rbac.AdminAlertsWrite, Summary: "Change an admin-wide rule (not its type); disabling it resolves its open alerts", Request: alerts.RuleSpec{}, Response: store.AlertRule{}, Handler: a.updateAlertRule},
		{Method: del, Path: "/api/admin/alert-rules/:rid", Access: Global, Perm: rbac.AdminAlertsWrite, Summary: "Delete an admin-wide rule, resolving its open alerts (the alerts stay in the history)", Status: http.StatusNoContent, Handler: a.deleteAlertRule},
		{Method: get, Path: "/api/admin/alerts", Access: Global, Perm: rbac.AdminAlertsRead, Summary: "Alerts, newest first (filters status open|resolved, severity, type, server, node; cursor before; limit)", Response: []*store.Alert{}, Handler: a.listAlerts},
		{Method: post, Path: "/api/admin/alerts/:aid/resolve", Access: Global, Perm: rbac.AdminAlertsWrite, Summary: "Resolve an open alert by hand (announced to the sinks like a cleared one); a condition that still holds raises it again only after it cleared", Response: store.Alert{}, Handler: a.resolveAlert},
		{Method: get, Path: "/api/admin/alert-sinks", Access: Global, Perm: rbac.AdminAlertsRead, Summary: "The alert sinks and their outbox: pending, delivered and failed deliveries, the last error and when it happened, the last delivery", Response: []sinkView{}, Handler: a.listAlertSinks},
		{Method: post, Path: "/api/admin/alert-sinks/:sink/test", Access: Global, Perm: rbac.AdminAlertsWrite, Summary: "Send a test alert to a sink through the outbox; its delivery shows in the delivery log", Response: store.Delivery{}, Status: http.StatusAccepted, Handler: a.testAlertSink},
		{Method: get, Path: "/api/admin/deliveries", Access: Global, Perm: rbac.AdminAlertsRead, Summary: "The delivery log, newest first: every notification to an alert sink or a server's webhook, with attempts and the last error (filters sink, status pending|delivered|failed; cursor before; limit)", Response: []*store.Delivery{}, Handler: a.listDeliveries},
		{Method: get, Path: "/api/admin/audit-logs", Access: Global, Perm: rbac.AdminAuditRead, Summary: "The audit log, newest first (filters actor, action, server, since, until; cursor before)", Response: auditPage{}, Handler: a.auditLogs},
	}
}
