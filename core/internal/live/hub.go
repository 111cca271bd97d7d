// Package live is the browser side of a server's live feed: the WebSocket
// at /api/servers/:id/ws. The hub takes what agents report (console
// output, installer output, stats, daemon messages) and what the state
// machine records (status), and fans each message out to the sockets
// watching that server.
//
// A slow browser never holds anything up: each socket has a bounded queue
// that drops its oldest messages when full (and then tells the browser how
// many it lost), so the agent's event stream, the game's stdout and the
// other viewers go on at their own pace. Every message is encoded once,
// however many sockets receive it.
package live

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
	"github.com/gorilla/websocket"
	"github.com/hashicorp/go-hclog"
)

// Options tunes the hub; zero fields take the defaults.
type Options struct {
	// QueueSize is how many messages wait for one socket before the oldest
	// are dropped (512).
	QueueSize int
	// WriteTimeout bounds one write to a socket; a browser that takes
	// longer is disconnected (10s).
	WriteTimeout time.Duration
	// PingInterval is how often the core pings; a socket silent for two
	// intervals is closed (30s).
	PingInterval time.Duration
	// MaxMessageBytes is the largest message a client may send (32 KiB);
	// a larger one closes the socket with 1009.
	MaxMessageBytes int64
	// CommandRate and CommandBurst limit send_command and set_state per
	// socket (5 per second, bursts of 10).
	CommandRate  float64
	CommandBurst int
	// TokenWarning is how long before its credential expires a socket
	// gets token_expiring (60s).
	TokenWarning time.Duration
	// Recheck is how often a socket's permissions are checked again
	// (30s); Revoke checks at once.
	Recheck time.Duration
}

func (o Options) withDefaults() Options {
	if o.QueueSize <= 0 {
		o.QueueSize = 512
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 32 << 10
	}
	if o.CommandRate <= 0 {
		o.CommandRate = 5
	}
	if o.CommandBurst <= 0 {
		o.CommandBurst = 10
	}
	if o.TokenWarning <= 0 {
		o.TokenWarning = time.Minute
	}
	if o.Recheck <= 0 {
		o.Recheck = 30 * time.Second
	}
	return o
}

// Hub routes live messages to server sockets. Create it with New; it is a
// gateway.Handler (agent events) and its OnChange is a servers.Observer
// (recorded states).
type Hub struct {
	log  hclog.Logger
	opts Options

	mu     sync.RWMutex
	topics map[string]*topic // by server ID

	clients atomic.Int64
	lines   atomic.Uint64
}

// topic is the sockets watching one server.
type topic struct {
	nodeID  string
	clients map[*client]struct{}
}

// New makes a hub.
func New(log hclog.Logger, opts Options) *Hub {
	return &Hub{log: log, opts: opts.withDefaults(), topics: map[string]*topic{}}
}

var (
	_ gateway.Handler  = (*Hub)(nil)
	_ servers.Observer = (*Hub)(nil).OnChange
)

// Clients counts the open sockets.
func (h *Hub) Clients() int { return int(h.clients.Load()) }

// ConsoleLines counts the console lines agents have reported since start,
// watched or not.
func (h *Hub) ConsoleLines() uint64 { return h.lines.Load() }

func (h *Hub) add(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[c.sess.ServerID]
	if t == nil || t.nodeID != c.sess.NodeID {
		if t != nil {
			// The server moved to another node: the old sockets follow
			// the old node's events no more.
			for old := range t.clients {
				old.closeWith(CloseNodeMoved, "the server moved to another node; reconnect")
			}
		}
		t = &topic{nodeID: c.sess.NodeID, clients: map[*client]struct{}{}}
		h.topics[c.sess.ServerID] = t
	}
	t.clients[c] = struct{}{}
	h.clients.Add(1)
}

// Moved closes the sockets of a server that now runs on another node (a
// transfer ended): they follow the old node's events, and reconnecting
// follows the new one's.
func (h *Hub) Moved(serverID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.topics[serverID]; t != nil {
		for c := range t.clients {
			c.closeWith(CloseNodeMoved, "the server moved to another node; reconnect")
		}
	}
}

func (h *Hub) remove(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[c.sess.ServerID]
	if t == nil {
		return
	}
	if _, ok := t.clients[c]; !ok {
		return
	}
	delete(t.clients, c)
	h.clients.Add(-1)
	if len(t.clients) == 0 {
		delete(h.topics, c.sess.ServerID)
	}
}

// publish queues msg (which needs class) on every socket of the server,
// when the event came from the server's node. nodeID "" is the core.
func (h *Hub) publish(nodeID, serverID string, class class, msg func() []byte) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	t := h.topics[serverID]
	if t == nil || (nodeID != "" && t.nodeID != nodeID) {
		return
	}
	var b []byte
	for c := range t.clients {
		if !c.allows(class) {
			continue
		}
		if b == nil {
			if b = msg(); b == nil {
				return
			}
		}
		c.push(b)
	}
}

// Publish sends a message the core made (a backup finished, a transfer's
// progress) to the server's sockets that may see its status and stats
// (server.read), as {"type": typ, …}: data must encode as a JSON object,
// whose fields sit beside "type" (a "type" field of its own is replaced).
// nodeID, when not empty, drops the message unless the sockets follow
// that node, as for agent events; "" reaches them wherever the server is.
// It never blocks and encodes nothing when no socket watches.
func (h *Hub) Publish(nodeID, serverID, typ string, data any) {
	h.publish(nodeID, serverID, classRead, func() []byte {
		b, err := encodeTyped(typ, data)
		if err != nil {
			h.log.Error("live message not sent", "server", serverID, "type", typ, "error", err)
			return nil
		}
		return b
	})
}

// OnHello does nothing: status changes arrive through OnChange.
func (h *Hub) OnHello(context.Context, string, wire.Hello) {}

// OnEvent forwards the agent's live events to the sockets of the server
// they name. Events for a server on another node are dropped (publish
// checks the node): an agent speaks for its own servers only.
func (h *Hub) OnEvent(_ context.Context, nodeID string, e wire.Envelope) {
	switch e.Type {
	case wire.EventConsoleOutput:
		var m wire.ConsoleOutput
		if h.decode(nodeID, e, &m) {
			h.lines.Add(uint64(len(m.Lines)))
			h.publish(nodeID, m.ServerID, classConsole, func() []byte {
				return encode(linesMsg{Type: TypeConsoleOutput, Lines: m.Lines})
			})
		}
	case wire.EventInstallProgress:
		var m wire.InstallProgress
		if h.decode(nodeID, e, &m) {
			h.publish(nodeID, m.ServerID, classConsole, func() []byte {
				return encode(linesMsg{Type: TypeInstallOutput, Lines: []string{m.Line}})
			})
		}
	case wire.EventConsoleThrottled:
		var m wire.ConsoleThrottled
		if h.decode(nodeID, e, &m) && m.Dropped > 0 {
			h.publish(nodeID, m.ServerID, classConsole, func() []byte {
				return encode(throttledMsg{Type: TypeThrottled, Source: "node", Dropped: m.Dropped})
			})
		}
	case wire.EventDaemonMessage:
		var m wire.DaemonMessage
		if h.decode(nodeID, e, &m) {
			level := m.Level
			switch level {
			case wire.LevelInfo, wire.LevelWarning, wire.LevelError:
			default:
				level = wire.LevelInfo
			}
			h.publish(nodeID, m.ServerID, classRead, func() []byte {
				return encode(daemonMsg{Type: TypeDaemonMessage, Level: level, Message: m.Message})
			})
		}
	case wire.EventBackupProgress:
		var m wire.BackupProgress
		if h.decode(nodeID, e, &m) {
			h.publish(nodeID, m.ServerID, classRead, func() []byte {
				return encode(progressMsg{Type: TypeBackupProgress, BackupProgress: m})
			})
		}
	case wire.EventResourceStats:
		var m wire.ResourceStats
		if h.decode(nodeID, e, &m) {
			for _, s := range m.Servers {
				h.publish(nodeID, s.ServerID, classRead, func() []byte {
					return encode(statsMsg{Type: TypeStats, ServerStats: s})
				})
			}
		}
	}
}

func (h *Hub) decode(nodeID string, e wire.Envelope, v any) bool {
	if err := e.Decode(v); err != nil {
		h.log.Warn("unreadable live event dropped", "node", nodeID, "type", e.Type, "error", err)
		return false
	}
	return true
}

// OnDisconnect tells the sockets of the node's servers that live output
// stopped.
func (h *Hub) OnDisconnect(nodeID string) {
	msg := encode(daemonMsg{Type: TypeDaemonMessage, Level: wire.LevelWarning,
		Message: "the node went offline; live output resumes when it reconnects"})
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, t := range h.topics {
		if t.nodeID != nodeID {
			continue
		}
		for c := range t.clients {
			c.push(msg)
		}
	}
}

// OnChange sends a recorded state change to the server's sockets. A
// suspended server's sockets are checked again at once (their users may
// no longer see it).
func (h *Hub) OnChange(ch servers.Change) {
	m := StatusMsg{Type: TypeStatus, State: ch.To, Reason: ch.Reason, CrashLoop: ch.CrashLoop}
	if ch.Exit != nil {
		m.ExitCode, m.OOMKilled = ch.Exit.Code, ch.Exit.OOMKilled
	}
	// A crash loop needs no message of the core's: the node that gave up
	// on the server has already said so (daemon_message), and the status
	// carries crash_loop.
	h.publish("", ch.ServerID, classRead, func() []byte { return encode(m) })
	if ch.To == store.StateSuspended {
		h.Revoke(ch.ServerID)
	}
}

// Revoke checks the permissions of every socket on the server now (a
// subuser changed or removed, the server suspended).
func (h *Hub) Revoke(serverID string) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if t := h.topics[serverID]; t != nil {
		for c := range t.clients {
			c.recheckNow()
		}
	}
}

// RevokeUser checks every socket of the user now (sessions revoked, user
// deleted or demoted).
func (h *Hub) RevokeUser(userID string) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, t := range h.topics {
		for c := range t.clients {
			if c.sess.UserID == userID {
				c.recheckNow()
			}
		}
	}
}

// Close ends every socket with 1001 (going away): the core is shutting
// down, and http.Server.Shutdown does not close hijacked connections.
func (h *Hub) Close() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, t := range h.topics {
		for c := range t.clients {
			c.closeWith(websocket.CloseGoingAway, "the panel is restarting; reconnect shortly")
		}
	}
}

// OptionsFrom reads the hub's options from the core's websocket block.
func OptionsFrom(w *config.WebSocket) Options {
	warn, recheck, write := w.Durations()
	return Options{
		QueueSize: w.QueueSize, CommandRate: w.CommandsPerSecond, CommandBurst: w.CommandBurst,
		TokenWarning: warn, Recheck: recheck, WriteTimeout: write,
	}
}
