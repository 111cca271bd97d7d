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
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/yamux"
)

// ErrUnreachable is a request that got no answer from the agent: the
// tunnel dropped or the call timed out. Whether it took effect on the node
// is unknown.
var ErrUnreachable = errors.New("agent did not answer")

// ErrRequestBody is a streamed request whose body could not be read to its
// end (the client went away, or sent more than it may): the agent saw it
// cut short and kept nothing of it.
var ErrRequestBody = errors.New("request body could not be read")

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
		// File bodies pass through these buffers.
		WriteBufferSize: 64 << 10,
		ReadBufferSize:  64 << 10,
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

// FileRequest is one call to a server's file API on the agent
// (sdk/wire/files.go).
type FileRequest struct {
	Method string
	// Suffix follows wire.FilesSuffix: "" (the listing), "/content", …
	Suffix string
	// RawQuery is sent as is (path=…&offset=…).
	RawQuery string
	// Header is sent as is; the caller picks what may reach the agent.
	Header http.Header
	// Body, when not nil, is streamed to the agent; ContentLength is its
	// size, or -1 when unknown (sent chunked).
	Body          io.Reader
	ContentLength int64
}

// Files sends req for server id and returns the agent's answer for the
// caller to stream and close. The body streams both ways with the tunnel's
// flow control and is never held whole. An answer of 300 or more, but 304
// (the client's copy is current), is an *AgentError; a body the caller's
// reader failed to deliver is ErrRequestBody; no answer is ErrUnreachable.
func (c *Client) Files(ctx context.Context, id string, req FileRequest) (*http.Response, error) {
	path := wire.AgentServerPath(id, wire.FilesSuffix+req.Suffix)
	target := "http://agent" + path
	if req.RawQuery != "" {
		target += "?" + req.RawQuery
	}
	var body *trackedBody
	var rd io.Reader
	switch {
	case req.Body == nil:
	case req.ContentLength == 0:
		// An empty body is sent as such (Content-Length: 0), not chunked.
		rd = http.NoBody
	default:
		body = &trackedBody{r: req.Body}
		rd = body
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("agent request %s %s: %w", req.Method, path, err)
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if body != nil {
		hr.ContentLength = req.ContentLength
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		if berr := body.failure(); berr != nil {
			return nil, fmt.Errorf("%w: node %s, %s %s: %w", ErrRequestBody, c.nodeID, req.Method, path, berr)
		}
		return nil, fmt.Errorf("%w: node %s, %s %s: %w", ErrUnreachable, c.nodeID, req.Method, path, err)
	}
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotModified {
		defer resp.Body.Close()
		return nil, c.agentError(resp)
	}
	return resp, nil
}

// trackedBody remembers why a request body stopped early, so a transport
// error it caused is not taken for a lost agent.
type trackedBody struct {
	r   io.Reader
	mu  sync.Mutex
	err error
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.mu.Lock()
		b.err = err
		b.mu.Unlock()
	}
	return n, err
}

// failure is the body's read error; nil for no body.
func (b *trackedBody) failure() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
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
	return c.send(req, nil, out)
}

// send sends req and decodes its JSON answer into out (nil: discarded).
// body is req's body when a failure to read it must be told apart from a
// lost agent (nil otherwise).
func (c *Client) send(req *http.Request, body *trackedBody, out any) error {
	method, path := req.Method, req.URL.Path
	resp, err := c.http.Do(req)
	if err != nil {
		if berr := body.failure(); berr != nil {
			return fmt.Errorf("%w: node %s, %s %s: %w", ErrRequestBody, c.nodeID, method, path, berr)
		}
		return fmt.Errorf("%w: node %s, %s %s: %w", ErrUnreachable, c.nodeID, method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return c.agentError(resp)
	}
	rd := io.LimitReader(resp.Body, maxAnswerBytes)
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, rd)
		return nil
	}
	if err := json.NewDecoder(rd).Decode(out); err != nil {
		return fmt.Errorf("node %s agent %s %s: decode answer: %w", c.nodeID, method, path, err)
	}
	return nil
}

// stream sends a bodiless request and returns the agent's answer for the
// caller to read and close; an answer of 300 or more is an *AgentError.
func (c *Client) stream(ctx context.Context, method, path string, query url.Values) (*http.Response, error) {
	target := "http://agent" + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return nil, fmt.Errorf("agent request %s %s: %w", method, path, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: node %s, %s %s: %w", ErrUnreachable, c.nodeID, method, path, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, c.agentError(resp)
	}
	return resp, nil
}

// agentError reads a refusal's body (bounded) into an *AgentError; a body
// that is not the wire envelope becomes a code naming the status.
func (c *Client) agentError(resp *http.Response) *AgentError {
	var eb wire.ErrorBody
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if json.Unmarshal(raw, &eb) != nil || eb.Error.Code == "" {
		eb.Error = wire.ErrorDetail{Code: fmt.Sprintf("http_%d", resp.StatusCode), Message: truncate(strings.TrimSpace(string(raw)), 300)}
	}
	return &AgentError{NodeID: c.nodeID, Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
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

// Backups and archives (sdk/wire/backups.go). None of these calls has a
// time limit of its own: a backup of a large volume takes as long as it
// takes, and ending ctx abandons it on the agent.

// Backup makes a backup of a server's volume into one of the node's
// backup stores and answers once the object is stored.
func (c *Client) Backup(ctx context.Context, serverID string, req wire.BackupRequest) (wire.BackupResult, error) {
	var out wire.BackupResult
	err := c.doJSON(ctx, http.MethodPost, wire.AgentServerPath(serverID, wire.BackupsSuffix), req, &out)
	return out, err
}

// RestoreBackup restores a backup object of the node's stores into the
// server's volume, which the agent checks is stopped.
func (c *Client) RestoreBackup(ctx context.Context, serverID string, req wire.RestoreRequest) (wire.ArchiveResult, error) {
	var out wire.ArchiveResult
	err := c.doJSON(ctx, http.MethodPost, wire.AgentServerPath(serverID, wire.BackupRestoreSuffix), req, &out)
	return out, err
}

func objectQuery(store, key string) url.Values {
	return url.Values{"store": {store}, "key": {key}}
}

// BackupObject returns a backup object's bytes (Content-Length set) for
// the caller to read and close.
func (c *Client) BackupObject(ctx context.Context, serverID, store, key string) (*http.Response, error) {
	return c.stream(ctx, http.MethodGet, wire.AgentServerPath(serverID, wire.BackupObjectSuffix), objectQuery(store, key))
}

// DeleteBackupObject deletes a backup object; a missing one is no error.
func (c *Client) DeleteBackupObject(ctx context.Context, serverID, store, key string) error {
	resp, err := c.stream(ctx, http.MethodDelete, wire.AgentServerPath(serverID, wire.BackupObjectSuffix), objectQuery(store, key))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBytes))
	return nil
}

// Archive returns the server's volume as a compressed tar for the caller
// to read and close. Once the body has been read to its end, the
// archive's hex sha256 is in resp.Trailer (wire.ArchiveSHA256Trailer).
func (c *Client) Archive(ctx context.Context, serverID string) (*http.Response, error) {
	return c.stream(ctx, http.MethodGet, wire.AgentServerPath(serverID, wire.ArchiveSuffix), nil)
}

// PutArchiveOptions say how PutArchive restores its stream.
type PutArchiveOptions struct {
	// SHA256 is the archive's hex digest when known before it is sent;
	// when empty, Trailer gives it once the body has been read to its end
	// and it travels as the wire.ArchiveSHA256Trailer trailer.
	SHA256  string
	Trailer func() string
	// Wipe removes the files the archive does not hold.
	Wipe bool
}

// PutArchive streams an archive (as Archive makes) into the server's
// volume, which the agent checks is configured and stopped; the agent
// swaps it in only once the whole stream has checked out. A body that
// fails to read, or whose Trailer gives no digest, is ErrRequestBody and
// the agent keeps nothing of it.
func (c *Client) PutArchive(ctx context.Context, serverID string, body io.Reader, o PutArchiveOptions) (wire.ArchiveResult, error) {
	var out wire.ArchiveResult
	path := wire.AgentServerPath(serverID, wire.ArchiveSuffix)
	if o.SHA256 == "" && o.Trailer == nil {
		return out, fmt.Errorf("put archive on node %s: neither a sha256 nor a trailer to give one", c.nodeID)
	}
	q := url.Values{"wipe": {strconv.FormatBool(o.Wipe)}}
	if o.SHA256 != "" {
		q.Set("sha256", o.SHA256)
	}
	tb := &trackedBody{r: body}
	var rd io.Reader = tb
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://agent"+path+"?"+q.Encode(), nil)
	if err != nil {
		return out, fmt.Errorf("agent request POST %s: %w", path, err)
	}
	if o.SHA256 == "" {
		// net/http sends req.Trailer after the last chunk, as it is when
		// the body returns EOF: the digest is set just before that.
		req.Trailer = http.Header{wire.ArchiveSHA256Trailer: nil}
		tb = &trackedBody{r: &trailerSetter{r: body, set: func() error {
			sum := o.Trailer()
			if sum == "" {
				return errors.New("the archive stream ended without its sha256")
			}
			req.Trailer.Set(wire.ArchiveSHA256Trailer, sum)
			return nil
		}}}
		rd = tb
	}
	req.Body = io.NopCloser(rd)
	req.ContentLength = -1 // chunked: the length is not known ahead
	req.Header.Set("Content-Type", "application/octet-stream")
	err = c.send(req, tb, &out)
	return out, err
}

// trailerSetter calls set when r reaches its end, before passing the EOF
// on; an error from set takes the EOF's place.
type trailerSetter struct {
	r    io.Reader
	set  func() error
	done bool
}

func (t *trailerSetter) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if errors.Is(err, io.EOF) && !t.done {
		t.done = true
		if serr := t.set(); serr != nil {
			return n, serr
		}
	}
	return n, err
}
