package api

import (
	"net"
	"strconv"

	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/store"
	"github.com/gin-gonic/gin"
)

// SFTPRevoker closes SFTP sessions on the nodes (sftpauth.Revoker). Its
// calls return at once; the agents are told in the background.
type SFTPRevoker interface {
	// RevokeServer closes userID's sessions on the server, or everyone's
	// when userID is "".
	RevokeServer(nodeID, serverID, userID string)
	// RevokeUser closes userID's sessions on every node.
	RevokeUser(userID string)
}

// revokeSFTPUser closes the user's SFTP sessions everywhere, beside the
// hub's check of their sockets: their password changed, their account
// was deleted or demoted, an SSH key was removed.
func (a *API) revokeSFTPUser(userID string) {
	if a.SFTP != nil {
		a.SFTP.RevokeUser(userID)
	}
}

// revokeSFTPOnServer closes the user's SFTP sessions on srv: their
// permissions there changed or ended. They may log in again with what
// they hold now.
func (a *API) revokeSFTPOnServer(srv *store.Server, userID string) {
	if a.SFTP != nil {
		a.SFTP.RevokeServer(srv.NodeID, srv.ID, userID)
	}
}

// sftpView tells a user how to reach a server's files over SFTP.
type sftpView struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	// Username is the caller's SFTP user name for this server:
	// "<account user name>.<short id>".
	Username string `json:"username"`
}

// sftpOf is the caller's SFTP access to srv, or nil when they lack
// file.sftp or the server's node serves no SFTP (or is offline).
func (a *API) sftpOf(c *gin.Context, srv *store.Server, p *rbac.Principal, access rbac.ServerAccess) (*sftpView, error) {
	if !p.CanOnServer(rbac.FileSFTP, access) || a.Gateway == nil {
		return nil, nil
	}
	info, ok := a.Gateway.Info(srv.NodeID)
	if !ok || info.SFTPAddr == "" {
		return nil, nil
	}
	_, port, err := net.SplitHostPort(info.SFTPAddr)
	if err != nil {
		return nil, nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n > 65535 {
		return nil, nil
	}
	node, err := a.Store.NodeByID(c.Request.Context(), srv.NodeID)
	if err != nil {
		return nil, err
	}
	return &sftpView{Host: node.FQDN, Port: n, Username: userOf(c).Username + "." + srv.ShortID}, nil
}
