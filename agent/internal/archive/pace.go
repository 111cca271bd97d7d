package archive

import (
	"context"
	"time"
)

// ProgressEvery is the least time between two Progress calls.
const ProgressEvery = 500 * time.Millisecond

// clock is the time a limiter and a reporter see; tests drive their own.
type clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// limiter is a token bucket of bytes per second. Reads are taken after
// they happen: a read larger than the bucket runs it into debt, which
// the next take sleeps off, so the average holds whatever the chunk size.
type limiter struct {
	clock  clock
	rate   float64 // bytes per second
	burst  float64 // the most tokens saved up
	tokens float64
	last   time.Time
}

func newLimiter(c clock, bytesPerSecond int64) *limiter {
	if bytesPerSecond <= 0 {
		return nil
	}
	r := float64(bytesPerSecond)
	// A tenth of a second's worth saved up: smooth, yet a small file
	// does not sleep at all.
	return &limiter{clock: c, rate: r, burst: r / 10, tokens: r / 10, last: c.Now()}
}

// take accounts for n bytes read, sleeping as long as the bucket is in
// debt. A nil limiter does not limit.
func (l *limiter) take(ctx context.Context, n int) error {
	if l == nil {
		return nil
	}
	now := l.clock.Now()
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	l.tokens -= float64(n)
	if l.tokens >= 0 {
		return nil
	}
	return l.clock.Sleep(ctx, time.Duration(-l.tokens/l.rate*float64(time.Second)))
}

// reporter calls a Progress callback at most every ProgressEvery.
type reporter struct {
	clock clock
	fn    func(Progress)
	last  time.Time
}

func newReporter(c clock, fn func(Progress)) *reporter {
	return &reporter{clock: c, fn: fn, last: c.Now()}
}

// due says whether a report may be made now; the caller then makes it
// with report. Split so that a caller builds its Progress only when due.
func (r *reporter) due() bool {
	return r.fn != nil && r.clock.Now().Sub(r.last) >= ProgressEvery
}

func (r *reporter) report(p Progress) {
	if r.fn == nil {
		return
	}
	r.last = r.clock.Now()
	r.fn(p)
}
