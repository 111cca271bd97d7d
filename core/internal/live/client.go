package live

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"time"

	"catalyst.dev/sdk/wire"
	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
)

// Access is what a socket's user may see.
type Access struct {
	// Read: status, stats and daemon messages (server.read).
	Read bool
	// Console: console and installer output, and sending commands
	// (server.console).
	Console bool
}

// class is what a message needs the socket to be allowed.
type class int

const (
	classRead class = iota
	classConsole
)

// Session is who a socket belongs to and what it watches.
type Session struct {
	ServerID string
	NodeID   string
	UserID   string
	// State and Reason are the server's, sent as the first status.
	State  string
	Reason string
	Access Access
	// Expires is when the credential the socket was opened with expires;
	// zero for credentials that do not (API keys).
	Expires time.Time
}

// Inbound does what a socket's client asks; the API implements it for
// each socket with the user's permissions, audit and error mapping.
type Inbound interface {
	// Command sends a console line (send_command).
	Command(ctx context.Context, line string) error
	// Power runs a power action (set_state).
	Power(ctx context.Context, action string) error
	// Logs returns the newest console lines (request_logs).
	Logs(ctx context.Context, lines int) ([]string, error)
	// Stats returns the server's latest sample, if any (request_stats).
	Stats(ctx context.Context) (wire.ServerStats, bool)
	// Reauth checks a fresh access token for the same user (auth) and
	// returns the access and expiry it gives.
	Reauth(ctx context.Context, token string) (Access, time.Time, error)
	// Recheck reads the user's access again; an error or no read access
	// closes the socket.
	Recheck(ctx context.Context) (Access, error)
	// Describe turns an error from the other methods into a code and a
	// message for the client.
	Describe(err error) (code, message string)
}

// client is one open socket.
type client struct {
	hub  *Hub
	ws   *websocket.Conn
	sess Session // ServerID, NodeID, UserID never change
	in   Inbound

	mu      sync.Mutex
	access  Access
	expires time.Time
	queue   [][]byte // a ring: head is the oldest
	head    int
	n       int
	dropped int
	closing *websocket.CloseError // set once: why the socket closes

	wake    chan struct{} // the writer has something to do
	recheck chan struct{} // check permissions now
	done    chan struct{} // closed when the socket is closing
	once    sync.Once
}

func (c *client) allows(k class) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch k {
	case classConsole:
		return c.access.Console
	default:
		return c.access.Read
	}
}

// push queues a message, dropping the oldest when the queue is full. It
// never blocks.
func (c *client) push(b []byte) {
	c.mu.Lock()
	if c.closing != nil {
		c.mu.Unlock()
		return
	}
	if c.n == len(c.queue) {
		c.queue[c.head] = nil
		c.head = (c.head + 1) % len(c.queue)
		c.n--
		c.dropped++
	}
	c.queue[(c.head+c.n)%len(c.queue)] = b
	c.n++
	c.mu.Unlock()
	c.signal()
}

func (c *client) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// take empties the queue into batch (reusing its memory) and returns the
// number of messages dropped since the last take.
func (c *client) take(batch [][]byte) ([][]byte, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	batch = batch[:0]
	for c.n > 0 {
		batch = append(batch, c.queue[c.head])
		c.queue[c.head] = nil
		c.head = (c.head + 1) % len(c.queue)
		c.n--
	}
	d := c.dropped
	c.dropped = 0
	return batch, d
}

func (c *client) recheckNow() {
	select {
	case c.recheck <- struct{}{}:
	default:
	}
}

// closeWith ends the socket with a close frame saying why.
func (c *client) closeWith(code int, text string) {
	c.mu.Lock()
	if c.closing == nil {
		c.closing = &websocket.CloseError{Code: code, Text: text}
	}
	c.mu.Unlock()
	c.once.Do(func() { close(c.done) })
}

// Serve runs a socket until it closes: the first status goes out, then
// the hub's messages, while the client's messages are handled one at a
// time in the order they came (a command never overtakes another). It
// returns when the socket has closed.
func (h *Hub) Serve(ctx context.Context, ws *websocket.Conn, s Session, in Inbound) {
	c := &client{
		hub: h, ws: ws, sess: s, in: in,
		access: s.Access, expires: s.Expires,
		queue:   make([][]byte, h.opts.QueueSize),
		wake:    make(chan struct{}, 1),
		recheck: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	c.push(encode(StatusMsg{Type: TypeStatus, State: s.State, Reason: s.Reason}))
	h.add(c)
	defer h.remove(c)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { c.write(ctx) })
	wg.Go(func() { c.watch(ctx) })
	c.read(ctx)
	c.closeWith(websocket.CloseNormalClosure, "")
	cancel()
	wg.Wait()
	lingerClose(ws)
}

// lingerTime bounds how long a closed socket's late input is drained.
const lingerTime = 500 * time.Millisecond

// lingerClose closes the connection as HTTP servers do: it stops sending,
// then reads and discards what the browser still sends for a moment.
// Closing at once with unread input (the rest of a message over the
// limit) would answer with a reset, and the browser would lose the close
// frame that says why.
func lingerClose(ws *websocket.Conn) {
	nc := ws.NetConn()
	if hc, ok := nc.(interface{ CloseWrite() error }); ok && hc.CloseWrite() == nil {
		_ = nc.SetReadDeadline(time.Now().Add(lingerTime))
		_, _ = io.Copy(io.Discard, io.LimitReader(nc, 1<<20))
	}
	_ = nc.Close()
}

// write sends queued messages and pings, and the close frame at the end.
func (c *client) write(ctx context.Context) {
	opts := c.hub.opts
	ping := time.NewTicker(opts.PingInterval)
	defer ping.Stop()
	var batch [][]byte
	for {
		select {
		case <-c.wake:
			var dropped int
			batch, dropped = c.take(batch)
			if dropped > 0 {
				batch = append([][]byte{encode(throttledMsg{Type: TypeThrottled, Source: "socket", Dropped: dropped})}, batch...)
			}
			for _, b := range batch {
				_ = c.ws.SetWriteDeadline(time.Now().Add(opts.WriteTimeout))
				if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
					c.closeWith(websocket.CloseAbnormalClosure, "")
					return
				}
			}
			clear(batch)
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(opts.WriteTimeout)); err != nil {
				c.closeWith(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-c.done:
			c.mu.Lock()
			ce := c.closing
			c.mu.Unlock()
			if ce.Code != websocket.CloseAbnormalClosure {
				_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(ce.Code, ce.Text), time.Now().Add(time.Second))
			}
			// Unblock the reader, which may be waiting for a frame.
			_ = c.ws.SetReadDeadline(time.Now())
			return
		case <-ctx.Done():
			_ = c.ws.SetReadDeadline(time.Now())
			return
		}
	}
}

// watch warns before the credential expires, closes the socket when it
// has, and checks the user's access on an interval and on demand.
func (c *client) watch(ctx context.Context) {
	opts := c.hub.opts
	recheck := time.NewTicker(opts.Recheck)
	defer recheck.Stop()
	warn, expire := time.NewTimer(time.Hour), time.NewTimer(time.Hour)
	defer warn.Stop()
	defer expire.Stop()
	arm := func() {
		c.mu.Lock()
		exp := c.expires
		c.mu.Unlock()
		warn.Stop()
		expire.Stop()
		if exp.IsZero() {
			return
		}
		warn.Reset(max(time.Until(exp)-opts.TokenWarning, 0))
		expire.Reset(max(time.Until(exp), 0))
	}
	arm()
	for {
		select {
		case <-warn.C:
			c.mu.Lock()
			exp := c.expires
			c.mu.Unlock()
			c.push(encode(tokenExpiringMsg{Type: TypeTokenExpiring, ExpiresAt: exp, Seconds: int(time.Until(exp).Round(time.Second) / time.Second)}))
		case <-expire.C:
			c.closeWith(CloseTokenExpired, "the access token expired; reconnect with a fresh one")
			return
		case <-recheck.C:
			c.check(ctx)
		case <-c.recheck:
			c.check(ctx)
			arm()
		case <-c.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (c *client) check(ctx context.Context) {
	a, err := c.in.Recheck(ctx)
	if ctx.Err() != nil {
		return
	}
	if err != nil || !a.Read {
		c.closeWith(CloseRevoked, "access to this server was revoked")
		return
	}
	c.mu.Lock()
	c.access = a
	c.mu.Unlock()
}

// read handles the client's messages in order until the socket closes.
func (c *client) read(ctx context.Context) {
	opts := c.hub.opts
	c.ws.SetReadLimit(opts.MaxMessageBytes)
	deadline := func() { _ = c.ws.SetReadDeadline(time.Now().Add(2 * opts.PingInterval)) }
	deadline()
	c.ws.SetPongHandler(func(string) error { deadline(); return nil })
	limit := rate.NewLimiter(rate.Limit(opts.CommandRate), opts.CommandBurst)
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.closeWith(websocket.CloseMessageTooBig, "messages are limited to 32 KiB")
			}
			return
		}
		deadline()
		var m clientMsg
		if err := json.Unmarshal(b, &m); err != nil {
			c.reply(errorMsg{Type: TypeError, Request: "", Code: "invalid_message", Message: "not a JSON message: " + err.Error()})
			continue
		}
		c.handle(ctx, limit, m)
	}
}

func (c *client) reply(v any) { c.push(encode(v)) }

func (c *client) fail(request string, err error) {
	code, msg := c.in.Describe(err)
	c.reply(errorMsg{Type: TypeError, Request: request, Code: code, Message: msg})
}

func (c *client) handle(ctx context.Context, limit *rate.Limiter, m clientMsg) {
	switch m.Type {
	case TypeSendCommand, TypeSetState:
		if !limit.Allow() {
			c.reply(errorMsg{Type: TypeError, Request: m.Type, Code: "rate_limited", Message: "too many commands; slow down"})
			return
		}
		var err error
		if m.Type == TypeSendCommand {
			err = c.in.Command(ctx, m.Command)
		} else {
			err = c.in.Power(ctx, m.State)
		}
		if err != nil {
			c.fail(m.Type, err)
		}
	case TypeRequestLogs:
		lines, err := c.in.Logs(ctx, m.Lines)
		if err != nil {
			c.fail(m.Type, err)
			return
		}
		c.reply(linesMsg{Type: TypeLogs, Lines: lines})
	case TypeRequestStats:
		if s, ok := c.in.Stats(ctx); ok {
			c.reply(statsMsg{Type: TypeStats, ServerStats: s})
		}
	case TypeAuth:
		a, exp, err := c.in.Reauth(ctx, m.Token)
		if err != nil {
			c.fail(m.Type, err)
			return
		}
		c.mu.Lock()
		c.access, c.expires = a, exp
		c.mu.Unlock()
		var at *time.Time
		if !exp.IsZero() {
			at = &exp
		}
		c.reply(authSuccessMsg{Type: TypeAuthSuccess, ExpiresAt: at})
		c.recheckNow() // re-arms the expiry timers
	default:
		c.reply(errorMsg{Type: TypeError, Request: m.Type, Code: "unknown_type",
			Message: "type must be one of send_command, set_state, request_logs, request_stats, auth"})
	}
}
