// Package gateway is the core's end of the agent tunnels: it authenticates
// an agent's WebSocket, runs the yamux session over it, reads the agent's
// event stream in order and hands the events to a Handler, serves the
// requests the agent sends the core with the Remote handler, and gives the
// rest of the core a typed client of each connected agent's API.
//
// The protocol is defined in catalyst.dev/sdk/wire.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"catalyst.dev/core/internal/nodes"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
	"github.com/gorilla/websocket"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/yamux"
)

// Errors Connect returns before upgrading; the API maps them to statuses.
var (
	// ErrUnauthenticated is a missing or wrong node ID or credential.
	ErrUnauthenticated = errors.New("send the node ID in " + wire.HeaderNode + " and Authorization: Bearer <node credential>")
	// ErrNotWebSocket is a request that does not ask for a WebSocket.
	ErrNotWebSocket = errors.New("the agent tunnel is a WebSocket: send an Upgrade: websocket request")
	// ErrNodeOffline is a node without a tunnel.
	ErrNodeOffline = errors.New("node is offline")
	// ErrClosed is the gateway shutting down.
	ErrClosed = errors.New("gateway is shutting down")
)

// ProtocolError is an agent speaking a tunnel protocol this core does not.
type ProtocolError struct{ Err error }

func (e *ProtocolError) Error() string { return e.Err.Error() }
func (e *ProtocolError) Unwrap() error { return e.Err }

// Handler receives what agents say. Calls for one node come from one
// goroutine, in the order the agent sent them; OnHello comes first and
// OnDisconnect last for each tunnel, and a replaced tunnel's calls end
// before the new tunnel's begin.
type Handler interface {
	// OnHello is called once the agent is welcomed; its client is usable.
	OnHello(ctx context.Context, nodeID string, h wire.Hello)
	// OnEvent is called for every event after the hello but heartbeats.
	OnEvent(ctx context.Context, nodeID string, e wire.Envelope)
	// OnDisconnect is called when the node's tunnel closes and no other
	// replaced it.
	OnDisconnect(nodeID string)
}

// Authenticator checks an agent's node ID and credential.
type Authenticator interface {
	Authenticate(ctx context.Context, nodeID, credential string) (*store.Node, error)
}

// Options tunes the gateway; zero fields take the defaults.
type Options struct {
	// HeartbeatInterval is told to agents in Welcome (default 10s).
	HeartbeatInterval time.Duration
	// OfflineAfter is the silence after which a tunnel is closed (30s).
	OfflineAfter time.Duration
	// HelloTimeout bounds the wait for the event stream and Hello (10s).
	HelloTimeout time.Duration
	// TouchEvery is the least time between two last_seen_at writes (5s).
	TouchEvery time.Duration
	// RemoteStreams bounds the requests one agent may have in flight to
	// the core at once (64); more are answered 503.
	RemoteStreams int
}

func (o *Options) defaults() {
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 10 * time.Second
	}
	if o.OfflineAfter <= 0 {
		o.OfflineAfter = 3 * o.HeartbeatInterval
	}
	if o.HelloTimeout <= 0 {
		o.HelloTimeout = 10 * time.Second
	}
	if o.TouchEvery <= 0 {
		o.TouchEvery = 5 * time.Second
	}
	if o.RemoteStreams <= 0 {
		o.RemoteStreams = 64
	}
}

// maxMessageBytes bounds one WebSocket message: yamux writes at most a
// stream window (wire.SessionConfig) plus a header per message.
const maxMessageBytes = 16 << 20

// Info is what the core knows of a connected agent.
type Info struct {
	AgentVersion string
	Capabilities []string
	Resources    wire.Resources
	// SFTPAddr is where the agent serves SFTP (wire.Hello), empty when off.
	SFTPAddr string
	// BackupStores names the agent's backup stores (wire.Hello).
	BackupStores []string
	ConnectedAt  time.Time
}

// Gateway accepts agent tunnels. Create it with New, give it its Handler
// with SetHandler (and the agents' requests' handler with SetRemote)
// before it serves, and Close it on shutdown.
type Gateway struct {
	store *store.Store
	auth  Authenticator
	log   hclog.Logger
	opts  Options

	upgrader websocket.Upgrader

	handler Handler
	remote  http.Handler
	ctx     context.Context // cancelled by Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup // tunnels being served

	mu     sync.Mutex
	conns  map[string]*conn
	closed bool
}

// New returns a gateway that authenticates agents with auth and records
// their version and last contact in s.
func New(s *store.Store, auth Authenticator, log hclog.Logger, opts Options) *Gateway {
	opts.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Gateway{
		store: s, auth: auth, log: log, opts: opts,
		// Agents are not browsers and authenticate with a header, never a
		// cookie, so a cross-origin page gains nothing: no origin check.
		upgrader: websocket.Upgrader{
			CheckOrigin:     func(*http.Request) bool { return true },
			ReadBufferSize:  wire.TunnelBufferSize,
			WriteBufferSize: wire.TunnelBufferSize,
		},
		ctx: ctx, cancel: cancel, conns: map[string]*conn{},
	}
}

// SetHandler sets who receives agent events. It breaks the construction
// cycle between the gateway and the service that handles its events (which
// calls agents through the gateway); call it before serving.
func (g *Gateway) SetHandler(h Handler) { g.handler = h }

// conn is one node's tunnel.
type conn struct {
	nodeID string
	sess   *yamux.Session
	stream *yamux.Stream
	events *wire.EventReader // holds bytes read past the hello
	client *Client
	info   Info
	done   chan struct{} // closed when the reader has returned

	mu     sync.Mutex
	reason string // why the core closed it, for the log
}

func (c *conn) close(reason string) {
	c.mu.Lock()
	if c.reason == "" {
		c.reason = reason
	}
	c.mu.Unlock()
	_ = c.sess.Close()
}

func (c *conn) closeReason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// Connect serves GET wire.PathConnect. It returns an error, and writes
// nothing, when it refuses the request before upgrading: ErrUnauthenticated,
// ErrNotWebSocket, *ProtocolError, ErrClosed or a store error. Once
// upgraded it runs the tunnel until it ends and returns nil.
func (g *Gateway) Connect(w http.ResponseWriter, r *http.Request) error {
	nodeID := strings.TrimSpace(r.Header.Get(wire.HeaderNode))
	credential, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if nodeID == "" || !ok || credential == "" {
		return ErrUnauthenticated
	}
	node, err := g.auth.Authenticate(r.Context(), nodeID, credential)
	if errors.Is(err, nodes.ErrInvalidToken) {
		g.log.Warn("agent refused: unknown node or wrong credential", "node", nodeID, "remote", r.RemoteAddr)
		return ErrUnauthenticated
	}
	if err != nil {
		return fmt.Errorf("authenticate agent: %w", err)
	}
	v, _ := strconv.Atoi(r.Header.Get(wire.HeaderProtocol))
	if err := wire.CheckProtocol(v); err != nil {
		g.log.Warn("agent refused: protocol", "node", node.ID, "agent_version", r.Header.Get(wire.HeaderAgent), "error", err)
		return &ProtocolError{Err: err}
	}
	if !websocket.IsWebSocketUpgrade(r) {
		return ErrNotWebSocket
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return ErrClosed
	}
	g.wg.Add(1)
	g.mu.Unlock()
	defer g.wg.Done()

	ws, err := g.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader has answered the client already.
		g.log.Warn("agent WebSocket upgrade failed", "node", node.ID, "error", err)
		return nil
	}
	ws.SetReadLimit(maxMessageBytes)
	g.serve(node, ws)
	return nil
}

// serve runs one upgraded tunnel until it ends.
func (g *Gateway) serve(node *store.Node, ws *websocket.Conn) {
	log := g.log.With("node", node.ID, "node_name", node.Name)
	sess, err := yamux.Server(wire.NetConn(ws), wire.SessionConfig())
	if err != nil {
		log.Error("start tunnel session", "error", err)
		_ = ws.Close()
		return
	}
	helloCtx, cancel := context.WithTimeout(g.ctx, g.opts.HelloTimeout)
	stream, events, hello, err := wire.AcceptHello(helloCtx, sess)
	cancel()
	if err != nil {
		log.Warn("agent handshake failed", "error", err)
		_ = sess.Close()
		return
	}

	c := &conn{nodeID: node.ID, sess: sess, stream: stream, events: events, client: newClient(node.ID, sess), done: make(chan struct{}),
		info: Info{AgentVersion: hello.AgentVersion, Capabilities: hello.Capabilities, Resources: hello.Resources, SFTPAddr: hello.SFTPAddr, BackupStores: hello.BackupStores, ConnectedAt: time.Now()}}
	if old := g.register(c); old != nil {
		log.Info("agent reconnected: closing its previous tunnel")
		old.close("replaced by a new tunnel")
		<-old.done
	}
	defer g.unregister(c)
	if g.closedNow() {
		c.close("gateway shutting down")
		return
	}
	// Welcome goes out once the node is registered, so an agent that has
	// it can be called at once.
	_ = stream.SetWriteDeadline(time.Now().Add(g.opts.HelloTimeout))
	if err := wire.NewEventWriter(stream).Write(wire.EventWelcome, wire.Welcome{
		ProtocolVersion: wire.ProtocolVersion, NodeID: node.ID,
		HeartbeatInterval: wire.Duration(g.opts.HeartbeatInterval),
	}); err != nil {
		log.Warn("write welcome", "error", err)
		return
	}
	_ = stream.SetWriteDeadline(time.Time{})

	seen := time.Now().UTC()
	node.AgentVersion, node.LastSeenAt = hello.AgentVersion, &seen
	if err := g.store.UpdateNode(g.ctx, node, "agent_version", "last_seen_at"); err != nil {
		log.Error("record agent contact", "error", err)
	}
	log.Info("agent connected", "agent_version", hello.AgentVersion, "servers", len(hello.Servers), "remote", ws.RemoteAddr().String())

	ctx, cancel := context.WithCancel(g.ctx)
	defer cancel()
	stopRemote := g.serveRemote(ctx, c, log)
	defer stopRemote()
	g.handler.OnHello(ctx, node.ID, hello)
	g.read(ctx, c, node, log)
}

// read hands events to the handler in order until the tunnel ends. Each
// read waits at most OfflineAfter: an agent that stays silent longer is
// dropped and its node is offline.
func (g *Gateway) read(ctx context.Context, c *conn, node *store.Node, log hclog.Logger) {
	lastTouch := time.Now() // serve recorded the contact with the hello
	for {
		_ = c.stream.SetReadDeadline(time.Now().Add(g.opts.OfflineAfter))
		e, err := c.events.Read()
		if err != nil {
			switch reason := c.closeReason(); {
			case reason != "":
				log.Info("agent tunnel closed", "reason", reason)
			case errors.Is(err, wire.ErrEventTooLarge):
				log.Warn("agent disconnected: event over the size limit", "limit_bytes", wire.MaxEventBytes)
			case isTimeout(err):
				log.Warn("agent disconnected: silent too long, node marked offline", "silence", g.opts.OfflineAfter)
			case c.sess.IsClosed(), errors.Is(err, io.EOF):
				log.Info("agent tunnel closed by the agent or the network")
			default:
				log.Warn("agent disconnected: unreadable event stream", "error", err)
			}
			return
		}
		if now := time.Now(); now.Sub(lastTouch) >= g.opts.TouchEvery {
			lastTouch = now
			seen := now.UTC()
			node.LastSeenAt = &seen
			if err := g.store.UpdateNode(ctx, node, "last_seen_at"); err != nil && ctx.Err() == nil {
				log.Error("record agent contact", "error", err)
			}
		}
		switch e.Type {
		case wire.EventHeartbeat:
		case wire.EventHello:
			log.Warn("agent sent a second hello; ignored")
		default:
			g.handler.OnEvent(ctx, c.nodeID, e)
		}
	}
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.Is(err, yamux.ErrTimeout) || (errors.As(err, &ne) && ne.Timeout())
}

func (g *Gateway) register(c *conn) *conn {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := g.conns[c.nodeID]
	g.conns[c.nodeID] = c
	return old
}

// unregister forgets c and, unless a newer tunnel replaced it, tells the
// handler the node is gone.
func (g *Gateway) unregister(c *conn) {
	c.close("")
	g.mu.Lock()
	current := g.conns[c.nodeID] == c
	if current {
		delete(g.conns, c.nodeID)
	}
	g.mu.Unlock()
	if current {
		g.handler.OnDisconnect(c.nodeID)
	}
	close(c.done)
}

func (g *Gateway) closedNow() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}

// Agent returns the client of a connected node's agent, or an error
// wrapping ErrNodeOffline.
func (g *Gateway) Agent(nodeID string) (*Client, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.conns[nodeID]
	if !ok {
		return nil, fmt.Errorf("%w: node %s has no agent connected", ErrNodeOffline, nodeID)
	}
	return c.client, nil
}

// Online reports whether the node's agent is connected.
func (g *Gateway) Online(nodeID string) bool {
	_, ok := g.Info(nodeID)
	return ok
}

// Info describes a connected node's agent; ok is false when offline.
func (g *Gateway) Info(nodeID string) (Info, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.conns[nodeID]
	if !ok {
		return Info{}, false
	}
	return c.info, true
}

// OnlineNodes lists the nodes whose agent is connected, in no order.
func (g *Gateway) OnlineNodes() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	ids := make([]string, 0, len(g.conns))
	for id := range g.conns {
		ids = append(ids, id)
	}
	return ids
}

// OnlineCount counts the nodes whose agent is connected.
func (g *Gateway) OnlineCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns)
}

// Disconnect closes a node's tunnel, if any (the agent will reconnect).
func (g *Gateway) Disconnect(nodeID, reason string) {
	g.mu.Lock()
	c := g.conns[nodeID]
	g.mu.Unlock()
	if c != nil {
		c.close(reason)
	}
}

// Close closes every tunnel, refuses new ones and waits for their readers
// to return.
func (g *Gateway) Close() {
	g.mu.Lock()
	g.closed = true
	conns := make([]*conn, 0, len(g.conns))
	for _, c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	g.cancel()
	for _, c := range conns {
		c.close("gateway shutting down")
	}
	g.wg.Wait()
}
