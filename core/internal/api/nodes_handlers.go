package api

import (
	"net/http"
	"strings"
	"time"

	"catalyst.dev/core/internal/nodes"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
	"github.com/gin-gonic/gin"
)

type nodeView struct {
	ID                 string     `json:"id"`
	Name               string     `json:"name"`
	FQDN               string     `json:"fqdn"`
	MemoryMB           int64      `json:"memory_mb"`
	MemoryOverallocate int        `json:"memory_overallocate"`
	DiskMB             int64      `json:"disk_mb"`
	DiskOverallocate   int        `json:"disk_overallocate"`
	Maintenance        bool       `json:"maintenance"`
	Enrolled           bool       `json:"enrolled"`
	AgentVersion       string     `json:"agent_version"`
	LastSeenAt         *time.Time `json:"last_seen_at"`
	CreatedAt          time.Time  `json:"created_at"`
	// Online says the node's agent is connected; Agent describes it then.
	Online bool       `json:"online"`
	Agent  *agentView `json:"agent"`
}

type agentView struct {
	Version      string         `json:"version"`
	Capabilities []string       `json:"capabilities"`
	Resources    wire.Resources `json:"resources"`
	ConnectedAt  time.Time      `json:"connected_at"`
}

func (a *API) viewNode(n *store.Node) nodeView {
	v := viewNode(n)
	if info, ok := a.Gateway.Info(n.ID); ok {
		v.Online = true
		v.Agent = &agentView{Version: info.AgentVersion, Capabilities: info.Capabilities, Resources: info.Resources, ConnectedAt: info.ConnectedAt}
	}
	return v
}

func viewNode(n *store.Node) nodeView {
	return nodeView{ID: n.ID, Name: n.Name, FQDN: n.FQDN, MemoryMB: n.MemoryMB, MemoryOverallocate: n.MemoryOverallocate,
		DiskMB: n.DiskMB, DiskOverallocate: n.DiskOverallocate, Maintenance: n.Maintenance, Enrolled: n.CredentialHash != "",
		AgentVersion: n.AgentVersion, LastSeenAt: n.LastSeenAt, CreatedAt: n.CreatedAt}
}

type nodeCreate struct {
	Name               string `json:"name"`
	FQDN               string `json:"fqdn"`
	MemoryMB           int64  `json:"memory_mb"`
	DiskMB             int64  `json:"disk_mb"`
	MemoryOverallocate int    `json:"memory_overallocate,omitempty"`
	DiskOverallocate   int    `json:"disk_overallocate,omitempty"`
}

type nodeCreated struct {
	Node nodeView `json:"node"`
	// DeployToken is shown once; it is exchanged by the agent within 24 h.
	DeployToken  string `json:"deploy_token"`
	AgentCommand string `json:"agent_command"`
}

func (a *API) listNodes(c *gin.Context) {
	ns, err := a.Store.ListNodes(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, viewAll(ns, a.viewNode))
}

func (a *API) createNode(c *gin.Context) {
	var req nodeCreate
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	n, token, err := a.Nodes.Create(c.Request.Context(), nodes.NewNode(req))
	if err != nil {
		a.fail(c, err)
		return
	}
	a.record(c, "admin.node.create", "node", n.ID, "", store.OutcomeSuccess, map[string]any{"name": n.Name, "fqdn": n.FQDN})
	respond(c, http.StatusCreated, nodeCreated{Node: viewNode(n), DeployToken: token, AgentCommand: nodes.AgentCommand(a.Config.PublicURL, token)})
}

func (a *API) getNode(c *gin.Context) {
	n, err := a.Store.NodeByID(c.Request.Context(), c.Param("nid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, a.viewNode(n))
}

func (a *API) deleteNode(c *gin.Context) {
	if err := a.Store.DeleteNode(c.Request.Context(), c.Param("nid")); err != nil {
		a.fail(c, err)
		return
	}
	// Its agent is no longer one of ours; a reconnect is refused.
	a.Gateway.Disconnect(c.Param("nid"), "node deleted")
	a.record(c, "admin.node.delete", "node", c.Param("nid"), "", store.OutcomeSuccess, nil)
	c.Status(http.StatusNoContent)
}

func (a *API) newNodeToken(c *gin.Context) {
	n, err := a.Store.NodeByID(c.Request.Context(), c.Param("nid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	token, err := a.Nodes.NewDeployToken(c.Request.Context(), n)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.record(c, "admin.node.token", "node", n.ID, "", store.OutcomeSuccess, nil)
	respond(c, http.StatusOK, nodeCreated{Node: viewNode(n), DeployToken: token, AgentCommand: nodes.AgentCommand(a.Config.PublicURL, token)})
}

type allocationCreate struct {
	IP string `json:"ip"`
	// Ports are single ports or ranges: ["25565", "27015-27020"].
	Ports []string `json:"ports"`
}

func (a *API) listAllocations(c *gin.Context) {
	if _, err := a.Store.NodeByID(c.Request.Context(), c.Param("nid")); err != nil {
		a.fail(c, err)
		return
	}
	as, err := a.Store.ListAllocations(c.Request.Context(), c.Param("nid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, as)
}

func (a *API) createAllocations(c *gin.Context) {
	var req allocationCreate
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	n, err := a.Store.NodeByID(c.Request.Context(), c.Param("nid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	as, err := a.Nodes.AddAllocations(c.Request.Context(), n.ID, req.IP, req.Ports)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.record(c, "admin.node.allocations", "node", n.ID, "", store.OutcomeSuccess, map[string]any{"ip": req.IP, "ports": req.Ports})
	respond(c, http.StatusCreated, as)
}

type enrolRequest struct {
	Token string `json:"token"`
}

type enrolResponse struct {
	NodeID     string `json:"node_id"`
	Credential string `json:"credential"`
	CoreURL    string `json:"core_url"`
}

func (a *API) enrolAgent(c *gin.Context) {
	var req enrolRequest
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	n, cred, err := a.Nodes.Enrol(c.Request.Context(), strings.TrimSpace(req.Token))
	if err != nil {
		a.record(c, "agent.enrol", "", "", "", store.OutcomeFailure, nil)
		a.fail(c, err)
		return
	}
	a.record(c, "agent.enrol", "node", n.ID, "", store.OutcomeSuccess, nil)
	respond(c, http.StatusOK, enrolResponse{NodeID: n.ID, Credential: cred, CoreURL: a.Config.PublicURL})
}
