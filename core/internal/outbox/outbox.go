// Package outbox delivers notifications reliably. Every notification (an
// alert for a sink plugin, an event for a server's webhook) is written to
// the deliveries table first and sent from there: at least once, in order
// per sink, retried with exponential backoff that honours the sink's retry
// hint, across sink crashes and core restarts. Delivered and failed rows
// stay for a while as the delivery log.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/plugin"
	"github.com/hashicorp/go-hclog"
)

// Sink sends one delivery. To say whether and when to try again it returns
// a *plugin.DeliveryError (plugin.RetryableError, plugin.PermanentError);
// any other error is retried with no hint.
type Sink interface {
	Send(ctx context.Context, d *store.Delivery) error
}

// Sinks finds the sink a delivery names. An error means no such sink is
// configured; its deliveries fail for good.
type Sinks func(name string) (Sink, error)

// Options tunes the outbox; zero fields take the defaults.
type Options struct {
	// MinBackoff is the wait after a first failed attempt (1s); it doubles
	// with each further failure up to MaxBackoff (5m). A sink's retry hint
	// is waited out when it is longer.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// MaxAge is how long a delivery is retried before it fails for good
	// (24h).
	MaxAge time.Duration
	// AttemptTimeout bounds one attempt (30s).
	AttemptTimeout time.Duration
	// Retention is how long delivered and failed rows stay in the log (7d).
	Retention time.Duration
	// Batch is how many deliveries of one sink are claimed at once (32).
	Batch int
	// Poll is the longest the outbox sleeps without looking for due
	// deliveries (30s); Enqueue wakes it at once.
	Poll time.Duration
}

func (o *Options) defaults() {
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 24 * time.Hour
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 30 * time.Second
	}
	if o.Retention <= 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	if o.Batch <= 0 {
		o.Batch = 32
	}
	if o.Poll <= 0 {
		o.Poll = 30 * time.Second
	}
}

// pruneEvery is how often the log is trimmed to Retention.
const pruneEvery = time.Hour

// Outbox sends the deliveries table's pending rows to their sinks while Run
// runs: one worker per sink with due deliveries, sending them one at a time
// in the order they were written.
type Outbox struct {
	store *store.Store
	sinks Sinks
	log   hclog.Logger
	opts  Options

	wake chan struct{}

	mu sync.Mutex
	// workers holds the sinks with a worker running.
	workers map[string]bool
}

// New returns an outbox over s's deliveries table.
func New(s *store.Store, sinks Sinks, log hclog.Logger, opts Options) *Outbox {
	opts.defaults()
	return &Outbox{
		store: s, sinks: sinks, log: log, opts: opts,
		wake: make(chan struct{}, 1), workers: map[string]bool{},
	}
}

// Enqueue writes ds and has them sent. Once it returned nil, they will be
// delivered (or fail for good) whatever happens to this process.
func (o *Outbox) Enqueue(ctx context.Context, ds ...*store.Delivery) error {
	if err := o.store.EnqueueDeliveries(ctx, ds); err != nil {
		return fmt.Errorf("write deliveries: %w", err)
	}
	o.Wake()
	return nil
}

// Wake has Run look for due deliveries now.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run sends due deliveries until ctx ends, then waits for the attempts
// under way. Call it once.
func (o *Outbox) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	lastPrune := time.Time{}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if time.Since(lastPrune) >= pruneEvery {
			lastPrune = time.Now()
			o.prune(ctx)
		}
		next := o.startDue(ctx, &wg)
		timer.Reset(next)
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-timer.C:
		}
	}
}

// startDue starts a worker for each sink with due deliveries and none
// running, and returns how long until the next one falls due.
func (o *Outbox) startDue(ctx context.Context, wg *sync.WaitGroup) time.Duration {
	next := o.opts.Poll
	due, err := o.store.DueSinks(ctx)
	if err != nil {
		if ctx.Err() == nil {
			o.log.Error("look for due deliveries", "error", err)
		}
		return min(next, 5*time.Second)
	}
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	for sink, at := range due {
		if o.workers[sink] {
			continue
		}
		if wait := at.Sub(now); wait > 0 {
			next = min(next, wait)
			continue
		}
		o.workers[sink] = true
		wg.Go(func() {
			o.work(ctx, sink)
			// The worker signs off itself rather than through Run, which
			// stops listening at shutdown, and has Run look again: more
			// may have come in since its last claim found none.
			o.mu.Lock()
			delete(o.workers, sink)
			o.mu.Unlock()
			o.Wake()
		})
	}
	return next
}

// work sends sink's due deliveries in order until none is due. A failure
// that will be retried holds back the deliveries behind it, so a sink gets
// its notifications in the order they happened and a sink that is down or
// rate-limiting is not hammered.
func (o *Outbox) work(ctx context.Context, name string) {
	log := o.log.With("sink", name)
	sink, sinkErr := o.sinks(name)
	for ctx.Err() == nil {
		batch, err := o.store.ClaimDeliveries(ctx, name, o.opts.Batch, o.opts.AttemptTimeout*time.Duration(o.opts.Batch+1))
		if err != nil {
			if ctx.Err() == nil {
				log.Error("claim deliveries", "error", err)
			}
			return
		}
		if len(batch) == 0 {
			return
		}
		retryAt, ok := o.sendBatch(ctx, log, sink, sinkErr, batch)
		if !ok {
			return
		}
		if retryAt.IsZero() {
			continue
		}
		// Pause the sink until the retry.
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(retryAt)):
		}
	}
}

// sendBatch sends batch in order until a delivery is to be retried, and
// says when (zero when all were settled); ok is false when the worker is
// to stop. The leases of the deliveries it did not settle are given up, so
// that they are sent again without waiting for the leases to lapse.
func (o *Outbox) sendBatch(ctx context.Context, log hclog.Logger, sink Sink, sinkErr error, batch []*store.Delivery) (retryAt time.Time, ok bool) {
	for i, d := range batch {
		if ctx.Err() != nil {
			o.release(ctx, log, batch[i:])
			return time.Time{}, false
		}
		var attemptErr error
		if sinkErr != nil {
			attemptErr = plugin.PermanentError(sinkErr)
		} else {
			actx, cancel := context.WithTimeout(ctx, o.opts.AttemptTimeout)
			attemptErr = sink.Send(actx, d)
			cancel()
		}
		if attemptErr != nil && ctx.Err() != nil {
			// Cut short by the shutdown: the attempt does not count, and
			// the delivery is sent after the restart. One that went
			// through is recorded below, so it is not sent again.
			o.release(ctx, log, batch[i:])
			return time.Time{}, false
		}
		retryAt, gaveUp := o.settle(d, attemptErr, time.Now())
		if err := o.finish(ctx, d, attemptErr, gaveUp); err != nil {
			// The outcome is unknown to the table: try d again, at
			// least once is the promise.
			log.Error("record delivery attempt", "delivery", d.ID, "error", err)
			o.release(ctx, log, batch[i:])
			return time.Time{}, false
		}
		o.logAttempt(log, d, attemptErr)
		if !retryAt.IsZero() {
			// Hold the rest back until the retry.
			o.release(ctx, log, batch[i+1:])
			return retryAt, true
		}
	}
	return time.Time{}, true
}

// release gives up the leases on ds, even when shutdown began.
func (o *Outbox) release(ctx context.Context, log hclog.Logger, ds []*store.Delivery) {
	if len(ds) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := o.store.ReleaseDeliveries(ctx, ds); err != nil {
		log.Error("release deliveries", "deliveries", len(ds), "error", err)
	}
}

// settle sets d's outcome after an attempt that returned err at now, and
// says when to retry it (zero when it is done) and whether it was given
// up for having been retried for MaxAge.
func (o *Outbox) settle(d *store.Delivery, err error, now time.Time) (retryAt time.Time, gaveUp bool) {
	if err == nil {
		d.Status = store.DeliveryDelivered
		return time.Time{}, false
	}
	var de *plugin.DeliveryError
	if !errors.As(err, &de) {
		de = &plugin.DeliveryError{Err: err, Retryable: true}
	}
	if !de.Retryable {
		d.Status = store.DeliveryFailed
		return time.Time{}, false
	}
	at := now.Add(max(o.Backoff(d.Attempts+1), de.RetryAfter))
	if at.Sub(d.CreatedAt) > o.opts.MaxAge {
		d.Status = store.DeliveryFailed
		return time.Time{}, true
	}
	d.Status, d.NextAttemptAt = store.DeliveryPending, at
	return at, false
}

// Backoff is the wait after the attempt-th failed attempt: MinBackoff
// doubling up to MaxBackoff, less up to a fifth at random so that sinks
// failing together do not retry in step.
func (o *Outbox) Backoff(attempt int) time.Duration {
	d := o.opts.MinBackoff
	for i := 1; i < attempt && d < o.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.opts.MaxBackoff)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

// finish records the attempt at d that settle settled.
func (o *Outbox) finish(ctx context.Context, d *store.Delivery, attemptErr error, gaveUp bool) error {
	msg := ""
	if attemptErr != nil {
		msg = attemptErr.Error()
	}
	if gaveUp {
		attempts := d.Attempts + 1
		unit := "attempts"
		if attempts == 1 {
			unit = "attempt"
		}
		msg = fmt.Sprintf("%s (gave up after %d %s)", msg, attempts, unit)
	}
	// The outcome is written even when shutdown began meanwhile: a
	// delivery that went through must not be sent again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return o.store.FinishDelivery(ctx, d, msg)
}

func (o *Outbox) logAttempt(log hclog.Logger, d *store.Delivery, err error) {
	switch {
	case err == nil:
		log.Debug("delivered", "delivery", d.ID, "event", d.Event, "attempts", d.Attempts)
	case d.Status == store.DeliveryFailed:
		log.Error("delivery failed for good", "delivery", d.ID, "event", d.Event, "attempts", d.Attempts, "error", err)
	default:
		log.Warn("delivery failed; will retry", "delivery", d.ID, "event", d.Event, "attempts", d.Attempts,
			"retry_at", d.NextAttemptAt.Format(time.RFC3339), "error", err)
	}
}

func (o *Outbox) prune(ctx context.Context) {
	n, err := o.store.DeleteDeliveriesBefore(ctx, time.Now().Add(-o.opts.Retention))
	switch {
	case err != nil && ctx.Err() == nil:
		o.log.Error("trim the delivery log", "error", err)
	case n > 0:
		o.log.Info("old deliveries removed from the log", "rows", n, "retention", o.opts.Retention)
	}
}
