package sftpauth

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
)

// Agents is what the Revoker needs of the gateway.
type Agents interface {
	Agent(nodeID string) (*gateway.Client, error)
	OnlineNodes() []string
}

// revokeTimeout bounds one revocation sent to one agent.
const revokeTimeout = 10 * time.Second

// Revoker closes SFTP sessions that lost their access: it sends
// wire.SFTPRevoke to the agents concerned. Sending happens in the
// background, bounded by a timeout, so that the request that caused it
// never waits for a node; a failure is logged, not retried. A node that
// is offline then is not told: its open sessions last until they end,
// while every new login is decided by the core again.
type Revoker struct {
	store  *store.Store
	agents Agents
	log    hclog.Logger

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// NewRevoker returns a Revoker sending through agents; s finds the node
// of a server named by a state change.
func NewRevoker(s *store.Store, agents Agents, log hclog.Logger) *Revoker {
	ctx, cancel := context.WithCancel(context.Background())
	return &Revoker{store: s, agents: agents, log: log, ctx: ctx, cancel: cancel}
}

// RevokeServer closes, on the server's node, the sessions on serverID of
// userID, or of every user when userID is "".
func (r *Revoker) RevokeServer(nodeID, serverID, userID string) {
	r.spawn(func(ctx context.Context) {
		r.send(ctx, nodeID, wire.SFTPRevoke{UserID: userID, ServerID: serverID})
	})
}

// RevokeUser closes userID's sessions on every connected node.
func (r *Revoker) RevokeUser(userID string) {
	r.spawn(func(ctx context.Context) {
		var wg sync.WaitGroup
		for _, node := range r.agents.OnlineNodes() {
			wg.Go(func() { r.send(ctx, node, wire.SFTPRevoke{UserID: userID}) })
		}
		wg.Wait()
	})
}

// OnChange is a servers.Observer: a server that starts installing, moves
// or is suspended closes every session on it (new logins are refused in
// those states).
func (r *Revoker) OnChange(ch servers.Change) {
	switch ch.To {
	case store.StateInstalling, store.StateTransferring, store.StateSuspended:
	default:
		return
	}
	r.spawn(func(ctx context.Context) {
		srv, err := r.store.ServerByID(ctx, ch.ServerID)
		if err != nil {
			r.log.Warn("sftp sessions not revoked: server not found", "server", ch.ServerID, "state", ch.To, "error", err)
			return
		}
		r.send(ctx, srv.NodeID, wire.SFTPRevoke{ServerID: srv.ID})
	})
}

// spawn runs fn in the background unless the Revoker is closed.
func (r *Revoker) spawn(fn func(ctx context.Context)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.wg.Go(func() {
		ctx, cancel := context.WithTimeout(r.ctx, revokeTimeout)
		defer cancel()
		fn(ctx)
	})
}

func (r *Revoker) send(ctx context.Context, nodeID string, rv wire.SFTPRevoke) {
	c, err := r.agents.Agent(nodeID)
	if errors.Is(err, gateway.ErrNodeOffline) {
		return
	}
	if err != nil {
		r.log.Warn("sftp sessions not revoked", "node", nodeID, "user", rv.UserID, "server", rv.ServerID, "error", err)
		return
	}
	out, err := c.RevokeSFTP(ctx, rv)
	var ae *gateway.AgentError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		// An agent without SFTP has nothing to close.
		r.log.Debug("agent serves no sftp; nothing to revoke", "node", nodeID)
	case err != nil:
		r.log.Warn("sftp sessions not revoked", "node", nodeID, "user", rv.UserID, "server", rv.ServerID, "error", err)
	case out.Closed > 0:
		r.log.Info("sftp sessions revoked", "node", nodeID, "user", rv.UserID, "server", rv.ServerID, "closed", out.Closed)
	}
}

// Close cancels the revocations in flight, refuses new ones and waits for
// them to end.
func (r *Revoker) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}
