package api

import (
	"net/http"
	"strconv"
	"strings"

	"catalyst.dev/core/internal/backups"
	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"github.com/gin-gonic/gin"
)

type serverCreate struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// OwnerID defaults to the caller.
	OwnerID    string `json:"owner_id"`
	NodeID     string `json:"node_id"`
	TemplateID string `json:"template_id"`
	// Image defaults to the template's first image.
	Image      string `json:"image"`
	MemoryMB   int64  `json:"memory_mb"`
	CPUPercent int64  `json:"cpu_percent"`
	DiskMB     int64  `json:"disk_mb"`
	// PidsLimit defaults to 2048.
	PidsLimit   int64             `json:"pids_limit"`
	Environment map[string]string `json:"environment"`
	// AllocationID defaults to the node's first free allocation.
	AllocationID string `json:"allocation_id"`
	// Restart is what the node does when the process exits unasked;
	// omitted fields take the defaults (on_crash, 5 restarts in 600 s).
	Restart *servers.RestartPolicy `json:"restart"`
}

type serverUpdate struct {
	Name        *string           `json:"name"`
	Description *string           `json:"description"`
	MemoryMB    *int64            `json:"memory_mb"`
	CPUPercent  *int64            `json:"cpu_percent"`
	DiskMB      *int64            `json:"disk_mb"`
	Environment map[string]string `json:"environment"`
	// Restart replaces the restart policy (fields left out take the
	// defaults).
	Restart *servers.RestartPolicy `json:"restart"`
	// BackupLimit is how many backups the server keeps (0 turns backups
	// off, -1 returns to the core's default); administrators only.
	BackupLimit *int `json:"backup_limit"`
}

type powerRequest struct {
	// Action is start, stop, restart or kill.
	Action string `json:"action"`
}

type commandRequest struct {
	Command string `json:"command"`
}

func actorOf(c *gin.Context) servers.Actor {
	p := principalOf(c)
	return servers.Actor{UserID: p.UserID, Admin: p.Admin}
}

// serverAudit records an action on a server, its outcome taken from err.
func (a *API) serverAudit(c *gin.Context, action, serverID string, err error, meta map[string]any) {
	a.recordResult(c, action, "server", serverID, serverID, err, meta)
}

func (a *API) createServer(c *gin.Context) {
	var req serverCreate
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	srv, err := a.Servers.Create(c.Request.Context(), servers.NewServer(req), actorOf(c))
	if err != nil {
		a.recordResult(c, "server.create", "node", req.NodeID, "", err, map[string]any{"name": req.Name})
		a.fail(c, err)
		return
	}
	a.serverAudit(c, "server.create", srv.ID, nil, map[string]any{"name": srv.Name, "node_id": srv.NodeID, "template_id": srv.TemplateID, "owner_id": srv.OwnerID})
	p := principalOf(c)
	a.respondServer(c, http.StatusCreated, srv, p.Effective(rbac.ServerAccess{Owner: srv.OwnerID == p.UserID}))
}

func (a *API) updateServer(c *gin.Context) {
	var req serverUpdate
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	id := serverOf(c).ID
	srv, err := a.Servers.Update(c.Request.Context(), serverOf(c), servers.Update{Name: req.Name, Description: req.Description,
		MemoryMB: req.MemoryMB, CPUPercent: req.CPUPercent, DiskMB: req.DiskMB, Environment: req.Environment,
		Restart: req.Restart, BackupLimit: req.BackupLimit}, actorOf(c))
	meta := map[string]any{}
	if req.Name != nil {
		meta["name"] = *req.Name
	}
	for k, v := range map[string]*int64{"memory_mb": req.MemoryMB, "cpu_percent": req.CPUPercent, "disk_mb": req.DiskMB} {
		if v != nil {
			meta[k] = *v
		}
	}
	if req.Environment != nil {
		keys := make([]string, 0, len(req.Environment))
		for k := range req.Environment {
			keys = append(keys, k)
		}
		meta["environment"] = keys
	}
	if req.Restart != nil {
		meta["restart"] = *req.Restart
	}
	if req.BackupLimit != nil {
		meta["backup_limit"] = *req.BackupLimit
	}
	a.serverAudit(c, "server.update", id, err, meta)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.respondServer(c, http.StatusOK, srv, principalOf(c).Effective(accessOf(c)))
}

func (a *API) deleteServer(c *gin.Context) {
	srv := serverOf(c)
	// Its backups go first, while the server's record still says where
	// they are; a node that is offline would refuse the delete anyway, so
	// nothing is lost on its account.
	_, err := a.Gateway.Agent(srv.NodeID)
	if err == nil {
		err = a.Backups.DeleteAll(c.Request.Context(), srv)
	}
	if err == nil {
		err = a.Servers.Delete(c.Request.Context(), srv)
	}
	a.serverAudit(c, "server.delete", srv.ID, err, map[string]any{"name": srv.Name})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// powerPerm is the permission each power action needs.
var powerPerm = map[string]rbac.Permission{
	servers.ActionStart: rbac.ServerStart, servers.ActionRestart: rbac.ServerStart,
	servers.ActionStop: rbac.ServerStop, servers.ActionKill: rbac.ServerStop,
}

func (a *API) powerServer(c *gin.Context) {
	var req powerRequest
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	perm, ok := powerPerm[req.Action]
	if !ok {
		a.fail(c, invalidField("action", "must be one of %s", strings.Join(servers.Actions(), ", ")))
		return
	}
	srv := serverOf(c)
	if !principalOf(c).CanOnServer(perm, accessOf(c)) {
		a.deny(c, perm, "server", srv.ID)
		return
	}
	err := a.checkStartAllowed(srv.ID, req.Action)
	var out *store.Server
	if err == nil {
		out, err = a.Servers.Power(c.Request.Context(), srv.ID, req.Action)
	}
	a.serverAudit(c, "server.power."+req.Action, srv.ID, err, nil)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.respondServer(c, http.StatusAccepted, out, principalOf(c).Effective(accessOf(c)))
}

func (a *API) serverCommand(c *gin.Context) {
	var req commandRequest
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	srv := serverOf(c)
	err := a.Servers.Command(c.Request.Context(), srv, req.Command)
	// The command itself may hold secrets (rcon passwords): record its size.
	a.serverAudit(c, "server.command", srv.ID, err, map[string]any{"bytes": len(req.Command)})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type consoleLog struct {
	Lines []string `json:"lines"`
}

func (a *API) serverLogs(c *gin.Context) {
	lines := 100
	if v := c.Query("lines"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			a.fail(c, invalidField("lines", "%q is not a number", v))
			return
		}
		lines = n
	}
	out, err := a.Servers.Logs(c.Request.Context(), serverOf(c), lines)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, consoleLog{Lines: out})
}

func (a *API) reinstallServer(c *gin.Context) {
	srv := serverOf(c)
	// An installer rewriting the files would race a backup reading them
	// or a restore replacing them.
	var out *store.Server
	var err error
	if a.Backups.Busy(srv.ID) {
		err = backups.ErrBusy
	} else {
		out, err = a.Servers.Reinstall(c.Request.Context(), srv.ID)
	}
	a.serverAudit(c, "server.reinstall", srv.ID, err, nil)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.respondServer(c, http.StatusAccepted, out, principalOf(c).Effective(accessOf(c)))
}

// agentConnect is the agent tunnel. The gateway authenticates the agent
// itself (node credential, not a user's); a refusal before the upgrade is
// an error in the usual envelope.
func (a *API) agentConnect(c *gin.Context) {
	if err := a.Gateway.Connect(c.Writer, c.Request); err != nil {
		a.fail(c, err)
	}
}

// importImage streams the request body to the node's agent unbuffered;
// the route's body limit caps its size.
func (a *API) importImage(c *gin.Context) {
	n, err := a.Store.NodeByID(c.Request.Context(), c.Param("nid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	if c.Request.Body == nil || c.Request.ContentLength == 0 {
		a.fail(c, badRequest("missing_body", "send the image archive (a tar) as the request body"))
		return
	}
	agent, err := a.Gateway.Agent(n.ID)
	if err != nil {
		a.fail(c, err)
		return
	}
	res, err := agent.ImportImage(c.Request.Context(), c.Request.Body)
	a.recordResult(c, "admin.node.image_import", "node", n.ID, "", err, map[string]any{"images": res.Images})
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, res)
}
