package sftp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"catalyst.dev/sdk/wire"
)

// coreAuthURL is where the core answers login checks. The host is a
// placeholder: the client's transport opens a tunnel stream to the core
// whatever the URL names.
const coreAuthURL = "http://core" + wire.CorePathSFTPAuth

// maxAuthAnswer bounds how much of the core's answer is read.
const maxAuthAnswer = 1 << 20

// CoreAuth asks the core about each login (POST wire.CorePathSFTPAuth).
type CoreAuth struct {
	hc *http.Client
}

var _ Authenticator = (*CoreAuth)(nil)

// NewCoreAuth returns an Authenticator that sends each attempt through
// hc, whose transport reaches the core.
func NewCoreAuth(hc *http.Client) *CoreAuth {
	return &CoreAuth{hc: hc}
}

// Authenticate posts req to the core: 200 is a grant, 403 ErrDenied, 429
// ErrThrottled, anything else an error naming the status and the core's
// message.
func (a *CoreAuth) Authenticate(ctx context.Context, req wire.SFTPAuthRequest) (wire.SFTPGrant, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return wire.SFTPGrant{}, fmt.Errorf("encode sftp auth request: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, coreAuthURL, bytes.NewReader(body))
	if err != nil {
		return wire.SFTPGrant{}, fmt.Errorf("sftp auth request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(hreq)
	if err != nil {
		return wire.SFTPGrant{}, fmt.Errorf("ask the core about an sftp login: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAuthAnswer))
	if err != nil {
		return wire.SFTPGrant{}, fmt.Errorf("read the core's sftp auth answer: %w", err)
	}

	switch resp.StatusCode {
	case http.StatusOK:
		var g wire.SFTPGrant
		if err := json.Unmarshal(answer, &g); err != nil {
			return wire.SFTPGrant{}, fmt.Errorf("decode the core's sftp grant: %w", err)
		}
		if err := checkGrant(g); err != nil {
			return wire.SFTPGrant{}, fmt.Errorf("the core's sftp grant: %w", err)
		}
		return g, nil
	case http.StatusForbidden:
		return wire.SFTPGrant{}, fmt.Errorf("%w: %s", ErrDenied, coreMessage(answer))
	case http.StatusTooManyRequests:
		return wire.SFTPGrant{}, fmt.Errorf("%w: %s", ErrThrottled, coreMessage(answer))
	default:
		return wire.SFTPGrant{}, fmt.Errorf("the core answered the sftp login check with %s: %s", resp.Status, coreMessage(answer))
	}
}

// coreMessage is the message of an error answer, or the answer itself
// when it is not the wire.ErrorBody envelope.
func coreMessage(answer []byte) string {
	var e wire.ErrorBody
	if json.Unmarshal(answer, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	const max = 200
	if len(answer) > max {
		answer = answer[:max]
	}
	return string(bytes.TrimSpace(answer))
}
