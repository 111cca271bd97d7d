package wire

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/yamux"
)

// TunnelBufferSize is the WebSocket read and write buffer of both ends of
// a tunnel: file transfers send frames of up to a stream window, and a
// small buffer would cut each into many frames and system calls.
const TunnelBufferSize = 256 << 10

// NetConn presents a WebSocket as a byte stream (each Write one binary
// message), for yamux to run over. Close closes the WebSocket.
func NetConn(ws *websocket.Conn) net.Conn { return &wsConn{ws: ws} }

type wsConn struct {
	ws *websocket.Conn

	rmu sync.Mutex
	r   io.Reader // the message being read

	wmu sync.Mutex
	// hdr holds a yamux data frame's header until its body, which yamux
	// writes next, so the two go out as one message instead of two.
	hdr    [yamuxHeaderSize]byte
	hdrSet bool
}

// yamux frames start with a 12-byte header: version, type (0 = data),
// flags, stream ID, length.
const yamuxHeaderSize = 12

// isDataHeader says whether p is exactly a header of a data frame that
// carries a body.
func isDataHeader(p []byte) bool {
	return len(p) == yamuxHeaderSize && p[1] == 0 && (p[8]|p[9]|p[10]|p[11]) != 0
}

func (c *wsConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if c.r == nil {
			typ, r, err := c.ws.NextReader()
			if err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway) {
					return 0, io.EOF
				}
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				return 0, errors.New("tunnel: unexpected text message")
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if errors.Is(err, io.EOF) {
			c.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.hdrSet && isDataHeader(p) {
		copy(c.hdr[:], p)
		c.hdrSet = true
		return len(p), nil
	}
	if !c.hdrSet {
		if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	c.hdrSet = false
	w, err := c.ws.NextWriter(websocket.BinaryMessage)
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(c.hdr[:]); err != nil {
		return 0, err
	}
	if _, err := w.Write(p); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsConn) Close() error {
	c.wmu.Lock()
	// A close frame tells the peer this end left on purpose; best effort.
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	return c.ws.Close()
}

func (c *wsConn) LocalAddr() net.Addr                { return c.ws.LocalAddr() }
func (c *wsConn) RemoteAddr() net.Addr               { return c.ws.RemoteAddr() }
func (c *wsConn) SetReadDeadline(t time.Time) error  { return c.ws.SetReadDeadline(t) }
func (c *wsConn) SetWriteDeadline(t time.Time) error { return c.ws.SetWriteDeadline(t) }
func (c *wsConn) SetDeadline(t time.Time) error {
	return errors.Join(c.ws.SetReadDeadline(t), c.ws.SetWriteDeadline(t))
}

// SessionConfig is the yamux configuration both ends use: streams get a
// window large enough for file transfers to run at disk speed, and yamux's
// own keepalive notices a dead TCP connection between heartbeats.
func SessionConfig() *yamux.Config {
	c := yamux.DefaultConfig()
	c.MaxStreamWindowSize = 4 << 20
	c.KeepAliveInterval = 15 * time.Second
	c.ConnectionWriteTimeout = 30 * time.Second
	c.LogOutput = io.Discard
	return c
}
