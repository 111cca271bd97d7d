// Package gatewaytest is a stand-in agent for tests of the core: it dials
// a core's tunnel the way sdk/wire describes, and an in-memory Fake serves
// the agent API without containers. The real agent is tested against
// containerd in agent/ and end to end in the core's e2e tests.
package gatewaytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"catalyst.dev/sdk/wire"
	"github.com/gorilla/websocket"
	"github.com/hashicorp/yamux"
)

// Config says how to dial.
type Config struct {
	// URL is the core's base URL (http://host:port).
	URL        string
	NodeID     string
	Credential string
	// Protocol is sent in wire.HeaderProtocol; zero sends ProtocolVersion.
	Protocol int
	Hello    wire.Hello
	// Handler serves the agent API on the streams the core opens; nil
	// answers 404 to everything.
	Handler http.Handler
}

// RefusedError is the core's HTTP answer to a refused dial.
type RefusedError struct {
	Status int
	Body   string
}

func (e *RefusedError) Error() string { return fmt.Sprintf("refused: %d %s", e.Status, e.Body) }

// Agent is a connected test agent.
type Agent struct {
	Welcome wire.Welcome

	sess   *yamux.Session
	events *wire.EventWriter
	stream *yamux.Stream
	served chan struct{}

	coreOnce sync.Once
	core     *http.Client
}

// Dial connects to the core, says hello and waits for Welcome. A refusal
// before the upgrade is a *RefusedError; a Refused answer is an error with
// its message.
func Dial(ctx context.Context, cfg Config) (*Agent, error) {
	h := http.Header{}
	h.Set(wire.HeaderNode, cfg.NodeID)
	if cfg.Credential != "" {
		h.Set("Authorization", "Bearer "+cfg.Credential)
	}
	p := cfg.Protocol
	if p == 0 {
		p = wire.ProtocolVersion
	}
	h.Set(wire.HeaderProtocol, strconv.Itoa(p))
	h.Set(wire.HeaderAgent, "test")
	url := "ws" + strings.TrimPrefix(cfg.URL, "http") + wire.PathConnect
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, url, h)
	if err != nil {
		if resp != nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return nil, &RefusedError{Status: resp.StatusCode, Body: string(b)}
		}
		return nil, err
	}
	sess, err := yamux.Client(wire.NetConn(ws), wire.SessionConfig())
	if err != nil {
		ws.Close()
		return nil, err
	}
	st, err := sess.OpenStream()
	if err != nil {
		sess.Close()
		return nil, err
	}
	a := &Agent{sess: sess, stream: st, events: wire.NewEventWriter(st), served: make(chan struct{})}
	handler := cfg.Handler
	if handler == nil {
		handler = http.NotFoundHandler()
	}
	go func() {
		defer close(a.served)
		_ = http.Serve(sess, handler)
	}()
	hello := cfg.Hello
	if hello.ProtocolVersion == 0 {
		hello.ProtocolVersion = wire.ProtocolVersion
	}
	if err := a.events.Write(wire.EventHello, hello); err != nil {
		a.Close()
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = st.SetReadDeadline(dl)
	}
	e, err := wire.NewEventReader(st).Read()
	_ = st.SetReadDeadline(time.Time{})
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("read welcome: %w", err)
	}
	switch e.Type {
	case wire.EventWelcome:
		if err := e.Decode(&a.Welcome); err != nil {
			a.Close()
			return nil, err
		}
		return a, nil
	case wire.EventRefused:
		var r wire.Refused
		_ = e.Decode(&r)
		a.Close()
		return nil, errors.New("refused: " + r.Message)
	}
	a.Close()
	return nil, fmt.Errorf("unexpected answer %q", e.Type)
}

// Send writes an event.
func (a *Agent) Send(typ string, data any) error { return a.events.Write(typ, data) }

// SendRaw writes bytes to the event stream as they are.
func (a *Agent) SendRaw(b []byte) error {
	_, err := a.stream.Write(b)
	return err
}

// Done is closed when the tunnel has ended.
func (a *Agent) Done() <-chan struct{} { return a.sess.CloseChan() }

// Close ends the tunnel and waits for the API server to stop.
func (a *Agent) Close() {
	a.sess.Close()
	<-a.served
}

// CoreHTTP returns the client whose requests go to the core on streams the
// agent opens, as the agent's calls to the core do (wire.CorePathSFTPAuth).
// The URL's host is not used. It is one client, so that idle streams are
// reused as the real agent's are.
func (a *Agent) CoreHTTP() *http.Client {
	a.coreOnce.Do(func() {
		a.core = &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				return a.sess.Open()
			},
			DisableCompression: true,
		}}
	})
	return a.core
}

// SFTPRevokes serves wire.AgentPathSFTPRevoke as an agent with no SFTP
// session open would, keeping what it was sent, and hands every other
// request to Next. Put it in front of a Fake: Dial with it as the Handler.
type SFTPRevokes struct {
	Next http.Handler

	mu      sync.Mutex
	got     []wire.SFTPRevoke
	arrived chan struct{}
}

// NewSFTPRevokes returns an SFTPRevokes in front of next.
func NewSFTPRevokes(next http.Handler) *SFTPRevokes {
	return &SFTPRevokes{Next: next, arrived: make(chan struct{}, 1)}
}

func (s *SFTPRevokes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != wire.AgentPathSFTPRevoke {
		s.Next.ServeHTTP(w, r)
		return
	}
	var rv wire.SFTPRevoke
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&rv) != nil {
		fail(w, http.StatusBadRequest, wire.CodeInvalid, "want POST with an SFTPRevoke")
		return
	}
	s.mu.Lock()
	s.got = append(s.got, rv)
	s.mu.Unlock()
	select {
	case s.arrived <- struct{}{}:
	default:
	}
	answer(w, http.StatusOK, wire.SFTPRevoked{})
}

// Wait returns the revocations received once there are at least n, or
// what there is when ctx ends.
func (s *SFTPRevokes) Wait(ctx context.Context, n int) []wire.SFTPRevoke {
	for {
		s.mu.Lock()
		got := append([]wire.SFTPRevoke(nil), s.got...)
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-s.arrived:
		case <-ctx.Done():
			return got
		}
	}
}
