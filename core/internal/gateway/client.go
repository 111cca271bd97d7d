package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/yamux"
)

// ErrUnreachable is a request that got no answer from the agent: the
// tunnel dropped or the call timed out. Whether it took effect on the node
// is unknown.
var ErrUnreachable = errors.New("agent did not answer")

// AgentError is an error the agent answered with: its status, code (one of
// the wire.Code* values) and message. Callers branch on Code.
type AgentError struct {
	NodeID  string
	Status  int
	Code    string
	Message string
}

func (e *AgentError) Error() string {
	return fmt.Sprintf("node %s agent: %s (%s)", e.NodeID, e.Message, e.Code)
}

// Client calls one agent's internal API (sdk/wire/agentapi.go) over its
// tunnel: every request is HTTP/1.1 on a yamux stream the core opens, so
// large bodies stream with the session's flow control. Nothing is retried:
// a refused request (4xx) would be refused again, and the others change
// state on the node, which the caller decides whether to repeat.
type Client struct {
	nodeID string
	http   *http.Client
}

func newClient(nodeID string, sess *yamux.Session) *Client {
	tr := &http.Transport{
		// Opening a stream only waits when the agent has 256 unanswered
		// stream openings (yamux's backlog), and gives up when the session
		// ends, so it needs no goroutine to watch ctx.
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return sess.Open()
		},
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &Client{nodeID: nodeID, http: &http.Client{Transport: tr}}
}

// ConfigureServer records a server's configuration on the node.
func (c *Client) ConfigureServer(ctx context.Context, cfg wire.ServerConfig) error {
	return c.doJSON(ctx, http.MethodPut, wire.AgentServerPath(cfg.ID, ""), cfg, nil)
}

// Install starts a server's install in the background.
func (c *Client) Install(ctx context.Context, id string, req wire.InstallRequest) error {
	return c.doJSON(ctx, http.MethodPost, wire.AgentServerPath(id, "/install"), req, nil)
}

// Power asks for a power action (wire.Power*).
func (c *Client) Power(ctx context.Context, id, action string) error {
	return c.doJSON(ctx, http.MethodPost, wire.AgentServerPath(id, "/power"), wire.PowerRequest{Action: action}, nil)
}

// Command writes a line to a running server's console.
func (c *Client) Command(ctx context.Context, id, command string) error {
	return c.doJSON(ctx, http.MethodPost, wire.AgentServerPath(id, "/command"), wire.CommandRequest{Command: command}, nil)
}

// Logs returns up to lines of the server's newest console lines, oldest
// first.
func (c *Client) Logs(ctx context.Context, id string, lines int) ([]string, error) {
	var out wire.ConsoleLog
	err := c.do(ctx, http.MethodGet, wire.AgentServerPath(id, "/logs")+"?lines="+strconv.Itoa(lines), nil, "", &out)
	return out.Lines, err
}

// DeleteServer removes a server's process, container, snapshot, volume and
// config from the node.
func (c *Client) DeleteServer(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, wire.AgentServerPath(id, ""), nil, "", nil)
}

// ImportImage streams an OCI image-layout or docker-save tar to the node.
func (c *Client) ImportImage(ctx context.Context, archive io.Reader) (wire.ImportResult, error) {
	var out wire.ImportResult
	err := c.do(ctx, http.MethodPost, wire.AgentPathImageImport, archive, "application/x-tar", &out)
	return out, err
}

func (c *Client) doJSON(ctx context.Context, method, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode request to %s %s: %w", method, path, err)
	}
	return c.do(ctx, method, path, bytes.NewReader(b), "application/json", out)
}

// maxAnswerBytes bounds a JSON answer from the agent.
const maxAnswerBytes = 8 << 20

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	// The host is never resolved: the transport dials a tunnel stream.
	req, err := http.NewRequestWithContext(ctx, method, "http://agent"+path, body)
	if err != nil {
		return fmt.Errorf("agent request %s %s: %w", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: node %s, %s %s: %w", ErrUnreachable, c.nodeID, method, path, err)
	}
	defer resp.Body.Close()
	rd := io.LimitReader(resp.Body, maxAnswerBytes)
	if resp.StatusCode >= 300 {
		var eb wire.ErrorBody
		raw, _ := io.ReadAll(rd)
		if json.Unmarshal(raw, &eb) != nil || eb.Error.Code == "" {
			eb.Error = wire.ErrorDetail{Code: fmt.Sprintf("http_%d", resp.StatusCode), Message: truncate(string(raw), 300)}
		}
		return &AgentError{NodeID: c.nodeID, Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, rd)
		return nil
	}
	if err := json.NewDecoder(rd).Decode(out); err != nil {
		return fmt.Errorf("node %s agent %s %s: decode answer: %w", c.nodeID, method, path, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// RevokeSFTP closes the node's SFTP sessions that rv names and says how
// many there were.
func (c *Client) RevokeSFTP(ctx context.Context, rv wire.SFTPRevoke) (wire.SFTPRevoked, error) {
	var out wire.SFTPRevoked
	err := c.doJSON(ctx, http.MethodPost, wire.AgentPathSFTPRevoke, rv, &out)
	return out, err
}
