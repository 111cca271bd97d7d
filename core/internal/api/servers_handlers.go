package api

import (
	"net/http"
	"slices"
	"time"

	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
	"github.com/gin-gonic/gin"
)

type allocationView struct {
	IP      string `json:"ip"`
	Port    int    `json:"port"`
	Primary bool   `json:"primary"`
}

type serverView struct {
	ID          string `json:"id"`
	ShortID     string `json:"short_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	OwnerID     string `json:"owner_id"`
	NodeID      string `json:"node_id"`
	TemplateID  string `json:"template_id"`
	State       string `json:"state"`
	// StateReason says why, for install_failed and crashed.
	StateReason string            `json:"state_reason"`
	MemoryMB    int64             `json:"memory_mb"`
	CPUPercent  int64             `json:"cpu_percent"`
	DiskMB      int64             `json:"disk_mb"`
	PidsLimit   int64             `json:"pids_limit"`
	Image       string            `json:"image"`
	Environment map[string]string `json:"environment"`
	// Restart is the restart policy in force (defaults filled in).
	Restart servers.RestartPolicy `json:"restart"`
	// CrashCount counts every crash; LastExitCode and LastOOMKilled say how
	// the last process ended (null: never exited); CrashedAt is the last
	// crash.
	CrashCount    int        `json:"crash_count"`
	LastExitCode  *int       `json:"last_exit_code"`
	LastOOMKilled bool       `json:"last_oom_killed"`
	CrashedAt     *time.Time `json:"crashed_at"`
	// BackupLimit is how many backups the server keeps; null takes the
	// core's default (backups.limit).
	BackupLimit *int             `json:"backup_limit"`
	Allocations []allocationView `json:"allocations"`
	// Permissions are the caller's permissions on this server.
	Permissions []string  `json:"permissions"`
	CreatedAt   time.Time `json:"created_at"`
	// SFTP is how the caller reaches the files over SFTP: in GET
	// /api/servers/:id only, when they hold file.sftp and the node serves
	// SFTP.
	SFTP *sftpView `json:"sftp,omitempty"`
	// Stats is the latest resource sample, in GET /api/servers only (null
	// unless the server runs on a connected node), so that a list of
	// hundreds of servers needs one request for its usage bars.
	Stats *wire.ServerStats `json:"stats,omitempty"`
}

func viewServer(s *store.Server, perms []string) serverView {
	v := serverView{ID: s.ID, ShortID: s.ShortID, Name: s.Name, Description: s.Description, OwnerID: s.OwnerID,
		NodeID: s.NodeID, TemplateID: s.TemplateID, State: s.State, StateReason: s.StateReason, MemoryMB: s.MemoryMB, PidsLimit: s.PidsLimit, CPUPercent: s.CPUPercent,
		DiskMB: s.DiskMB, Image: s.Image, Environment: s.Environment, CrashCount: s.CrashCount,
		Restart: servers.PolicyOf(s), LastExitCode: s.LastExitCode, LastOOMKilled: s.LastOOMKilled, CrashedAt: s.CrashedAt,
		BackupLimit: s.BackupLimit, Allocations: []allocationView{}, Permissions: perms, CreatedAt: s.CreatedAt}
	for _, al := range s.Allocations {
		v.Allocations = append(v.Allocations, allocationView{IP: al.IP, Port: al.Port, Primary: al.Primary})
	}
	return v
}

// shown is the view of s for the caller: one who is not an administrator
// gets the environment without the values of the variables users may not
// see (an administrator's settings, such as an RCON password). tmpls
// caches the templates across the servers of one answer.
func (a *API) shown(c *gin.Context, s *store.Server, perms []string, tmpls map[string]*store.Template) (serverView, error) {
	v := viewServer(s, perms)
	if principalOf(c).Admin || len(s.Environment) == 0 {
		return v, nil
	}
	tmpl, ok := tmpls[s.TemplateID]
	if !ok {
		var err error
		if tmpl, err = a.Store.TemplateByID(c.Request.Context(), s.TemplateID); err != nil {
			return serverView{}, err
		}
		tmpls[s.TemplateID] = tmpl
	}
	v.Environment = make(map[string]string, len(s.Environment))
	for _, tv := range tmpl.Variables {
		if value, set := s.Environment[tv.EnvName]; set && tv.UserViewable {
			v.Environment[tv.EnvName] = value
		}
	}
	return v, nil
}

// respondServer answers with the caller's view of s (see shown).
func (a *API) respondServer(c *gin.Context, status int, s *store.Server, perms []string) {
	v, err := a.shown(c, s, perms, map[string]*store.Template{})
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, status, v)
}

func (a *API) listServers(c *gin.Context) {
	p := principalOf(c)
	f := store.ServerFilter{}
	if !p.Admin {
		f.AccessibleBy = p.UserID
	}
	ss, err := a.Store.ListServers(c.Request.Context(), f)
	if err != nil {
		a.fail(c, err)
		return
	}
	grants, err := a.Store.SubuserGrants(c.Request.Context(), p.UserID)
	if err != nil {
		a.fail(c, err)
		return
	}
	out := make([]serverView, 0, len(ss))
	tmpls := map[string]*store.Template{}
	for _, s := range ss {
		access := rbac.ServerAccess{Owner: s.OwnerID == p.UserID, Granted: grants[s.ID]}
		if !p.CanOnServer(rbac.ServerRead, access) {
			continue
		}
		v, err := a.shown(c, s, p.Effective(access), tmpls)
		if err != nil {
			a.fail(c, err)
			return
		}
		if st, ok := a.Metrics.LatestServer(s.ID); ok {
			v.Stats = &st
		}
		out = append(out, v)
	}
	respond(c, http.StatusOK, out)
}

func (a *API) getServer(c *gin.Context) {
	srv, p, access := serverOf(c), principalOf(c), accessOf(c)
	v, err := a.shown(c, srv, p.Effective(access), map[string]*store.Template{})
	if err != nil {
		a.fail(c, err)
		return
	}
	sftp, err := a.sftpOf(c, srv, p, access)
	if err != nil {
		a.fail(c, err)
		return
	}
	v.SFTP = sftp
	respond(c, http.StatusOK, v)
}

// --- subusers ---

type subuserView struct {
	UserID      string    `json:"user_id"`
	Email       string    `json:"email"`
	Username    string    `json:"username"`
	Permissions []string  `json:"permissions"`
	CreatedAt   time.Time `json:"created_at"`
}

func viewSubuser(s *store.Subuser) subuserView {
	v := subuserView{UserID: s.UserID, Permissions: s.Permissions, CreatedAt: s.CreatedAt}
	if s.User != nil {
		v.Email, v.Username = s.User.Email, s.User.Username
	}
	return v
}

type subuserCreate struct {
	Email       string   `json:"email"`
	Permissions []string `json:"permissions"`
}

type subuserUpdate struct {
	Permissions []string `json:"permissions"`
}

// checkGrant refuses unknown permissions and any the granting principal
// does not hold itself, so subuser.manage cannot be used to escalate.
func (a *API) checkGrant(c *gin.Context, perms []string) error {
	if perms == nil {
		return invalidField("permissions", "is required (an empty list grants nothing)")
	}
	p, access := principalOf(c), accessOf(c)
	for _, perm := range perms {
		if !rbac.IsServerPermission(perm) {
			return invalidField("permissions", "%q is not a server permission", perm)
		}
		if !p.CanOnServer(rbac.Permission(perm), access) {
			return invalidField("permissions", "you cannot grant %q: you do not hold it", perm)
		}
	}
	return nil
}

func (a *API) listSubusers(c *gin.Context) {
	us, err := a.Store.ListSubusers(c.Request.Context(), serverOf(c).ID)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, viewAll(us, viewSubuser))
}

func (a *API) createSubuser(c *gin.Context) {
	var req subuserCreate
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if err := a.checkGrant(c, req.Permissions); err != nil {
		a.fail(c, err)
		return
	}
	srv := serverOf(c)
	u, err := a.Store.UserByEmail(c.Request.Context(), normalizeEmailLoose(req.Email))
	if err != nil {
		a.fail(c, invalidField("email", "no account has this email; the user must register first"))
		return
	}
	if u.ID == srv.OwnerID {
		a.fail(c, invalidField("email", "is the server's owner, who holds every permission already"))
		return
	}
	sub := &store.Subuser{ServerID: srv.ID, UserID: u.ID, Permissions: slices.Compact(slices.Sorted(slices.Values(req.Permissions))), User: u}
	if err := a.Store.CreateSubuser(c.Request.Context(), sub); err != nil {
		a.fail(c, err)
		return
	}
	a.record(c, "subuser.create", "user", u.ID, srv.ID, store.OutcomeSuccess, map[string]any{"permissions": sub.Permissions})
	respond(c, http.StatusCreated, viewSubuser(sub))
}

func (a *API) getSubuser(c *gin.Context) {
	sub, err := a.Store.Subuser(c.Request.Context(), serverOf(c).ID, c.Param("uid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, viewSubuser(sub))
}

func (a *API) updateSubuser(c *gin.Context) {
	var req subuserUpdate
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if err := a.checkGrant(c, req.Permissions); err != nil {
		a.fail(c, err)
		return
	}
	srv := serverOf(c)
	perms := slices.Compact(slices.Sorted(slices.Values(req.Permissions)))
	if err := a.Store.UpdateSubuserPermissions(c.Request.Context(), srv.ID, c.Param("uid"), perms); err != nil {
		a.fail(c, err)
		return
	}
	sub, err := a.Store.Subuser(c.Request.Context(), srv.ID, c.Param("uid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	a.record(c, "subuser.update", "user", sub.UserID, srv.ID, store.OutcomeSuccess, map[string]any{"permissions": perms})
	a.Live.Revoke(srv.ID)
	a.revokeSFTPOnServer(srv, sub.UserID)
	respond(c, http.StatusOK, viewSubuser(sub))
}

func (a *API) deleteSubuser(c *gin.Context) {
	srv := serverOf(c)
	if err := a.Store.DeleteSubuser(c.Request.Context(), srv.ID, c.Param("uid")); err != nil {
		a.fail(c, err)
		return
	}
	a.record(c, "subuser.delete", "user", c.Param("uid"), srv.ID, store.OutcomeSuccess, nil)
	a.Live.Revoke(srv.ID)
	a.revokeSFTPOnServer(srv, c.Param("uid"))
	c.Status(http.StatusNoContent)
}
