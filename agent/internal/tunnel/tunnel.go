// Package tunnel is the agent's end of the core↔agent tunnel (see
// catalyst.dev/sdk/wire): it dials the core, says Hello, then serves the
// agent API on the streams the core opens and sends events (heartbeats,
// server states, console and install output) on its own stream. Run
// reconnects, with backoff, until its context ends. CoreHTTP calls the
// core over the current connection (an SFTP login asks the core who may
// log in).
package tunnel

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/yamux"

	"catalyst.dev/sdk/wire"
)

// Config configures a Client.
type Config struct {
	// CoreURL is the core's base URL (http or https); the tunnel is
	// CoreURL + wire.PathConnect over ws or wss.
	CoreURL    string
	NodeID     string
	Credential string
	// AgentVersion is reported in a header and in Hello.
	AgentVersion string
	// Handler serves the requests the core sends (the agent API).
	Handler http.Handler
	// Hello builds the Hello for a new connection: capabilities,
	// resources and the servers' states. The client fills in the versions.
	Hello func(ctx context.Context) (wire.Hello, error)
	// Heartbeat builds each heartbeat.
	Heartbeat func() wire.Heartbeat
	// Queue holds the events to send.
	Queue *Queue
	Log   hclog.Logger
	// TLS configures wss connections; nil uses the system's roots.
	TLS *tls.Config

	// MinBackoff and MaxBackoff bound the wait between attempts (default
	// 1s and 60s): it doubles from MinBackoff after each failure, with
	// full jitter, and starts over after a connection that stayed up for
	// StableAfter (default 1m).
	MinBackoff, MaxBackoff, StableAfter time.Duration
}

// Timeouts of the connection's setup.
const (
	handshakeTimeout = 30 * time.Second
	welcomeTimeout   = 30 * time.Second
	// defaultHeartbeat is used when a core names no interval.
	defaultHeartbeat = 15 * time.Second
	// shutdownGrace is how long requests in flight get when the tunnel
	// goes down.
	shutdownGrace = 5 * time.Second
)

// ErrNotConnected is a call to the core while the tunnel is down. Calls
// fail at once rather than wait for the next connection: an SFTP client
// waiting for its login would rather hear no now.
var ErrNotConnected = errors.New("not connected to the core")

// RefusedError is the core turning the agent away: an HTTP error answer to
// the connect request, or Refused after Hello.
type RefusedError struct {
	// Status is the HTTP status (0 for a Refused event), Code the error
	// envelope's code when there was one.
	Status  int
	Code    string
	Message string
}

func (e *RefusedError) Error() string {
	if e.Status == 0 {
		return "the core refused this agent: " + e.Message
	}
	return fmt.Sprintf("the core refused the connection (%d %s): %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Client keeps the agent connected to the core.
type Client struct {
	cfg    Config
	url    string
	dialer *websocket.Dialer
	log    hclog.Logger

	// core and coreTransport call the core on the current session.
	core          *http.Client
	coreTransport *http.Transport
	mu            sync.Mutex
	sess          *yamux.Session // nil while not connected
}

// New checks cfg and makes a Client.
func New(cfg Config) (*Client, error) {
	u, err := connectURL(cfg.CoreURL)
	if err != nil {
		return nil, err
	}
	if cfg.NodeID == "" || cfg.Credential == "" {
		return nil, errors.New("tunnel: node id and credential are required")
	}
	if cfg.Handler == nil || cfg.Hello == nil || cfg.Heartbeat == nil || cfg.Queue == nil {
		return nil, errors.New("tunnel: handler, hello, heartbeat and queue are required")
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(60*time.Second, cfg.MinBackoff)
	}
	if cfg.StableAfter <= 0 {
		cfg.StableAfter = time.Minute
	}
	c := &Client{
		cfg: cfg,
		url: u,
		dialer: &websocket.Dialer{
			Proxy:            http.ProxyFromEnvironment,
			HandshakeTimeout: handshakeTimeout,
			TLSClientConfig:  cfg.TLS,
			ReadBufferSize:   wire.TunnelBufferSize,
			WriteBufferSize:  wire.TunnelBufferSize,
		},
		log: cfg.Log,
	}
	c.coreTransport = &http.Transport{
		DialContext: c.dialCore,
		// A few streams are kept for the next calls; the core drops idle
		// ones after a minute, so they are let go sooner here.
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	c.core = &http.Client{Transport: c.coreTransport}
	return c, nil
}

// CoreHTTP returns a client that sends its requests to the core, each on
// a tunnel stream of the current connection (the URL's host is not used:
// "http://core" + wire.CorePathSFTPAuth). With no connection a request
// fails at once with an error wrapping ErrNotConnected; one in flight when
// the connection drops fails. Bound every request with its context.
func (c *Client) CoreHTTP() *http.Client { return c.core }

func (c *Client) dialCore(ctx context.Context, _, _ string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	sess := c.sess
	c.mu.Unlock()
	if sess == nil || sess.IsClosed() {
		return nil, ErrNotConnected
	}
	// Opening waits only while 256 earlier openings are unanswered, and
	// gives up when the session ends; the core answers each at once.
	st, err := sess.OpenStream()
	if err != nil {
		return nil, fmt.Errorf("%w: open a stream: %w", ErrNotConnected, err)
	}
	return st, nil
}

// setSession makes sess the one CoreHTTP uses; nil when it ends, which
// also lets go of the streams kept idle on it.
func (c *Client) setSession(sess *yamux.Session) {
	c.mu.Lock()
	c.sess = sess
	c.mu.Unlock()
	if sess == nil {
		c.coreTransport.CloseIdleConnections()
	}
}

// connectURL turns the core's http(s) URL into the tunnel's ws(s) URL.
func connectURL(core string) (string, error) {
	u, err := url.Parse(core)
	if err != nil {
		return "", fmt.Errorf("tunnel: core URL %q: %w", core, err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("tunnel: core URL %q: want http:// or https://", core)
	}
	if u.Host == "" {
		return "", fmt.Errorf("tunnel: core URL %q has no host", core)
	}
	u.Path = strings.TrimRight(u.Path, "/") + wire.PathConnect
	return u.String(), nil
}

// Run keeps the tunnel up until ctx ends; it returns nil then, with every
// goroutine it started ended.
func (c *Client) Run(ctx context.Context) error {
	backoff := c.cfg.MinBackoff
	for {
		up, err := c.connect(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if up >= c.cfg.StableAfter {
			backoff = c.cfg.MinBackoff
		}
		var refused *RefusedError
		if errors.As(err, &refused) {
			c.log.Error("the core refused this agent", "status", refused.Status, "code", refused.Code, "message", refused.Message)
		} else {
			c.log.Warn("tunnel to the core is down", "error", err)
		}
		// Full jitter: a core restart does not bring every node back at once.
		wait := time.Duration(rand.Int64N(int64(backoff))) + time.Millisecond
		c.log.Info("reconnecting to the core", "in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(backoff*2, c.cfg.MaxBackoff)
	}
}

// connect runs one connection until it fails or ctx ends, and reports how
// long it was up (after Welcome).
func (c *Client) connect(ctx context.Context) (time.Duration, error) {
	hdr := http.Header{}
	hdr.Set(wire.HeaderNode, c.cfg.NodeID)
	hdr.Set("Authorization", "Bearer "+c.cfg.Credential)
	hdr.Set(wire.HeaderProtocol, strconv.Itoa(wire.ProtocolVersion))
	hdr.Set(wire.HeaderAgent, c.cfg.AgentVersion)
	ws, resp, err := c.dialer.DialContext(ctx, c.url, hdr)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return 0, refusal(resp)
		}
		return 0, fmt.Errorf("dial %s: %w", c.url, err)
	}
	sess, err := yamux.Client(wire.NetConn(ws), wire.SessionConfig())
	if err != nil {
		ws.Close()
		return 0, fmt.Errorf("tunnel session: %w", err)
	}
	defer sess.Close()

	events, interval, err := c.handshake(ctx, sess)
	if err != nil {
		return 0, err
	}
	defer c.cfg.Queue.setOpen(false)
	c.setSession(sess)
	defer c.setSession(nil)
	c.log.Info("connected to the core", "url", c.url, "heartbeat", interval)
	up := time.Now()
	err = c.serve(ctx, sess, events, interval)
	return time.Since(up), err
}

// refusal reads the core's error envelope from a non-101 answer, so the
// operator sees exactly why (e.g. 426: the protocol versions differ).
func refusal(resp *http.Response) error {
	e := &RefusedError{Status: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body wire.ErrorBody
	if json.Unmarshal(b, &body) == nil && body.Error.Message != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
	} else {
		e.Message = strings.TrimSpace(string(b))
		if e.Message == "" {
			e.Message = "no reason given"
		}
	}
	return e
}

// handshake opens the event stream, says Hello and reads the answer.
func (c *Client) handshake(ctx context.Context, sess *yamux.Session) (*yamux.Stream, time.Duration, error) {
	stream, err := sess.OpenStream()
	if err != nil {
		return nil, 0, fmt.Errorf("open event stream: %w", err)
	}
	// Events published from here on reach the core after Welcome; those
	// from before are covered by the states in Hello.
	c.cfg.Queue.setOpen(true)
	hello, err := c.cfg.Hello(ctx)
	if err != nil {
		c.cfg.Queue.setOpen(false)
		return nil, 0, fmt.Errorf("build hello: %w", err)
	}
	hello.ProtocolVersion, hello.AgentVersion = wire.ProtocolVersion, c.cfg.AgentVersion
	fail := func(err error) (*yamux.Stream, time.Duration, error) {
		c.cfg.Queue.setOpen(false)
		return nil, 0, err
	}
	if err := wire.NewEventWriter(stream).Write(wire.EventHello, hello); err != nil {
		return fail(fmt.Errorf("send hello: %w", err))
	}
	stream.SetReadDeadline(time.Now().Add(welcomeTimeout))
	env, err := wire.NewEventReader(stream).Read()
	if err != nil {
		return fail(fmt.Errorf("read the core's answer to hello: %w", err))
	}
	stream.SetReadDeadline(time.Time{})
	switch env.Type {
	case wire.EventWelcome:
		var w wire.Welcome
		if err := env.Decode(&w); err != nil {
			return fail(err)
		}
		interval := time.Duration(w.HeartbeatInterval)
		if interval <= 0 {
			interval = defaultHeartbeat
		}
		return stream, interval, nil
	case wire.EventRefused:
		var r wire.Refused
		if err := env.Decode(&r); err != nil {
			return fail(err)
		}
		return fail(&RefusedError{Message: r.Message})
	default:
		return fail(fmt.Errorf("the core answered hello with %q", env.Type))
	}
}

// serve runs the connection: the agent API on the streams the core opens,
// events and heartbeats on the event stream. It returns when any of them
// fails or ctx ends, once all of them have stopped.
func (c *Client) serve(ctx context.Context, sess *yamux.Session, events *yamux.Stream, interval time.Duration) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &http.Server{
		Handler:           c.cfg.Handler,
		BaseContext:       func(net.Listener) context.Context { return sctx },
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          c.log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	errs := make(chan error, 3)
	var wg sync.WaitGroup
	wg.Go(func() {
		err := srv.Serve(sess)
		errs <- fmt.Errorf("serve the agent API: %w", err)
	})
	wg.Go(func() { errs <- c.sendEvents(sctx, wire.NewEventWriter(events), interval) })
	wg.Go(func() {
		// The core writes nothing after Welcome; this ends when it hangs up.
		_, err := io.Copy(io.Discard, events)
		if err == nil {
			err = io.EOF
		}
		errs <- fmt.Errorf("event stream: %w", err)
	})

	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	cancel()
	sess.Close() // ends Serve's Accept, the reads and writes in flight
	sctx2, cancel2 := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel2()
	if serr := srv.Shutdown(sctx2); serr != nil {
		srv.Close()
	}
	wg.Wait()
	return err
}

// sendEvents writes queued events and heartbeats until ctx ends or a write
// fails.
func (c *Client) sendEvents(ctx context.Context, w *wire.EventWriter, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	q := c.cfg.Queue
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := w.Write(wire.EventHeartbeat, c.cfg.Heartbeat()); err != nil {
				return fmt.Errorf("send heartbeat: %w", err)
			}
		case <-q.ready:
			for _, e := range q.take() {
				if err := w.Write(e.typ, e.data); err != nil {
					return fmt.Errorf("send %s event: %w", e.typ, err)
				}
			}
			if n := q.takeDropped(); n > 0 {
				c.log.Warn("the core reads events slower than they come; dropped some", "dropped", n)
			}
		}
	}
}
