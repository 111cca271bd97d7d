package api

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"catalyst.dev/core/internal/backups"
	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"github.com/gin-gonic/gin"
)

// Backups: the records are the core's, the archives live in the nodes'
// backup stores (see package backups). Every action is audited as
// server.backup.*; reading the list is not.

const backupsPath = "/api/servers/:id/backups"

type backupCreate struct {
	// Name labels the backup; empty takes the time.
	Name string `json:"name"`
	// Store is one of the node's backup stores (GET /api/admin/nodes/:nid
	// lists them); empty takes backups.default_store, or the node's first.
	Store string `json:"store"`
	// Locked keeps the backup from rotation and deletion.
	Locked bool `json:"locked"`
}

type backupUpdate struct {
	Name   *string `json:"name"`
	Locked *bool   `json:"locked"`
}

type backupRestore struct {
	// Wipe deletes the files the backup does not hold; without it they
	// stay, and those it holds are replaced.
	Wipe bool `json:"wipe"`
}

// backupPerms are the permissions that each let a user see a server's
// backups: whoever may act on them may list them.
var backupPerms = []rbac.Permission{rbac.BackupCreate, rbac.BackupRestore, rbac.BackupDelete, rbac.BackupDownload}

// requireAnyBackupPerm ends the request with 403 unless the caller holds
// one of backupPerms on the server.
func (a *API) requireAnyBackupPerm(c *gin.Context) bool {
	p, access := principalOf(c), accessOf(c)
	for _, perm := range backupPerms {
		if p.CanOnServer(perm, access) {
			return true
		}
	}
	// Any one of them would do: the refusal names the family.
	a.deny(c, "backup.*", "server", serverOf(c).ID)
	return false
}

// bindOptional is bind for a body whose fields are all optional: an empty
// body is the zero value.
func bindOptional(c *gin.Context, v any) error {
	if c.Request.Body == nil || c.Request.ContentLength == 0 {
		return nil
	}
	return bind(c, v)
}

// backupAudit records an action on one of a server's backups.
func (a *API) backupAudit(c *gin.Context, action string, b *store.Backup, backupID string, err error, meta map[string]any) {
	if meta == nil {
		meta = map[string]any{}
	}
	meta["backup_id"] = backupID
	if b != nil {
		meta["backup_id"], meta["name"], meta["store"] = b.ID, b.Name, b.Store
	}
	a.serverAudit(c, action, serverOf(c).ID, err, meta)
}

func (a *API) listBackups(c *gin.Context) {
	if !a.requireAnyBackupPerm(c) {
		return
	}
	bs, err := a.Backups.List(c.Request.Context(), serverOf(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, viewAll(bs, backups.ViewOf))
}

func (a *API) getBackup(c *gin.Context) {
	if !a.requireAnyBackupPerm(c) {
		return
	}
	b, err := a.Backups.Get(c.Request.Context(), serverOf(c), c.Param("bid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, backups.ViewOf(b))
}

func (a *API) createBackup(c *gin.Context) {
	var req backupCreate
	if err := bindOptional(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	b, err := a.Backups.Create(c.Request.Context(), serverOf(c), backups.NewBackup(req), principalOf(c).UserID)
	meta := map[string]any{"locked": req.Locked}
	if b == nil {
		meta["name"], meta["store"] = req.Name, req.Store
	}
	a.backupAudit(c, "server.backup.create", b, "", err, meta)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusAccepted, backups.ViewOf(b))
}

func (a *API) updateBackup(c *gin.Context) {
	var req backupUpdate
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	b, err := a.Backups.Update(c.Request.Context(), serverOf(c), c.Param("bid"), backups.Update(req))
	meta := map[string]any{}
	if req.Locked != nil {
		meta["locked"] = *req.Locked
	}
	if req.Name != nil {
		meta["new_name"] = *req.Name
	}
	a.backupAudit(c, "server.backup.update", b, c.Param("bid"), err, meta)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, backups.ViewOf(b))
}

func (a *API) deleteBackup(c *gin.Context) {
	b, err := a.Backups.Delete(c.Request.Context(), serverOf(c), c.Param("bid"))
	a.backupAudit(c, "server.backup.delete", b, c.Param("bid"), err, nil)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *API) restoreBackup(c *gin.Context) {
	var req backupRestore
	if err := bindOptional(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	b, err := a.Backups.Restore(c.Request.Context(), serverOf(c), c.Param("bid"), req.Wipe)
	a.backupAudit(c, "server.backup.restore", b, c.Param("bid"), err, map[string]any{"wipe": req.Wipe})
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusAccepted, backups.ViewOf(b))
}

// downloadBackup streams a backup's archive from the node holding it.
func (a *API) downloadBackup(c *gin.Context) {
	d, err := a.Backups.Download(c.Request.Context(), serverOf(c), c.Param("bid"))
	if err != nil {
		a.backupAudit(c, "server.backup.download", nil, c.Param("bid"), err, nil)
		a.fail(c, err)
		return
	}
	defer d.Body.Close()
	h := c.Writer.Header()
	h.Set("Content-Type", d.ContentType)
	h.Set("Content-Length", strconv.FormatInt(d.Size, 10))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.Filename}))
	c.Status(http.StatusOK)
	c.Writer.WriteHeaderNow()
	n, err := io.Copy(c.Writer, d.Body)
	if err != nil {
		// The status is gone already: the client sees a short body.
		err = fmt.Errorf("%w: after %d of %d bytes: %w", errBackupStreamCut, n, d.Size, err)
	}
	a.backupAudit(c, "server.backup.download", d.Backup, d.Backup.ID, err, map[string]any{"bytes": n})
}

var errBackupStreamCut = &Error{Status: http.StatusBadGateway, Code: "stream_interrupted", Message: "the backup's stream ended before its end"}

// checkStartAllowed refuses to start a server that a restore (or a backup
// that stopped it) keeps stopped; other actions pass.
func (a *API) checkStartAllowed(serverID, action string) error {
	if (action == servers.ActionStart || action == servers.ActionRestart) && a.Backups.KeepsStopped(serverID) {
		return backups.ErrHeldStopped
	}
	return nil
}
