package sftp

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// activityConn is a client connection that remembers when the client
// last sent something, for the idle timeout, and why the agent closed it,
// for the session log.
type activityConn struct {
	net.Conn
	start time.Time
	// lastRead is when the client last sent a byte, as time since start
	// (monotonic).
	lastRead atomic.Int64

	mu  sync.Mutex
	why string
}

func newActivityConn(c net.Conn) *activityConn {
	return &activityConn{Conn: c, start: time.Now()}
}

func (c *activityConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.lastRead.Store(int64(time.Since(c.start)))
	}
	return n, err
}

// closeWith closes the connection; the first reason given is kept.
func (c *activityConn) closeWith(reason string) {
	c.mu.Lock()
	if c.why == "" {
		c.why = reason
	}
	c.mu.Unlock()
	c.Conn.Close()
}

// closeReason is why the agent closed the connection, "" when it did not.
func (c *activityConn) closeReason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.why
}

// idleSince is how long the client has been silent.
func (c *activityConn) idleSince() time.Duration {
	return time.Since(c.start) - time.Duration(c.lastRead.Load())
}

// idleWatch calls onIdle once the client has been silent for a whole
// timeout. It is a timer, not a goroutine: each time it fires early it
// sleeps again for what remains.
type idleWatch struct {
	mu      sync.Mutex
	t       *time.Timer
	stopped bool
}

func (c *activityConn) watchIdle(timeout time.Duration, onIdle func()) *idleWatch {
	w := &idleWatch{}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t = time.AfterFunc(timeout, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.stopped {
			return
		}
		if idle := c.idleSince(); idle < timeout {
			w.t.Reset(timeout - idle)
			return
		}
		onIdle()
	})
	return w
}

func (w *idleWatch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.t.Stop()
}
