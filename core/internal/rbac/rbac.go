// Package rbac names the permissions and decides who holds them.
//
// Administrators hold every permission. A server's owner holds every
// server permission on it; a subuser holds the subset granted to them. An API
// key acts as its user, narrowed to its scopes when it has any.
package rbac

import (
	"slices"
	"strings"
)

// Permission is a named right, such as "file.write".
type Permission string

// Server permissions: held per server.
const (
	ServerRead      Permission = "server.read"
	ServerUpdate    Permission = "server.update"
	ServerDelete    Permission = "server.delete"
	ServerStart     Permission = "server.start"
	ServerStop      Permission = "server.stop"
	ServerConsole   Permission = "server.console"
	FileRead        Permission = "file.read"
	FileReadContent Permission = "file.read-content"
	FileWrite       Permission = "file.write"
	FileDelete      Permission = "file.delete"
	FileArchive     Permission = "file.archive"
	FileSFTP        Permission = "file.sftp"
	BackupCreate    Permission = "backup.create"
	BackupRestore   Permission = "backup.restore"
	BackupDelete    Permission = "backup.delete"
	BackupDownload  Permission = "backup.download"
	ScheduleManage  Permission = "schedule.manage"
	SubuserManage   Permission = "subuser.manage"
	AlertManage     Permission = "alert.manage"
	// StartupRead shows the server's startup line, images and variables;
	// StartupUpdate changes the editable variables, StartupImage picks
	// another of the template's images. The command line itself is
	// administrators' only.
	StartupRead   Permission = "startup.read"
	StartupUpdate Permission = "startup.update"
	StartupImage  Permission = "startup.image"
)

// Global permissions: not tied to one server.
const (
	ServerCreate        Permission = "server.create"
	AdminNodesRead      Permission = "admin.nodes.read"
	AdminNodesWrite     Permission = "admin.nodes.write"
	AdminTemplatesRead  Permission = "admin.templates.read"
	AdminTemplatesWrite Permission = "admin.templates.write"
	AdminUsersRead      Permission = "admin.users.read"
	AdminUsersWrite     Permission = "admin.users.write"
	AdminPluginsRead    Permission = "admin.plugins.read"
	AdminPluginsWrite   Permission = "admin.plugins.write"
	AdminAuditRead      Permission = "admin.audit.read"
	AdminAlertsRead     Permission = "admin.alerts.read"
	AdminAlertsWrite    Permission = "admin.alerts.write"
)

// ServerPermissions are the permissions that can be granted on a server,
// in the order a UI lists them.
var ServerPermissions = []Permission{
	ServerRead, ServerUpdate, ServerDelete, ServerStart, ServerStop, ServerConsole,
	FileRead, FileReadContent, FileWrite, FileDelete, FileArchive, FileSFTP,
	BackupCreate, BackupRestore, BackupDelete, BackupDownload,
	ScheduleManage, SubuserManage, AlertManage,
	StartupRead, StartupUpdate, StartupImage,
}

// GlobalPermissions are held by administrators only.
var GlobalPermissions = []Permission{
	ServerCreate,
	AdminNodesRead, AdminNodesWrite, AdminTemplatesRead, AdminTemplatesWrite,
	AdminUsersRead, AdminUsersWrite, AdminPluginsRead, AdminPluginsWrite, AdminAuditRead,
	AdminAlertsRead, AdminAlertsWrite,
}

// IsServerPermission reports whether p can be granted on a server.
func IsServerPermission(p string) bool {
	return slices.Contains(ServerPermissions, Permission(p))
}

// ValidScope reports whether s is a permission, or a family wildcard
// ("file.*", "admin.*", "*"), that an API key may be limited to.
func ValidScope(s string) bool {
	if s == "*" {
		return true
	}
	if family, ok := strings.CutSuffix(s, ".*"); ok {
		for _, p := range append(slices.Clone(ServerPermissions), GlobalPermissions...) {
			if strings.HasPrefix(string(p), family+".") {
				return true
			}
		}
		return false
	}
	return slices.Contains(ServerPermissions, Permission(s)) || slices.Contains(GlobalPermissions, Permission(s))
}

// Principal is who is acting.
type Principal struct {
	UserID string
	Admin  bool
	// Scopes narrows an API key; nil means every permission the user has.
	Scopes []string
	// APIKeyID is set when the principal authenticated with an API key.
	APIKeyID string
}

// inScope reports whether the principal's scopes, if any, allow p.
func (p *Principal) inScope(perm Permission) bool {
	if p.Scopes == nil {
		return true
	}
	return slices.ContainsFunc(p.Scopes, func(s string) bool { return ScopeCovers(s, string(perm)) })
}

// ScopeCovers reports whether scope grants want, a permission or a family
// wildcard: "*" covers everything, "admin.*" covers "admin.users.read" and
// "admin.users.*".
func ScopeCovers(scope, want string) bool {
	if scope == "*" || scope == want {
		return true
	}
	family, ok := strings.CutSuffix(scope, ".*")
	return ok && strings.HasPrefix(want, family+".")
}

// Can reports whether p holds a global permission.
func (p *Principal) Can(perm Permission) bool {
	return p.Admin && p.inScope(perm)
}

// ServerAccess is what a principal has to do with one server.
type ServerAccess struct {
	Owner bool
	// Granted is the subuser's permission list; nil when not a subuser.
	Granted []string
}

// CanOnServer reports whether p holds perm on a server it has access a to.
func (p *Principal) CanOnServer(perm Permission, a ServerAccess) bool {
	if !p.inScope(perm) {
		return false
	}
	if p.Admin || a.Owner {
		return true
	}
	return slices.Contains(a.Granted, string(perm))
}

// SeesServer reports whether the server exists for p at all: strangers get
// "not found", not "forbidden", so server IDs cannot be probed.
func (p *Principal) SeesServer(a ServerAccess) bool {
	return p.Admin || a.Owner || a.Granted != nil
}

// Effective lists the server permissions p holds with access a.
func (p *Principal) Effective(a ServerAccess) []string {
	var out []string
	for _, perm := range ServerPermissions {
		if p.CanOnServer(perm, a) {
			out = append(out, string(perm))
		}
	}
	return out
}
