package discord

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Discord's rate-limit headers.
const (
	headerRemaining  = "X-RateLimit-Remaining"
	headerResetAfter = "X-RateLimit-Reset-After"
	headerGlobal     = "X-RateLimit-Global"
	headerScope      = "X-RateLimit-Scope"
)

// maxWait bounds a wait read from a response, so a nonsense value cannot
// overflow a time.Duration; anything near it means "much later" anyway.
const maxWait = 24 * time.Hour

// limits remembers what Discord said about its rate limits, so that a
// delivery that would only earn a 429 is refused here, with the wait, and
// the host backs off without spending a request.
type limits struct {
	mu sync.Mutex
	// global holds every webhook off until then (a 429 with global: true).
	global time.Time
	// buckets are keyed by webhook endpoint; each webhook has its own.
	buckets map[string]bucket
}

type bucket struct {
	remaining int
	reset     time.Time
}

func newLimits() *limits { return &limits{buckets: map[string]bucket{}} }

// reserve takes one request from endpoint's bucket. It returns how long
// to wait instead when the bucket (or the global limit) is exhausted.
func (l *limits) reserve(endpoint string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.global) {
		return l.global.Sub(now)
	}
	b, ok := l.buckets[endpoint]
	if !ok {
		return 0
	}
	if !now.Before(b.reset) {
		delete(l.buckets, endpoint)
		return 0
	}
	if b.remaining <= 0 {
		return b.reset.Sub(now)
	}
	// Count the request now, so deliveries in flight together do not all
	// spend the last one.
	b.remaining--
	l.buckets[endpoint] = b
	return 0
}

// observe records the bucket state a response reports.
func (l *limits) observe(endpoint string, h http.Header, now time.Time) {
	remaining, err := strconv.Atoi(h.Get(headerRemaining))
	if err != nil {
		return
	}
	resetAfter, ok := seconds(h.Get(headerResetAfter))
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	l.buckets[endpoint] = bucket{remaining: remaining, reset: now.Add(resetAfter)}
}

// block holds endpoint, or every webhook when global, off for wait.
func (l *limits) block(endpoint string, global bool, wait time.Duration, now time.Time) {
	if wait <= 0 {
		return
	}
	until := now.Add(wait)
	l.mu.Lock()
	defer l.mu.Unlock()
	if global {
		l.global = until
		return
	}
	l.buckets[endpoint] = bucket{remaining: 0, reset: until}
}

// prune forgets buckets past their reset, so the map holds only webhooks
// that are limited right now.
func (l *limits) prune(now time.Time) {
	for k, b := range l.buckets {
		if !now.Before(b.reset) {
			delete(l.buckets, k)
		}
	}
}

// rateLimited is what a 429 says: how long to wait and whether the limit
// is global (every webhook) rather than this webhook's.
type rateLimited struct {
	wait   time.Duration
	global bool
}

// parse429 reads a 429 response. The wait comes from the body's
// retry_after (seconds, fractional), else the Retry-After header, else
// X-RateLimit-Reset-After; zero when none says.
func parse429(body []byte, h http.Header, now time.Time) rateLimited {
	var b struct {
		RetryAfter *float64 `json:"retry_after"`
		Global     bool     `json:"global"`
	}
	// A proxy or Cloudflare may answer 429 with HTML; the headers remain.
	_ = json.Unmarshal(body, &b)
	rl := rateLimited{
		global: b.Global || strings.EqualFold(h.Get(headerGlobal), "true") || strings.EqualFold(h.Get(headerScope), "global"),
	}
	if b.RetryAfter != nil {
		if d, ok := toDuration(*b.RetryAfter); ok && d > 0 {
			rl.wait = d
			return rl
		}
	}
	if d := retryAfter(h, now); d > 0 {
		rl.wait = d
		return rl
	}
	if d, ok := seconds(h.Get(headerResetAfter)); ok {
		rl.wait = d
	}
	return rl
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if d, ok := seconds(v); ok {
		return d
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxWait)
	}
	return 0
}

// seconds parses a (possibly fractional) number of seconds.
func seconds(v string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, false
	}
	return toDuration(f)
}

func toDuration(secs float64) (time.Duration, bool) {
	if math.IsNaN(secs) || secs < 0 {
		return 0, false
	}
	if secs >= maxWait.Seconds() {
		return maxWait, true
	}
	return time.Duration(secs * float64(time.Second)), true
}
