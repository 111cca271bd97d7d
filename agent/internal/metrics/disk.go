package metrics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"catalyst.dev/agent/internal/servers"
	"catalyst.dev/sdk/wire"
)

// ErrOverQuota: a write would take a server past its disk limit.
var ErrOverQuota = errors.New("over disk quota")

// diskUsage is what is known of a server's disk use (guarded by
// Collector.mu).
type diskUsage struct {
	// bytes and at are the last walk's result and its end; walked is
	// false until the first walk ended.
	bytes  uint64
	at     time.Time
	walked bool
	// approved counts the bytes CheckWrite let through since the walk in
	// progress (or the last one) began: a walk is seconds old at best, and
	// an upload must not get past the limit by being quicker than it.
	approved uint64
}

// entry returns id's usage record, making it. c.mu is held.
func (c *Collector) entry(id string) *diskUsage {
	e, ok := c.disk[id]
	if !ok {
		e = &diskUsage{}
		c.disk[id] = e
	}
	return e
}

// Usage reports server id's disk use as of its last walk, and when that
// walk ended; ok is false before the first walk. It never waits for a
// walk.
func (c *Collector) Usage(id string) (bytes uint64, at time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.disk[id]
	if !found || !e.walked {
		return 0, time.Time{}, false
	}
	return e.bytes, e.at, true
}

// CheckWrite says whether server id may grow by addBytes: it fails with
// ErrOverQuota when the server has a disk limit and its usage — the last
// walk plus what CheckWrite approved since — and addBytes add up to more.
// An approved write counts as used until the next walk measures it, so
// callers check each write (or chunk) once, just before it. A server
// never walked yet, or without a limit, may write.
func (c *Collector) CheckWrite(id string, addBytes uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	limit := c.limits[id]
	if limit == 0 {
		return nil
	}
	e := c.entry(id)
	used := e.bytes + e.approved
	if used > limit || addBytes > limit-used {
		return fmt.Errorf("%w: server %s uses %s of its %s disk limit, so %s more does not fit; delete files first",
			ErrOverQuota, id, formatBytes(used), formatBytes(limit), formatBytes(addBytes))
	}
	e.approved += addBytes
	return nil
}

// How the disk loop paces itself.
const (
	// diskPoll bounds the loop's sleep, so that a new server is walked
	// within a second of appearing.
	diskPoll = time.Second
	// stopRetry is how soon a quota stop that failed (the server busy
	// with another power action) is tried again.
	stopRetry = 10 * time.Second
	// stopTimeout bounds asking the manager to stop (which returns once
	// the stop is under way).
	stopTimeout = 30 * time.Second
)

// diskLoop walks the volumes one at a time, each every DiskInterval, and
// enforces the quota. Its maps belong to its goroutine.
type diskLoop struct {
	c *Collector
	// due is when each server's next walk is due; graceEnd is set while a
	// running server over its limit has been warned.
	due      map[string]time.Time
	graceEnd map[string]time.Time
}

func newDiskLoop(c *Collector) *diskLoop {
	return &diskLoop{c: c, due: map[string]time.Time{}, graceEnd: map[string]time.Time{}}
}

func (l *diskLoop) run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		t.Reset(l.step(ctx))
	}
}

// step walks the volume whose walk is most overdue, if one is due, and
// returns how long to wait before the next step.
func (l *diskLoop) step(ctx context.Context) time.Duration {
	vols := l.c.srv.Volumes()
	now := time.Now()
	l.forgetGone(vols)
	var next *servers.Volume
	for i, v := range vols {
		if _, ok := l.due[v.ID]; !ok {
			l.due[v.ID] = now
		}
		if next == nil || l.due[v.ID].Before(l.due[next.ID]) {
			next = &vols[i]
		}
	}
	if next == nil {
		return diskPoll
	}
	if wait := l.due[next.ID].Sub(now); wait > 0 {
		return min(wait, diskPoll)
	}
	l.walk(ctx, *next)
	return 0
}

// forgetGone drops what is kept of servers deleted since.
func (l *diskLoop) forgetGone(vols []servers.Volume) {
	known := make(map[string]bool, len(vols))
	for _, v := range vols {
		known[v.ID] = true
	}
	for id := range l.due {
		if !known[id] {
			delete(l.due, id)
			delete(l.graceEnd, id)
		}
	}
	l.c.mu.Lock()
	for id := range l.c.disk {
		if !known[id] {
			delete(l.c.disk, id)
		}
	}
	l.c.mu.Unlock()
}

func (l *diskLoop) walk(ctx context.Context, v servers.Volume) {
	c := l.c
	c.mu.Lock()
	approvedBefore := c.entry(v.ID).approved
	c.mu.Unlock()
	res, err := walkVolume(ctx, v.Path)
	now := time.Now()
	l.due[v.ID] = now.Add(c.opts.DiskInterval)
	if err != nil {
		if ctx.Err() == nil {
			c.warn.Warn("walk:"+v.ID, "could not measure a server's disk use", "server", v.ID, "error", err)
		}
		return
	}
	if res.Skipped > 0 {
		c.warn.Warn("skip:"+v.ID, "skipped unreadable entries measuring a server's disk use",
			"server", v.ID, "skipped", res.Skipped, "first", res.FirstSkip)
	}
	c.mu.Lock()
	e := c.entry(v.ID)
	e.bytes, e.at, e.walked = res.Bytes, now.UTC(), true
	// What was approved before the walk began is on disk now, or never
	// will be; what was approved during it may have been missed.
	e.approved -= min(approvedBefore, e.approved)
	c.mu.Unlock()
	l.enforce(ctx, v.ID, res.Bytes, now)
}

// enforce applies the quota action to server id, found using used bytes
// at now: a running server over its limit is warned, and once the grace
// is over (its volume walked again at that moment) stopped when the
// action says so. Back under the limit ends the warning.
func (l *diskLoop) enforce(ctx context.Context, id string, used uint64, now time.Time) {
	c := l.c
	// The walk took a while: ask again whether the server runs.
	var v servers.Volume
	found := false
	for _, cur := range c.srv.Volumes() {
		if cur.ID == id {
			v, found = cur, true
			break
		}
	}
	if !found {
		return
	}
	limit, action, grace := v.DiskLimitBytes, c.opts.Quota, c.opts.QuotaGrace
	graceEnd, warned := l.graceEnd[id]
	usage := fmt.Sprintf("%s of its %s disk limit", formatBytes(used), formatBytes(limit))
	switch {
	case limit == 0 || used <= limit:
		if warned {
			delete(l.graceEnd, id)
			msg := fmt.Sprintf("This server is back under its disk limit (using %s of %s).", formatBytes(used), formatBytes(limit))
			if limit == 0 {
				msg = "This server no longer has a disk limit."
			}
			if action == QuotaStop {
				msg += " It will not be stopped."
			}
			c.srv.Message(id, wire.LevelInfo, msg)
			c.log.Info("server back under its disk limit", "server", id, "used", used, "limit", limit)
		}
	case !v.Running || action == QuotaNone:
		// Reported in the stats, nothing more: a stopped server cannot
		// grow (but through CheckWrite), a started one is warned afresh.
		delete(l.graceEnd, id)
	case !warned:
		end := now.Add(grace)
		l.graceEnd[id] = end
		msg := fmt.Sprintf("This server is using %s; delete files to get back under it.", usage)
		if action == QuotaStop {
			msg = fmt.Sprintf("This server is using %s; it will be stopped in %s unless files are deleted.", usage, formatDuration(grace))
			if end.Before(l.due[id]) {
				l.due[id] = end
			}
		}
		c.srv.Message(id, wire.LevelWarning, msg)
		c.log.Warn("server over its disk limit", "server", id, "used", used, "limit", limit, "action", action, "grace", grace)
	case action == QuotaStop && !now.Before(graceEnd):
		c.srv.Message(id, wire.LevelError, fmt.Sprintf("Stopping this server: it is still using %s after %s of grace. Delete files before starting it again.", usage, formatDuration(grace)))
		c.log.Warn("stopping a server over its disk limit", "server", id, "used", used, "limit", limit)
		sctx, cancel := context.WithTimeout(ctx, stopTimeout)
		err := c.srv.Stop(sctx, id)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				c.log.Error("could not stop a server over its disk limit; trying again", "server", id, "error", err, "retry_in", min(stopRetry, c.opts.DiskInterval))
			}
			l.due[id] = now.Add(min(stopRetry, c.opts.DiskInterval))
			return
		}
		delete(l.graceEnd, id)
	}
}

// formatBytes writes n in binary units for people: "812 B", "1.5 GiB".
func formatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, exp := float64(n)/unit, 0
	// 1023.97 KiB reads better as 1.0 MiB, as it is printed rounded.
	for v >= unit-0.05 && exp < 5 {
		v /= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[exp])
}

// formatDuration writes d without trailing zero units: "5m", "1h30m",
// "45s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
