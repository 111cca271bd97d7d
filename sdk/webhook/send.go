package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"catalyst.dev/sdk/plugin"
)

// UserAgent is sent with every delivery.
const UserAgent = "Catalyst-Webhook/1"

// Limits on what Send reads back and reports.
const (
	maxResponseRead  = 64 << 10 // read (then close) at most this much of a response
	maxResponseQuote = 256      // quote at most this much of it in an error
	maxRetryAfter    = time.Hour
)

// Request is one delivery.
type Request struct {
	URL     string
	ID      string            // -> HeaderID
	Body    []byte            // JSON
	Secret  []byte            // empty: sent unsigned (no timestamp/signature headers)
	Headers map[string]string // extra headers; may not override Content-Type or the Catalyst-Webhook-* headers (error)
}

// Send POSTs r (Content-Type: application/json, User-Agent: Catalyst-Webhook/1)
// signing it with time.Now(). Outcome:
//
//	2xx -> nil
//	network error, timeout, 408, 425, 429, 5xx -> plugin.RetryableError(err, RetryAfter(resp.Header, now))
//	any other status (3xx, 4xx) -> plugin.PermanentError(err)
//
// A request that cannot be sent as given (bad URL, a reserved or malformed
// header) and a connection refused by ClientOptions.DenyPrivate are
// permanent failures too: sending again would not change them.
//
// The error names the URL's host (never the query string, which may hold a
// token), the status, and up to 256 bytes of the response body. The
// response body is read at most 64 KiB and closed.
func Send(ctx context.Context, c *http.Client, r Request) error {
	u, err := parseURL(r.URL)
	if err != nil {
		return plugin.PermanentError(fmt.Errorf("webhook: %w", err))
	}
	if err := CheckHeaders(r.Headers); err != nil {
		return plugin.PermanentError(fmt.Errorf("webhook %s: %w", u.Host, err))
	}
	if !validHeaderValue(r.ID) {
		return plugin.PermanentError(fmt.Errorf("webhook %s: delivery ID %q is not a valid header value: %w", u.Host, r.ID, plugin.ErrInvalidArgument))
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return plugin.PermanentError(fmt.Errorf("webhook %s: build request: %w", u.Host, unwrapURLError(err)))
	}
	for name, value := range r.Headers {
		req.Header.Set(name, value)
	}
	req.Header.Set("Content-Type", "application/json")
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", UserAgent)
	}
	if r.ID != "" {
		req.Header.Set(HeaderID, r.ID)
	}
	if len(r.Secret) > 0 {
		now := time.Now()
		req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(HeaderSignature, Sign(r.Secret, now, r.Body))
	}

	resp, err := c.Do(req)
	if err != nil {
		// url.Error would print the whole URL, query and all.
		err = fmt.Errorf("webhook %s: %w", u.Host, unwrapURLError(err))
		if errors.Is(err, ErrAddressDenied) {
			return plugin.PermanentError(err)
		}
		return plugin.RetryableError(err, 0)
	}
	defer resp.Body.Close()
	// A failed read changes nothing: the status has already decided.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseRead))
	return outcome(u.Host, resp, body, time.Now())
}

// outcome classifies a response as Send documents.
func outcome(host string, resp *http.Response, body []byte, now time.Time) error {
	code := resp.StatusCode
	if code >= 200 && code <= 299 {
		return nil
	}
	msg := fmt.Sprintf("webhook %s answered %s", host, resp.Status)
	if code >= 300 && code <= 399 {
		msg += ", redirecting to " + redactedLocation(resp.Header.Get("Location")) + " (redirects are not followed; configure the final URL)"
	}
	if quote := quoteBody(body); quote != "" {
		msg += ": " + quote
	}
	err := errors.New(msg)
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests, code >= 500:
		return plugin.RetryableError(err, RetryAfter(resp.Header, now))
	}
	return plugin.PermanentError(err)
}

// RetryAfter parses a Retry-After header (delta seconds or HTTP-date);
// 0 when absent or unparsable; capped at 1h.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	secs, err := strconv.ParseUint(v, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange), err == nil && secs > uint64(maxRetryAfter/time.Second):
		return maxRetryAfter
	case err == nil:
		return time.Duration(secs) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return min(max(t.Sub(now), 0), maxRetryAfter)
}

// CheckURL reports whether raw is a URL deliveries can go to: absolute,
// http or https, with a host. Errors wrap plugin.ErrInvalidArgument and
// never quote the path or query, which may hold a token.
func CheckURL(raw string) error {
	_, err := parseURL(raw)
	return err
}

func parseURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("URL is empty: %w", plugin.ErrInvalidArgument)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a valid URL: %w: %w", unwrapURLError(err), plugin.ErrInvalidArgument)
	}
	if u.Scheme == "" {
		return nil, fmt.Errorf("URL is not absolute (want https://host/path): %w", plugin.ErrInvalidArgument)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("URL scheme %q is not http or https: %w", truncate(u.Scheme, 16), plugin.ErrInvalidArgument)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, fmt.Errorf("URL has no host (want %s://host/path): %w", u.Scheme, plugin.ErrInvalidArgument)
	}
	return u, nil
}

// Headers the HTTP client itself writes; setting them by hand is ignored
// or breaks the request's framing.
var transportHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true, "Trailer": true,
}

// CheckHeaders reports whether h can be sent as Request.Headers: valid
// names and values, none of them Content-Type, a Catalyst-Webhook-* header
// or one the HTTP client writes itself (Host, Content-Length, …). Errors
// name the header and wrap plugin.ErrInvalidArgument; values are never
// quoted, since they are often credentials.
func CheckHeaders(h map[string]string) error {
	for name, value := range h {
		canonical := http.CanonicalHeaderKey(name)
		switch {
		case !validHeaderName(name):
			return fmt.Errorf("header name %q is not a valid HTTP token: %w", truncate(name, 64), plugin.ErrInvalidArgument)
		case canonical == "Content-Type", strings.HasPrefix(canonical, "Catalyst-Webhook-"):
			return fmt.Errorf("header %s is set by the webhook sender and may not be overridden: %w", canonical, plugin.ErrInvalidArgument)
		case transportHeaders[canonical]:
			return fmt.Errorf("header %s is written by the HTTP client and may not be set: %w", canonical, plugin.ErrInvalidArgument)
		case !validHeaderValue(value):
			return fmt.Errorf("header %s: value holds a line break or control character: %w", canonical, plugin.ErrInvalidArgument)
		}
	}
	return nil
}

// validHeaderName: a non-empty RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue: no control characters but horizontal tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redactedLocation keeps a redirect target's scheme, host and path: enough
// to fix the configuration, without a token its query may carry.
func redactedLocation(loc string) string {
	if loc == "" {
		return "nowhere (no Location header)"
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "an unparsable Location"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return truncate(u.String(), 200)
}

// quoteBody is the start of a response body, on one line, for an error.
func quoteBody(body []byte) string {
	cut := len(body) > maxResponseQuote
	if cut {
		n := maxResponseQuote
		for n > 0 && !utf8.RuneStart(body[n]) {
			n--
		}
		body = body[:n]
	}
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "\uFFFD")), " ")
	if cut {
		s += " …"
	}
	return s
}
