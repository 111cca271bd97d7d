package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/yamux"
)

// The agent calls the core too (an SFTP login asks who may log in): after
// the hello, every further stream the agent opens carries HTTP/1.1
// requests to the Remote handler. The node is known from the tunnel, never
// from anything the agent writes.

type nodeKey struct{}

// NodeFromContext returns the node whose tunnel a Remote request came
// through, or "" outside one.
func NodeFromContext(ctx context.Context) string {
	id, _ := ctx.Value(nodeKey{}).(string)
	return id
}

// SetRemote sets the handler of the requests agents send the core. Like
// SetHandler, call it before serving; without one every request is
// answered 404. A handler must return soon once its request's context
// ends: the tunnel's end waits for it before the node goes offline.
func (g *Gateway) SetRemote(h http.Handler) { g.remote = h }

// Timeouts of the agent's requests to the core.
const (
	remoteReadHeaderTimeout = 10 * time.Second
	// remoteIdleTimeout frees the slot of a stream the agent keeps for
	// its next request but does not use.
	remoteIdleTimeout = 60 * time.Second
)

// serveRemote serves the agent's requests on c until the returned stop is
// called; stop closes the streams in flight and waits for their handlers
// to return. ctx ends with the tunnel and is the requests' base context.
func (g *Gateway) serveRemote(ctx context.Context, c *conn, log hclog.Logger) (stop func()) {
	h := g.remote
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeWireError(w, http.StatusNotFound, wire.CodeNotFound, "the core serves no "+r.URL.Path)
		})
	}
	ctx, cancel := context.WithCancel(context.WithValue(ctx, nodeKey{}, c.nodeID))
	ln := &remoteListener{ctx: ctx, sess: c.sess, slots: make(chan struct{}, g.opts.RemoteStreams), log: log}
	srv := &http.Server{
		Handler:           h,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: remoteReadHeaderTimeout,
		IdleTimeout:       remoteIdleTimeout,
		ErrorLog:          log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
		// A connection's slot is held from Accept until its goroutine has
		// returned, handler included, so stop can wait for all of them.
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateClosed || st == http.StateHijacked {
				ln.release()
			}
		},
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	return func() {
		cancel()
		_ = srv.Close()
		<-served
		ln.wait()
	}
}

// remoteListener hands the http.Server the streams the agent opens, at
// most cap(slots) at a time. A stream over the limit is answered 503 at
// once rather than left waiting: yamux closes the whole session when a
// stream stays unaccepted for long.
type remoteListener struct {
	ctx   context.Context
	sess  *yamux.Session
	slots chan struct{}
	log   hclog.Logger
	wg    sync.WaitGroup
}

func (l *remoteListener) Accept() (net.Conn, error) {
	for {
		st, err := l.sess.AcceptStreamWithContext(l.ctx)
		if err != nil {
			return nil, fmt.Errorf("accept an agent stream: %w", net.ErrClosed)
		}
		select {
		case l.slots <- struct{}{}:
			l.wg.Add(1)
			return st, nil
		default:
			l.log.Warn("agent sent more concurrent requests than allowed; refused one", "limit", cap(l.slots))
			refuseBusy(st)
		}
	}
}

func (l *remoteListener) release() {
	<-l.slots
	l.wg.Done()
}

// wait returns once every accepted connection is closed.
func (l *remoteListener) wait() { l.wg.Wait() }

// Close does nothing: Accept ends with its context, and the session
// belongs to the tunnel.
func (l *remoteListener) Close() error { return nil }

func (l *remoteListener) Addr() net.Addr { return l.sess.Addr() }

// refuseBusy answers a stream without reading its request. The answer is
// far smaller than a stream's window, so the write does not wait for the
// agent.
func refuseBusy(st *yamux.Stream) {
	body, _ := json.Marshal(wire.ErrorBody{Error: wire.ErrorDetail{Code: wire.CodeBusy,
		Message: "the core is already serving as many requests from this node as it allows; retry shortly"}})
	_ = st.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = fmt.Fprintf(st, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	_ = st.Close()
}

// writeWireError answers with the wire's error envelope.
func writeWireError(w http.ResponseWriter, status int, code, msg string) {
	body, _ := json.Marshal(wire.ErrorBody{Error: wire.ErrorDetail{Code: code, Message: msg}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
