package api

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// keyedLimiter is a token bucket per key (a user, an IP, an IP+email),
// refilling perMinute tokens a minute with a burst of the same size. Idle
// buckets are swept as calls arrive, so memory follows the active clients
// and no goroutine is needed.
type keyedLimiter struct {
	perMinute int

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// sweepEvery and idleAfter bound the map: a bucket idle for idleAfter is
// full again anyway, so forgetting it changes nothing.
const (
	sweepEvery = time.Minute
	idleAfter  = 2 * time.Minute
)

func newKeyedLimiter(perMinute int) *keyedLimiter {
	return &keyedLimiter{perMinute: perMinute, buckets: map[string]*bucket{}, lastSweep: time.Now()}
}

// allow takes a token for key. When none is left it returns false and how
// long until one is.
func (l *keyedLimiter) allow(key string) (bool, time.Duration) {
	if l == nil || l.perMinute <= 0 {
		return true, 0
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > sweepEvery {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > idleAfter {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), l.perMinute)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// groupLimiter is one route group's per-user and per-IP limits.
type groupLimiter struct {
	perUser *keyedLimiter
	perIP   *keyedLimiter
}

func newGroupLimiter(perUser, perIP int) *groupLimiter {
	return &groupLimiter{perUser: newKeyedLimiter(perUser), perIP: newKeyedLimiter(perIP)}
}

// retryAfterSeconds rounds a wait up to whole seconds, at least one.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
