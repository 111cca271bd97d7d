package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"catalyst.dev/sdk/wire"
)

// Archive streams server id's volume from the agent; the digest is in
// resp.Trailer once the body is read to EOF.
func (c *Client) Archive(ctx context.Context, id string) (*http.Response, error) {
	path := wire.AgentServerPath(id, wire.ArchiveSuffix)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://agent"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: node %s, GET %s: %w", ErrUnreachable, c.nodeID, path, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, c.agentError(resp)
	}
	return resp, nil
}

// PutArchiveOptions tune PutArchive.
type PutArchiveOptions struct {
	SHA256  string
	Wipe    bool
	Trailer func() string
}

// PutArchive restores body into server id's volume.
func (c *Client) PutArchive(ctx context.Context, id string, body io.Reader, o PutArchiveOptions) (wire.ArchiveResult, error) {
	path := wire.AgentServerPath(id, wire.ArchiveSuffix)
	q := url.Values{"wipe": {strconv.FormatBool(o.Wipe)}}
	if o.SHA256 != "" {
		q.Set("sha256", o.SHA256)
	}
	tb := &trackedBody{r: body}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://agent"+path+"?"+q.Encode(), tb)
	if err != nil {
		return wire.ArchiveResult{}, err
	}
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/octet-stream")
	if o.SHA256 == "" && o.Trailer != nil {
		req.Trailer = http.Header{wire.ArchiveSHA256Trailer: nil}
		tb.onEOF = func() { req.Trailer.Set(wire.ArchiveSHA256Trailer, o.Trailer()) }
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if berr := tb.failure(); berr != nil {
			return wire.ArchiveResult{}, fmt.Errorf("%w: node %s, POST %s: %w", ErrRequestBody, c.nodeID, path, berr)
		}
		return wire.ArchiveResult{}, fmt.Errorf("%w: node %s, POST %s: %w", ErrUnreachable, c.nodeID, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return wire.ArchiveResult{}, c.agentError(resp)
	}
	var out wire.ArchiveResult
	if err := decodeAnswer(resp.Body, &out); err != nil {
		return wire.ArchiveResult{}, fmt.Errorf("node %s agent POST %s: decode answer: %w", c.nodeID, path, err)
	}
	return out, nil
}

func decodeAnswer(r io.Reader, out any) error {
	return json.NewDecoder(io.LimitReader(r, maxAnswerBytes)).Decode(out)
}
