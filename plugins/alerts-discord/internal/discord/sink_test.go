package discord

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/plugin"
)

// clock is a settable time source, so tests step over waits instead of
// sleeping through them.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func withClock(s *Sink) *clock {
	c := &clock{t: time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)}
	s.now = c.now
	return c
}

func TestRateLimit429(t *testing.T) {
	tests := []struct {
		name     string
		header   map[string]string
		body     string
		wantWait time.Duration
	}{
		{
			name:     "retry_after in the JSON body wins",
			header:   map[string]string{"Content-Type": "application/json", "Retry-After": "2", "X-RateLimit-Reset-After": "3"},
			body:     `{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}`,
			wantWait: 1500 * time.Millisecond,
		},
		{
			name:     "Retry-After header without a JSON body",
			header:   map[string]string{"Content-Type": "text/html", "Retry-After": "3"},
			body:     `<html>slow down</html>`,
			wantWait: 3 * time.Second,
		},
		{
			name:     "X-RateLimit-Reset-After alone",
			header:   map[string]string{"X-RateLimit-Reset-After": "0.75"},
			wantWait: 750 * time.Millisecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t)
			s := newSink(t, rc, nil)
			clk := withClock(s)
			rc.respond(func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = w.Write([]byte(tt.body))
			})
			de := deliveryError(t, s.Deliver(context.Background(), crashAlert("a")))
			if !de.Retryable || de.RetryAfter != tt.wantWait {
				t.Fatalf("retryable %v after %v, want retryable after %v (%v)", de.Retryable, de.RetryAfter, tt.wantWait, de)
			}

			// Until the wait is over, the sink refuses without asking Discord.
			clk.advance(tt.wantWait / 3)
			de = deliveryError(t, s.Deliver(context.Background(), crashAlert("b")))
			if !de.Retryable || de.RetryAfter <= 0 || de.RetryAfter > tt.wantWait-tt.wantWait/3 {
				t.Errorf("held-off delivery: retryable %v after %v, want the rest of %v", de.Retryable, de.RetryAfter, tt.wantWait)
			}
			if n := len(rc.messages()); n != 1 {
				t.Errorf("Discord got %d requests, want 1: the second must not be sent", n)
			}

			rc.respond(nil)
			clk.advance(tt.wantWait)
			if err := s.Deliver(context.Background(), crashAlert("b")); err != nil {
				t.Fatalf("Deliver after the wait: %v", err)
			}
		})
	}
}

func TestGlobalRateLimitHoldsEveryWebhook(t *testing.T) {
	for _, global := range []bool{true, false} {
		name := map[bool]string{true: "global", false: "per webhook"}[global]
		t.Run(name, func(t *testing.T) {
			rc := newReceiver(t)
			s := newSink(t, rc, nil)
			rc.respond(func(w http.ResponseWriter, r *http.Request) {
				if strings.Contains(r.URL.Path, "/webhooks/1/") {
					w.WriteHeader(http.StatusTooManyRequests)
					_, _ = w.Write([]byte(`{"message": "You are being rate limited.", "retry_after": 60, "global": ` + map[bool]string{true: "true", false: "false"}[global] + `}`))
				}
			})
			deliveryError(t, s.Deliver(context.Background(), crashAlert("a")))
			if err := configure(s, map[string]any{"webhook_url": rc.url("2"), "allow_insecure_url": true}); err != nil {
				t.Fatal(err)
			}
			err := s.Deliver(context.Background(), crashAlert("a"))
			if global {
				if de := deliveryError(t, err); !de.Retryable || de.RetryAfter <= 0 || de.RetryAfter > time.Minute {
					t.Errorf("another webhook during a global limit: retryable %v after %v", de.Retryable, de.RetryAfter)
				}
				if n := len(rc.messages()); n != 1 {
					t.Errorf("Discord got %d requests, want 1", n)
				}
				return
			}
			if err != nil {
				t.Errorf("another webhook is held off by webhook 1's limit: %v", err)
			}
		})
	}
}

func TestExhaustedBucketHoldsOffUntilReset(t *testing.T) {
	rc := newReceiver(t)
	s := newSink(t, rc, nil)
	clk := withClock(s)
	remaining := "0"
	rc.respond(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "5")
		w.Header().Set("X-RateLimit-Remaining", remaining)
		w.Header().Set("X-RateLimit-Reset-After", "2")
		w.WriteHeader(http.StatusNoContent)
	})
	if err := s.Deliver(context.Background(), crashAlert("a")); err != nil {
		t.Fatalf("Deliver answered 204: %v", err)
	}
	de := deliveryError(t, s.Deliver(context.Background(), crashAlert("b")))
	if !de.Retryable || de.RetryAfter <= 0 || de.RetryAfter > 2*time.Second {
		t.Errorf("delivery on an empty bucket: retryable %v after %v, want at most 2s", de.Retryable, de.RetryAfter)
	}
	if n := len(rc.messages()); n != 1 {
		t.Fatalf("Discord got %d requests, want 1", n)
	}

	remaining = "4"
	clk.advance(2 * time.Second)
	for _, id := range []string{"b", "c"} {
		if err := s.Deliver(context.Background(), crashAlert(id)); err != nil {
			t.Fatalf("Deliver %s after the reset: %v", id, err)
		}
	}
	if n := len(rc.messages()); n != 3 {
		t.Errorf("Discord got %d requests, want 3", n)
	}
}

func TestFailedDeliveries(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		header        map[string]string
		body          string
		wantRetryable bool
		wantHint      time.Duration
		wantSentinel  error
		wantText      string
	}{
		{
			name: "404 webhook deleted", status: 404, body: `{"message": "Unknown Webhook", "code": 10015}`,
			wantSentinel: plugin.ErrNotFound, wantText: "invalid or the webhook was deleted",
		},
		{
			name: "401 wrong token", status: 401, body: `{"message": "Invalid Webhook Token", "code": 50027}`,
			wantSentinel: plugin.ErrPermissionDenied, wantText: "Invalid Webhook Token",
		},
		{
			name: "403 forbidden", status: 403, wantSentinel: plugin.ErrPermissionDenied, wantText: "webhook URL is invalid",
		},
		{
			name: "400 message refused", status: 400,
			body:         `{"message": "Invalid Form Body", "code": 50035, "errors": {"embeds": {"0": {"title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}}}}}`,
			wantSentinel: plugin.ErrInvalidArgument, wantText: "BASE_TYPE_MAX_LENGTH",
		},
		{
			name: "413 too large", status: 413, wantSentinel: plugin.ErrInvalidArgument, wantText: "HTTP 413",
		},
		{
			name: "redirect not followed", status: 302, header: map[string]string{"Location": "/elsewhere"},
			wantSentinel: plugin.ErrInvalidArgument, wantText: "HTTP 302",
		},
		{
			name: "500", status: 500, wantRetryable: true, wantSentinel: plugin.ErrUnavailable, wantText: "HTTP 500",
		},
		{
			name: "503 with Retry-After", status: 503, header: map[string]string{"Retry-After": "7"},
			wantRetryable: true, wantHint: 7 * time.Second, wantSentinel: plugin.ErrUnavailable, wantText: "HTTP 503",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t)
			s := newSink(t, rc, nil)
			rc.respond(func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			err := s.Deliver(context.Background(), crashAlert("a"))
			de := deliveryError(t, err)
			if de.Retryable != tt.wantRetryable || de.RetryAfter != tt.wantHint {
				t.Errorf("retryable %v after %v, want %v after %v", de.Retryable, de.RetryAfter, tt.wantRetryable, tt.wantHint)
			}
			if !errors.Is(err, tt.wantSentinel) {
				t.Errorf("error is not %v: %v", tt.wantSentinel, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) || !strings.Contains(err.Error(), "/webhooks/1/***") {
				t.Errorf("error %q does not name the webhook and say %q", err, tt.wantText)
			}
		})
	}
}

func TestUnreachableWebhookIsRetryable(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		rc := newReceiver(t)
		s := newSink(t, rc, nil)
		rc.srv.Close()
		if de := deliveryError(t, s.Deliver(context.Background(), crashAlert("a"))); !de.Retryable {
			t.Errorf("not retryable: %v", de)
		}
	})
	t.Run("no answer within timeout", func(t *testing.T) {
		rc := newReceiver(t)
		s := newSink(t, rc, map[string]any{"timeout": "100ms"})
		rc.respond(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		de := deliveryError(t, s.Deliver(context.Background(), crashAlert("a")))
		if !de.Retryable || !strings.Contains(de.Error(), "timeout") {
			t.Errorf("want a retryable timeout, got %v", de)
		}
	})
}

func TestRedeliveryPostsOnce(t *testing.T) {
	rc := newReceiver(t)
	s := newSink(t, rc, nil)
	clk := withClock(s)
	deliver := func(id string) {
		t.Helper()
		if err := s.Deliver(context.Background(), crashAlert(id)); err != nil {
			t.Fatalf("Deliver %s: %v", id, err)
		}
	}
	requests := func(want int) {
		t.Helper()
		if n := len(rc.messages()); n != want {
			t.Fatalf("Discord got %d requests, want %d", n, want)
		}
	}

	deliver("a")
	deliver("a")
	requests(1)

	// A failed delivery is not remembered.
	rc.respond(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	deliveryError(t, s.Deliver(context.Background(), crashAlert("b")))
	rc.respond(nil)
	deliver("b")
	requests(3)

	// Another webhook is another destination.
	if err := configure(s, map[string]any{"webhook_url": rc.url("2"), "allow_insecure_url": true}); err != nil {
		t.Fatal(err)
	}
	deliver("a")
	requests(4)

	// Ten minutes on, the same ID is a new delivery.
	clk.advance(dedupWindow)
	deliver("a")
	requests(5)
}

func TestRecentKeepsNewestKeys(t *testing.T) {
	r := newRecent(3, time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, k := range []string{"a", "b", "c", "d"} {
		r.add(k, now.Add(time.Duration(i)*time.Second))
	}
	now = now.Add(5 * time.Second)
	if r.seen("a", now) {
		t.Error("the oldest key is still remembered beyond the size")
	}
	for _, k := range []string{"b", "c", "d"} {
		if !r.seen(k, now) {
			t.Errorf("%s forgotten", k)
		}
	}
	if len(r.at) != 3 {
		t.Errorf("%d keys held, want 3", len(r.at))
	}
	if r.seen("d", now.Add(time.Minute)) {
		t.Error("a key is remembered past the window")
	}
}

func TestConfigErrors(t *testing.T) {
	good := "https://discord.com/api/webhooks/1/" + token
	tests := []struct {
		name string
		cfg  map[string]any
		key  string
	}{
		{"missing webhook_url", map[string]any{}, "webhook_url"},
		{"http without allow_insecure_url", map[string]any{"webhook_url": "http://discord.com/api/webhooks/1/" + token}, "allow_insecure_url"},
		{"other scheme", map[string]any{"webhook_url": "ftp://discord.com/api/webhooks/1/" + token}, "webhook_url"},
		{"relative URL", map[string]any{"webhook_url": "/api/webhooks/1/" + token}, "webhook_url"},
		{"unparsable URL", map[string]any{"webhook_url": "https://discord.com/api/webhooks/1/" + token + "%zz"}, "webhook_url"},
		{"bad timeout", map[string]any{"webhook_url": good, "timeout": "soon"}, "timeout"},
		{"negative timeout", map[string]any{"webhook_url": good, "timeout": "-1s"}, "timeout"},
		{"long username", map[string]any{"webhook_url": good, "username": strings.Repeat("n", 81)}, "username"},
		{"username Discord refuses", map[string]any{"webhook_url": good, "username": "Discord Alerts"}, "username"},
		{"avatar_url not a URL", map[string]any{"webhook_url": good, "avatar_url": "avatar.png"}, "avatar_url"},
		{"mention of nobody", map[string]any{"webhook_url": good, "mention": "@oncall"}, "mention"},
		{"mention too long", map[string]any{"webhook_url": good, "mention": strings.Repeat("@here ", 200)}, "mention"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := configure(New(hclog.NewNullLogger()), tt.cfg)
			if !errors.Is(err, plugin.ErrInvalidArgument) || !strings.Contains(err.Error(), tt.key) {
				t.Fatalf("want ErrInvalidArgument naming %q, got %v", tt.key, err)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error gives the webhook token away: %v", err)
			}
		})
	}
}

func TestWebhookEndpoint(t *testing.T) {
	tests := []struct {
		in, endpoint, redacted string
	}{
		{
			"https://discord.com/api/webhooks/123/tok",
			"https://discord.com/api/v10/webhooks/123/tok?wait=true",
			"https://discord.com/api/v10/webhooks/123/***",
		},
		{
			"https://discord.com/api/v10/webhooks/123/tok?thread_id=9#x",
			"https://discord.com/api/v10/webhooks/123/tok?thread_id=9&wait=true",
			"https://discord.com/api/v10/webhooks/123/***",
		},
		{
			"https://relay.internal:8443/discord/abc",
			"https://relay.internal:8443/discord/abc?wait=true",
			"https://relay.internal:8443/***",
		},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			endpoint, redacted, err := webhookEndpoint(tt.in, false)
			if err != nil {
				t.Fatal(err)
			}
			if endpoint != tt.endpoint || redacted != tt.redacted {
				t.Errorf("got %s shown as %s, want %s shown as %s", endpoint, redacted, tt.endpoint, tt.redacted)
			}
		})
	}
}

// syncBuffer is a log destination safe for the HTTP client's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestTokenNeverLogged(t *testing.T) {
	rc := newReceiver(t)
	var logs syncBuffer
	s := New(hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs}))
	if err := configure(s, map[string]any{"webhook_url": rc.url("1"), "allow_insecure_url": true}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Deliver(context.Background(), crashAlert("a")); err != nil {
			t.Fatal(err)
		}
	}
	rc.respond(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
	deliveryError(t, s.Deliver(context.Background(), crashAlert("b")))
	if !strings.Contains(logs.String(), "/webhooks/1/***") {
		t.Errorf("the log does not name the webhook: %s", logs.String())
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("the log gives the webhook token away: %s", logs.String())
	}
}

func TestBucketCountsRequestsInFlight(t *testing.T) {
	l := newLimits()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.observe("hook", http.Header{"X-Ratelimit-Remaining": {"2"}, "X-Ratelimit-Reset-After": {"1.5"}}, now)
	// Two deliveries start before either answer comes back: the second
	// spends the last request, a third must wait.
	for i := range 2 {
		if wait := l.reserve("hook", now); wait != 0 {
			t.Fatalf("request %d held off for %v with requests left", i+1, wait)
		}
	}
	if wait := l.reserve("hook", now.Add(500*time.Millisecond)); wait != time.Second {
		t.Errorf("third request held off for %v, want the 1s left until the reset", wait)
	}
	if wait := l.reserve("other", now); wait != 0 {
		t.Errorf("another webhook held off for %v", wait)
	}
	if wait := l.reserve("hook", now.Add(1500*time.Millisecond)); wait != 0 {
		t.Errorf("held off for %v after the reset", wait)
	}
}

func TestRateLimit429WithoutWait(t *testing.T) {
	rc := newReceiver(t)
	s := newSink(t, rc, nil)
	rc.respond(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"message": "You are being rate limited.", "retry_after": 0}`))
	})
	de := deliveryError(t, s.Deliver(context.Background(), crashAlert("a")))
	if !de.Retryable || de.RetryAfter != 0 {
		t.Errorf("retryable %v after %v, want retryable without a hint", de.Retryable, de.RetryAfter)
	}
	// With no wait to go by, the next delivery asks Discord again.
	rc.respond(nil)
	if err := s.Deliver(context.Background(), crashAlert("a")); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
}
