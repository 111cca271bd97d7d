package discord

import (
	"sync"
	"time"
)

// recent remembers the alerts delivered lately, so a redelivery (the
// host's outbox is at-least-once) does not post the same message twice.
// It holds at most size keys; the oldest go first.
type recent struct {
	ttl time.Duration

	mu   sync.Mutex
	at   map[string]time.Time
	ring []recentEntry // insertion order, overwritten oldest first
	next int
}

type recentEntry struct {
	key string
	at  time.Time
}

func newRecent(size int, ttl time.Duration) *recent {
	return &recent{ttl: ttl, at: make(map[string]time.Time, size), ring: make([]recentEntry, size)}
}

// seen reports whether key was added less than ttl before now.
func (r *recent) seen(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.at[key]
	return ok && now.Sub(t) < r.ttl
}

// add records key as delivered at now, forgetting the oldest key when full.
func (r *recent) add(key string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.ring[r.next]
	// The key may have been added again since: keep its newer time.
	if old.key != "" && r.at[old.key].Equal(old.at) {
		delete(r.at, old.key)
	}
	r.ring[r.next] = recentEntry{key: key, at: now}
	r.next = (r.next + 1) % len(r.ring)
	r.at[key] = now
}
