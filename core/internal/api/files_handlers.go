package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
	"github.com/gin-gonic/gin"
)

// The file manager's routes are the agent's file API (sdk/wire/files.go)
// under filesPath: each forwards to the same suffix on the server's node
// with the same query, and streams bodies both ways through the tunnel,
// never holding a file. The route table gives each its permission.
const filesPath = "/api/servers/:id/files"

// fileBody is what a file route's request carries.
type fileBody int

const (
	bodyNone      fileBody = iota
	bodyRaw                // the file's bytes
	bodyMultipart          // multipart/form-data with "files" parts
	bodyJSON               // a wire request, checked and re-encoded
)

// fileOp is how the forwarder serves one file route.
type fileOp struct {
	// action is the audit action; empty for lookups (list, stat, search),
	// which would only be noise.
	action string
	body   fileBody
	// decode binds and returns the JSON body (bodyJSON only).
	decode func(c *gin.Context) (any, error)
	// stream relays the answer's bytes and headers as they come; otherwise
	// the answer is JSON and goes out in the data envelope.
	stream bool
	// meta describes the call for the audit log.
	meta func(fc *fileCall) map[string]any
}

// fileCall is what one request carried and got, for the audit log.
type fileCall struct {
	query url.Values
	// req is the decoded JSON body (bodyJSON routes).
	req any
	// answer is the agent's JSON answer; nil for 204 and streamed answers.
	answer json.RawMessage
	// declared is the request's Content-Length (-1 when unknown).
	declared int64
	// sent counts the bytes streamed back; rangeAsked is the Range header.
	sent       int64
	rangeAsked string
}

// Headers that pass each way. Everything else stays on its side: the
// agent never sees the caller's credentials, the caller never sees the
// agent's internals.
var (
	fileRequestHeaders  = []string{"Content-Type", "Range", "If-Range", "If-Modified-Since", "If-None-Match"}
	fileResponseHeaders = []string{"Content-Type", "Content-Length", "Content-Range", "Accept-Ranges", "Last-Modified", "ETag", "Content-Disposition"}
)

// maxFileAnswer bounds a JSON answer of the agent's file API (a listing
// page is far smaller).
const maxFileAnswer = 8 << 20

// maxAuditList bounds the paths or names one audit entry lists; the count
// is always recorded.
const maxAuditList = 100

// uploadLimit is the largest body of a file write or upload.
func (a *API) uploadLimit() int64 { return a.Config.Files.MaxUploadMB << 20 }

// fileLookup serves list, stat and search: not audited.
func (a *API) fileLookup() gin.HandlerFunc { return a.forwardFiles(fileOp{}) }

// fileSend serves a file's bytes (content, download).
func (a *API) fileSend(action string) gin.HandlerFunc {
	return a.forwardFiles(fileOp{action: action, stream: true, meta: sendMeta})
}

// fileReceive serves a file write (raw body) or an upload (multipart).
func (a *API) fileReceive(action string, body fileBody) gin.HandlerFunc {
	meta := writeMeta
	if body == bodyMultipart {
		meta = uploadMeta
	}
	return a.forwardFiles(fileOp{action: action, body: body, meta: meta})
}

// fileCommand serves a route taking a JSON request of type T; meta
// describes it (and the agent's answer, nil when it failed) for the audit.
func fileCommand[T any](a *API, action string, meta func(req *T, answer json.RawMessage) map[string]any) gin.HandlerFunc {
	return a.forwardFiles(fileOp{
		action: action,
		body:   bodyJSON,
		decode: func(c *gin.Context) (any, error) {
			v := new(T)
			return v, bind(c, v)
		},
		meta: func(fc *fileCall) map[string]any { return meta(fc.req.(*T), fc.answer) },
	})
}

// forwardFiles is the one forwarder behind every file route.
func (a *API) forwardFiles(op fileOp) gin.HandlerFunc {
	return func(c *gin.Context) {
		srv := serverOf(c)
		fc := &fileCall{query: c.Request.URL.Query(), declared: c.Request.ContentLength, rangeAsked: c.GetHeader("Range")}
		req, err := a.fileRequest(c, op, fc)
		if err != nil {
			// A malformed request never reached the node: not audited, as
			// with every other route.
			a.fail(c, err)
			return
		}
		resp, err := a.callFiles(c.Request.Context(), srv, req)
		if err != nil {
			a.fileAudit(c, op, srv.ID, fc, err)
			a.fail(c, err)
			return
		}
		defer resp.Body.Close()
		if op.stream {
			err = relayBytes(c, resp, fc)
		} else {
			err = a.relayJSON(c, resp, fc)
		}
		a.fileAudit(c, op, srv.ID, fc, err)
	}
}

// fileRequest checks the caller's request and turns it into the agent's.
func (a *API) fileRequest(c *gin.Context, op fileOp, fc *fileCall) (gateway.FileRequest, error) {
	req := gateway.FileRequest{
		Method:   c.Request.Method,
		Suffix:   strings.TrimPrefix(c.FullPath(), filesPath),
		RawQuery: c.Request.URL.RawQuery,
		Header:   http.Header{},
	}
	for _, h := range fileRequestHeaders {
		if v := c.Request.Header.Values(h); len(v) > 0 {
			req.Header[h] = v
		}
	}
	switch op.body {
	case bodyNone:
		req.Header.Del("Content-Type")
	case bodyRaw, bodyMultipart:
		if op.body == bodyMultipart {
			mt, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
			if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
				return req, &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
					Message: fmt.Sprintf("send multipart/form-data with a boundary and the files as \"files\" parts, not %q", c.GetHeader("Content-Type"))}
			}
		} else if req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		// A declared size over the limit is refused before a byte moves;
		// an undeclared one is cut off by the route's body limit.
		if limit := a.uploadLimit(); c.Request.ContentLength > limit {
			return req, &http.MaxBytesError{Limit: limit}
		}
		req.Body, req.ContentLength = c.Request.Body, c.Request.ContentLength
		if c.Request.Body == nil {
			req.Body, req.ContentLength = http.NoBody, 0
		}
	case bodyJSON:
		v, err := op.decode(c)
		if err != nil {
			return req, err
		}
		fc.req = v
		b, err := json.Marshal(v)
		if err != nil {
			return req, fmt.Errorf("encode %T for the agent: %w", v, err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Body, req.ContentLength = bytes.NewReader(b), int64(len(b))
	}
	return req, nil
}

// callFiles sends req to the node of srv, unless the server's state puts
// its files out of reach: an installer or a transfer is writing them, or
// the server is suspended.
func (a *API) callFiles(ctx context.Context, srv *store.Server, req gateway.FileRequest) (*http.Response, error) {
	switch srv.State {
	case store.StateInstalling, store.StateTransferring, store.StateSuspended:
		return nil, &servers.StateError{Action: "use the files of", State: srv.State}
	}
	agent, err := a.Gateway.Agent(srv.NodeID)
	if err != nil {
		return nil, err
	}
	return agent.Files(ctx, srv.ID, req)
}

// errStreamCut is a streamed answer that ended early: the node's stream
// broke or the caller went away. Only the audit log sees it; the caller
// already has the status and a short body.
var errStreamCut = &Error{Status: http.StatusBadGateway, Code: "stream_interrupted", Message: "the file stream ended before its end"}

// relayBytes copies the answer's status, the headers a client needs for
// files and ranges, and its body as it arrives.
func relayBytes(c *gin.Context, resp *http.Response, fc *fileCall) error {
	h := c.Writer.Header()
	for _, k := range fileResponseHeaders {
		if v := resp.Header.Values(k); len(v) > 0 {
			h[k] = v
		}
	}
	c.Status(resp.StatusCode)
	c.Writer.WriteHeaderNow()
	n, err := io.Copy(c.Writer, resp.Body)
	fc.sent = n
	if err != nil {
		return fmt.Errorf("%w: after %d bytes: %w", errStreamCut, n, err)
	}
	return nil
}

// relayJSON answers with the agent's JSON in the data envelope; the
// agent's answer is bounded and must be JSON, as everything from a node is
// checked before it is passed on.
func (a *API) relayJSON(c *gin.Context, resp *http.Response, fc *fileCall) error {
	if resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxFileAnswer))
		c.Status(resp.StatusCode)
		c.Writer.WriteHeaderNow()
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxFileAnswer+1))
	if err == nil && (len(raw) > maxFileAnswer || !json.Valid(raw)) {
		err = errors.New("not a JSON value within 8 MiB")
	}
	if err != nil {
		err = &Error{Status: http.StatusBadGateway, Code: "agent_error", Message: "the node's agent sent an unreadable answer: " + err.Error()}
		a.fail(c, err)
		return err
	}
	fc.answer = raw
	respond(c, resp.StatusCode, json.RawMessage(raw))
	return nil
}

// fileAudit records a file route's call when the route is audited.
func (a *API) fileAudit(c *gin.Context, op fileOp, serverID string, fc *fileCall, err error) {
	if op.action == "" {
		return
	}
	var meta map[string]any
	if op.meta != nil {
		meta = op.meta(fc)
	}
	a.serverAudit(c, op.action, serverID, err, meta)
}

func sendMeta(fc *fileCall) map[string]any {
	m := map[string]any{"path": fc.query.Get("path"), "bytes": fc.sent}
	if fc.rangeAsked != "" {
		m["range"] = fc.rangeAsked
	}
	return m
}

func writeMeta(fc *fileCall) map[string]any {
	m := map[string]any{"path": fc.query.Get("path")}
	var fi wire.FileInfo
	if json.Unmarshal(fc.answer, &fi) == nil && fi.Path != "" {
		m["path"], m["bytes"] = fi.Path, fi.Size
	} else if fc.declared >= 0 {
		m["declared_bytes"] = fc.declared
	}
	return m
}

func uploadMeta(fc *fileCall) map[string]any {
	m := map[string]any{"directory": fc.query.Get("path")}
	var fis []wire.FileInfo
	if json.Unmarshal(fc.answer, &fis) != nil {
		if fc.declared >= 0 {
			m["declared_bytes"] = fc.declared
		}
		return m
	}
	var total int64
	names := make([]string, 0, min(len(fis), maxAuditList))
	for _, fi := range fis {
		total += fi.Size
		if len(names) < maxAuditList {
			names = append(names, fi.Path)
		}
	}
	m["files"], m["count"], m["bytes"] = names, len(fis), total
	return m
}

// answerInfo is the FileInfo an operation answered with; zero when it
// failed.
func answerInfo(answer json.RawMessage) wire.FileInfo {
	var fi wire.FileInfo
	_ = json.Unmarshal(answer, &fi)
	return fi
}

func capList(paths []string) []string {
	if len(paths) > maxAuditList {
		return paths[:maxAuditList]
	}
	return paths
}

func mkdirMeta(req *wire.MkdirRequest, _ json.RawMessage) map[string]any {
	return map[string]any{"path": req.Path}
}

func renameMeta(req *wire.RenameRequest, _ json.RawMessage) map[string]any {
	return map[string]any{"from": req.From, "to": req.To}
}

func copyMeta(req *wire.CopyRequest, answer json.RawMessage) map[string]any {
	to := req.To
	if fi := answerInfo(answer); fi.Path != "" {
		to = fi.Path
	}
	return map[string]any{"from": req.From, "to": to}
}

func deleteMeta(req *wire.DeleteRequest, _ json.RawMessage) map[string]any {
	return map[string]any{"paths": capList(req.Paths), "count": len(req.Paths)}
}

func chmodMeta(req *wire.ChmodRequest, _ json.RawMessage) map[string]any {
	return map[string]any{"path": req.Path, "mode": req.Mode}
}

func compressMeta(req *wire.CompressRequest, answer json.RawMessage) map[string]any {
	m := map[string]any{"directory": req.Directory, "paths": capList(req.Paths), "count": len(req.Paths), "format": req.Format}
	if fi := answerInfo(answer); fi.Path != "" {
		m["archive"], m["bytes"] = fi.Path, fi.Size
	}
	return m
}

func decompressMeta(req *wire.DecompressRequest, _ json.RawMessage) map[string]any {
	return map[string]any{"path": req.Path, "destination": req.Destination}
}

func pullMeta(req *wire.PullRequest, answer json.RawMessage) map[string]any {
	// A password in the URL stays out of the log.
	u := req.URL
	if parsed, err := url.Parse(req.URL); err == nil {
		u = parsed.Redacted()
	}
	m := map[string]any{"url": u, "directory": req.Directory}
	if fi := answerInfo(answer); fi.Path != "" {
		m["path"], m["bytes"] = fi.Path, fi.Size
	}
	return m
}
