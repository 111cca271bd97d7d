package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/servers"
)

// transferRequest moves a server to another node.
type transferRequest struct {
	NodeID string `json:"node_id" binding:"required"`
	// AllocationID is the target node's allocation to become primary;
	// empty takes the first free one.
	AllocationID string `json:"allocation_id"`
}

// transferServer starts a transfer and answers at once (202); its stages
// reach the server's WebSocket as transfer_progress, and its end as
// transfer_completed or transfer_failed.
func (a *API) transferServer(c *gin.Context) {
	var req transferRequest
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	srv, err := a.Store.ServerByID(ctx, c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	meta := map[string]any{"from_node": srv.NodeID, "to_node": req.NodeID}
	out, err := a.Servers.BeginTransfer(ctx, srv.ID, servers.Transfer{NodeID: req.NodeID, AllocationID: req.AllocationID})
	a.serverAudit(c, "server.transfer", srv.ID, err, meta)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.respondServer(c, http.StatusAccepted, out, principalOf(c).Effective(rbac.ServerAccess{Owner: out.OwnerID == principalOf(c).UserID}))
}
