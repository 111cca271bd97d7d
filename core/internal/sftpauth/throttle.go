package sftpauth

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// maxTracked bounds the failure counters kept. Past it, expired counters
// are swept and then arbitrary ones dropped: an attacker who controls that
// many addresses gains little from resetting a few of them.
const maxTracked = 100_000

// failures counts failed logins per key in fixed windows that start at a
// key's first failure. It needs no goroutine: expired counters are swept
// while counting.
type failures struct {
	window time.Duration
	now    func() time.Time

	mu        sync.Mutex
	counts    map[string]*failureCount
	lastSweep time.Time
}

type failureCount struct {
	n     int
	since time.Time
	// reported is set once a refusal for this key has been audited in
	// this window, so that a flood of attempts writes one entry, not one
	// each.
	reported bool
}

func newFailures(window time.Duration, now func() time.Time) *failures {
	return &failures{window: window, now: now, counts: map[string]*failureCount{}, lastSweep: now()}
}

// over reports whether key has reached limit failures in its current
// window, how long until that window ends, and whether this is the first
// refusal reported in it.
func (f *failures) over(key string, limit int) (wait time.Duration, first bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.current(key)
	if c == nil || c.n < limit {
		return 0, false
	}
	first = !c.reported
	c.reported = true
	return c.since.Add(f.window).Sub(f.now()), first
}

// add counts a failure of each key.
func (f *failures) add(keys ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if now.Sub(f.lastSweep) >= f.window || len(f.counts) >= maxTracked {
		f.sweep(now)
	}
	for _, k := range keys {
		c := f.current(k)
		if c == nil {
			c = &failureCount{since: now}
			f.counts[k] = c
		}
		c.n++
	}
}

// clear forgets key's failures.
func (f *failures) clear(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.counts, key)
}

// current returns key's counter if its window is still open.
func (f *failures) current(key string) *failureCount {
	c := f.counts[key]
	if c != nil && f.now().Sub(c.since) >= f.window {
		delete(f.counts, key)
		return nil
	}
	return c
}

func (f *failures) sweep(now time.Time) {
	f.lastSweep = now
	for k, c := range f.counts {
		if now.Sub(c.since) >= f.window {
			delete(f.counts, k)
		}
	}
	for k := range f.counts {
		if len(f.counts) < maxTracked*9/10 {
			break
		}
		delete(f.counts, k)
	}
}

// clientKeys turns the client's address, as the agent reports it
// ("ip:port"), into the address for the audit log and the key its
// failures are counted under: the IP, or for IPv6 its /64, since one
// host commonly holds a whole /64.
func clientKeys(remote string) (addr, key string) {
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		// Not an address: count it as given, bounded, so a broken agent
		// is throttled as one client.
		if len(host) > 64 {
			host = host[:64]
		}
		if host == "" {
			host = "unknown"
		}
		return host, "addr:" + host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String(), "ip:" + ip.String()
	}
	p, _ := ip.Prefix(64)
	return ip.String(), "ip:" + p.String()
}
