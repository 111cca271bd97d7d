package webhook

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"catalyst.dev/sdk/plugin"
)

// receiver is a real HTTP server that records what reaches it.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []received
}

type received struct {
	header http.Header
	body   []byte
	method string
}

// newReceiver serves answer after recording each request.
func newReceiver(t *testing.T, answer http.HandlerFunc) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.requests = append(rc.requests, received{header: r.Header.Clone(), body: body, method: r.Method})
		rc.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.requests...)
}

func newTestClient(t *testing.T, o ClientOptions) *http.Client {
	t.Helper()
	c, err := NewClient(o)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// deliveryError returns err's *plugin.DeliveryError, failing the test when
// there is none.
func deliveryError(t *testing.T, err error) *plugin.DeliveryError {
	t.Helper()
	var de *plugin.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("want a *plugin.DeliveryError, got %T: %v", err, err)
	}
	return de
}

func TestSendSignsWhatTheReceiverVerifies(t *testing.T) {
	secret := []byte("shared secret")
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

	body := []byte(`{"version":1,"id":"d-1"}`)
	err := Send(context.Background(), newTestClient(t, ClientOptions{}), Request{
		URL: rc.URL + "/hooks/catalyst?x=1", ID: "d-1", Body: body, Secret: secret,
		Headers: map[string]string{"Authorization": "Bearer abc", "x-extra": "1"},
	})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	reqs := rc.got()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	if err := Verify(secret, got.header, got.body, time.Now(), DefaultTolerance); err != nil {
		t.Fatalf("the receiver cannot verify the delivery: %v", err)
	}
	if got.method != http.MethodPost || string(got.body) != string(body) {
		t.Errorf("receiver got %s %q, want POST %q", got.method, got.body, body)
	}
	for name, want := range map[string]string{
		"Content-Type":  "application/json",
		"User-Agent":    "Catalyst-Webhook/1",
		HeaderID:        "d-1",
		"Authorization": "Bearer abc",
		"X-Extra":       "1",
	} {
		if v := got.header.Get(name); v != want {
			t.Errorf("header %s = %q, want %q", name, v, want)
		}
	}
}

func TestSendWithoutSecretIsUnsigned(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {})
	if err := Send(context.Background(), newTestClient(t, ClientOptions{}), Request{URL: rc.URL, ID: "d-2", Body: []byte("{}")}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	h := rc.got()[0].header
	if h.Get(HeaderID) != "d-2" {
		t.Errorf("%s = %q, want d-2", HeaderID, h.Get(HeaderID))
	}
	for _, name := range []string{HeaderTimestamp, HeaderSignature} {
		if _, ok := h[name]; ok {
			t.Errorf("unsigned delivery carries %s", name)
		}
	}
}

func TestSendClassifiesStatuses(t *testing.T) {
	tests := []struct {
		status     int
		header     map[string]string
		wantOK     bool
		retryable  bool
		retryAfter time.Duration
	}{
		{status: 200, wantOK: true},
		{status: 202, wantOK: true},
		{status: 204, wantOK: true},
		{status: 301, header: map[string]string{"Location": "https://elsewhere.example/hook?token=hidden"}},
		{status: 302, header: map[string]string{"Location": "/moved"}},
		{status: 307, header: map[string]string{"Location": "https://elsewhere.example/hook"}},
		{status: 400},
		{status: 401},
		{status: 403},
		{status: 404},
		{status: 410},
		{status: 413},
		{status: 422},
		{status: 408, retryable: true},
		{status: 425, retryable: true},
		{status: 429, retryable: true},
		{status: 429, header: map[string]string{"Retry-After": "7"}, retryable: true, retryAfter: 7 * time.Second},
		{status: 500, retryable: true},
		{status: 502, retryable: true},
		{status: 503, header: map[string]string{"Retry-After": "120"}, retryable: true, retryAfter: 2 * time.Minute},
		{status: 504, retryable: true},
		// A hint on a permanent failure changes nothing.
		{status: 404, header: map[string]string{"Retry-After": "7"}},
	}
	client := newTestClient(t, ClientOptions{})
	for _, tt := range tests {
		name := strconv.Itoa(tt.status)
		if len(tt.header) > 0 {
			name += " with headers"
		}
		t.Run(name, func(t *testing.T) {
			rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, "receiver says\nno")
			})
			err := Send(context.Background(), client, Request{URL: rc.URL + "/hook?token=sekrit", ID: "d", Body: []byte("{}"), Secret: []byte("k")})
			if n := len(rc.got()); n != 1 {
				t.Fatalf("receiver got %d requests, want 1 (redirects must not be followed)", n)
			}
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				return
			}
			de := deliveryError(t, err)
			if de.Retryable != tt.retryable {
				t.Errorf("retryable = %v, want %v (%v)", de.Retryable, tt.retryable, err)
			}
			if de.RetryAfter != tt.retryAfter {
				t.Errorf("retry after = %v, want %v", de.RetryAfter, tt.retryAfter)
			}
			msg := err.Error()
			host := strings.TrimPrefix(rc.URL, "http://")
			for _, want := range []string{host, strconv.Itoa(tt.status), "receiver says no"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			if strings.Contains(msg, "sekrit") || strings.Contains(msg, "hidden") {
				t.Errorf("error %q quotes a query string", msg)
			}
			if loc := tt.header["Location"]; loc != "" {
				if want, _, _ := strings.Cut(loc, "?"); !strings.Contains(msg, want) {
					t.Errorf("error %q does not name the redirect target %q", msg, want)
				}
			}
		})
	}
}

func TestSendNetworkFailuresAreRetryable(t *testing.T) {
	// A port nothing listens on: take one, then free it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + l.Addr().String() + "/hook?token=sekrit"
	l.Close()

	// A receiver that never answers.
	stop := make(chan struct{})
	slow := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	t.Cleanup(func() { close(stop) })

	tests := []struct {
		name   string
		url    string
		client ClientOptions
	}{
		{name: "connection refused", url: closedURL},
		{name: "timeout", url: slow.URL + "/hook?token=sekrit", client: ClientOptions{Timeout: 200 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Send(context.Background(), newTestClient(t, tt.client), Request{URL: tt.url, ID: "d", Body: []byte("{}")})
			de := deliveryError(t, err)
			if !de.Retryable || de.RetryAfter != 0 {
				t.Errorf("got retryable=%v after=%v, want retryable without hint (%v)", de.Retryable, de.RetryAfter, err)
			}
			if strings.Contains(err.Error(), "sekrit") {
				t.Errorf("error %q quotes the query string", err)
			}
			if !strings.Contains(err.Error(), strings.TrimPrefix(strings.Split(tt.url, "/hook")[0], "http://")) {
				t.Errorf("error %q does not name the host", err)
			}
		})
	}
}

func TestSendCancelledIsRetryable(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Send(ctx, newTestClient(t, ClientOptions{}), Request{URL: rc.URL, Body: []byte("{}")})
	if de := deliveryError(t, err); !de.Retryable || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want a retryable error wrapping context.Canceled", err)
	}
}

func TestSendRefusesRequestsItCannotSendAsGiven(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {})
	tests := []struct {
		name    string
		req     Request
		mention string
	}{
		{name: "override Content-Type", req: Request{URL: rc.URL, Headers: map[string]string{"content-type": "text/plain"}}, mention: "Content-Type"},
		{name: "override the signature", req: Request{URL: rc.URL, Secret: []byte("k"), Headers: map[string]string{HeaderSignature: "v1=00"}}, mention: HeaderSignature},
		{name: "override the timestamp", req: Request{URL: rc.URL, Headers: map[string]string{"catalyst-webhook-timestamp": "1"}}, mention: HeaderTimestamp},
		{name: "override the ID", req: Request{URL: rc.URL, Headers: map[string]string{HeaderID: "other"}}, mention: HeaderID},
		{name: "any Catalyst-Webhook header", req: Request{URL: rc.URL, Headers: map[string]string{"Catalyst-Webhook-Version": "2"}}, mention: "Catalyst-Webhook-Version"},
		{name: "Host header", req: Request{URL: rc.URL, Headers: map[string]string{"Host": "evil.example"}}, mention: "Host"},
		{name: "header name with a space", req: Request{URL: rc.URL, Headers: map[string]string{"X Bad": "1"}}, mention: "X Bad"},
		{name: "header value with a line break", req: Request{URL: rc.URL, Headers: map[string]string{"X-Token": "a\r\nInjected: 1"}}, mention: "X-Token"},
		{name: "ID with a line break", req: Request{URL: rc.URL, ID: "a\nb"}, mention: "ID"},
		{name: "ftp URL", req: Request{URL: "ftp://example.com/x"}, mention: "ftp"},
		{name: "relative URL", req: Request{URL: "/hooks"}, mention: "absolute"},
		{name: "empty URL", req: Request{}, mention: "empty"},
		{name: "unparsable URL", req: Request{URL: "http://[::1/x?token=sekrit"}, mention: "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Body = []byte("{}")
			err := Send(context.Background(), newTestClient(t, ClientOptions{}), tt.req)
			if de := deliveryError(t, err); de.Retryable {
				t.Errorf("retryable, want permanent: %v", err)
			}
			if !errors.Is(err, plugin.ErrInvalidArgument) {
				t.Errorf("error %v does not wrap ErrInvalidArgument", err)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if strings.Contains(err.Error(), "sekrit") || strings.Contains(err.Error(), "Injected") {
				t.Errorf("error %q quotes a secret or a header value", err)
			}
		})
	}
	if n := len(rc.got()); n != 0 {
		t.Errorf("receiver got %d requests, want none", n)
	}
}

// countingTransport counts what Send reads of each response body and
// whether it closes it.
type countingTransport struct {
	base http.RoundTripper
	body *countingBody
}

type countingBody struct {
	io.ReadCloser
	read   int
	closed bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.read += n
	return n, err
}

func (b *countingBody) Close() error {
	b.closed = true
	return b.ReadCloser.Close()
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if err == nil {
		c.body = &countingBody{ReadCloser: resp.Body}
		resp.Body = c.body
	}
	return resp, err
}

func TestSendReadsAtMost64KiBAndQuotes256Bytes(t *testing.T) {
	const size = 1 << 20
	for _, status := range []int{http.StatusOK, http.StatusInternalServerError} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(status)
				w.Write([]byte(strings.Repeat("é", size/2)))
			})
			client := newTestClient(t, ClientOptions{})
			counter := &countingTransport{base: client.Transport}
			client.Transport = counter
			err := Send(context.Background(), client, Request{URL: rc.URL, Body: []byte("{}")})
			if status == http.StatusOK && err != nil {
				t.Fatalf("Send: %v", err)
			}
			if counter.body == nil || !counter.body.closed {
				t.Fatal("response body not closed")
			}
			if counter.body.read > 64<<10 {
				t.Errorf("read %d bytes of the response, want at most 64 KiB", counter.body.read)
			}
			if err != nil {
				quoted := strings.Count(err.Error(), "é") * len("é")
				if quoted == 0 || quoted > 256 {
					t.Errorf("error quotes %d bytes of the body, want 1 to 256: %v", quoted, err)
				}
				if strings.ContainsRune(err.Error(), '\uFFFD') {
					t.Error("the quote splits a UTF-8 sequence")
				}
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 30 ", 30 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"1.5", 0},
		{"soon", 0},
		{"3600", time.Hour},
		{"86400", time.Hour},
		{"99999999999999999999999", time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), time.Hour},
		{now.Add(2 * time.Minute).Format(time.RFC850), 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			if got := RetryAfter(h, now); got != tt.want {
				t.Errorf("RetryAfter(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url     string
		wantErr bool
	}{
		{"https://hooks.example.com/catalyst", false},
		{"http://10.0.0.5:8080/hook?token=x", false},
		{"HTTPS://hooks.example.com/", false},
		{"https://user:pass@hooks.example.com/", false},
		{"", true},
		{"hooks.example.com/catalyst", true},
		{"ftp://hooks.example.com/", true},
		{"https://", true},
		{"https:///path", true},
		{"mailto:ops@example.com", true},
		{"https://:443/", true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := CheckURL(tt.url)
			if (err != nil) != tt.wantErr {
				t.Fatalf("CheckURL(%q) = %v, want error %v", tt.url, err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, plugin.ErrInvalidArgument) {
				t.Errorf("error %v does not wrap ErrInvalidArgument", err)
			}
		})
	}
}
