package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"catalyst.dev/core/internal/outbox"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
	"catalyst.dev/sdk/plugin"
	"github.com/hashicorp/go-hclog"
)

// fast keeps the suite quick; tests override what they exercise.
var fast = outbox.Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Poll: 100 * time.Millisecond}

func TestEveryDeliveryIsSentOnceInOrderPerSink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		a, b := &recorder{}, &recorder{}
		o := newOutbox(s, map[string]outbox.Sink{"a": a, "b": b}, fast)
		// Some are written before Run starts, some while it runs, and the
		// sinks' deliveries are interleaved.
		want := map[string][]string{}
		enqueueMixed := func(n int) {
			var ds []*store.Delivery
			for i := range n {
				ds = append(ds, newDelivery("a", i), newDelivery("b", i))
			}
			if err := o.Enqueue(context.Background(), ds...); err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				want[d.Sink] = append(want[d.Sink], d.ID)
			}
		}
		enqueueMixed(10)
		run(t, o)
		enqueueMixed(10)
		enqueueMixed(1)

		waitFor(t, "all 42 deliveries are recorded delivered", func() bool {
			return count(t, s, "", store.DeliveryDelivered) == 42
		})
		for name, r := range map[string]*recorder{"a": a, "b": b} {
			if got := r.ids(); !slices.Equal(got, want[name]) {
				t.Errorf("sink %s got attempts %v, want each delivery once in order %v", name, got, want[name])
			}
			for _, d := range rows(t, s, name) {
				if d.Attempts != 1 || d.DeliveredAt == nil || d.LastError != "" || d.LeaseUntil != nil {
					t.Errorf("delivered row %+v, want 1 attempt, a delivery time, no error, no lease", d)
				}
			}
		}
	})
}

func TestFailingSinkDoesNotHoldBackAnother(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		down := &recorder{reply: func(*store.Delivery, int) error {
			return plugin.RetryableError(errors.New("HTTP 503"), 0)
		}}
		up := &recorder{}
		o := newOutbox(s, map[string]outbox.Sink{"down": down, "up": up}, fast)
		var ds []*store.Delivery
		for i := range 5 {
			ds = append(ds, newDelivery("down", i), newDelivery("up", i))
		}
		enqueue(t, o, ds...)
		run(t, o)

		waitFor(t, "the working sink got all its deliveries", func() bool {
			return count(t, s, "up", store.DeliveryDelivered) == 5
		})
		waitFor(t, "the failing sink's first delivery was retried", func() bool {
			return len(down.attempts()) >= 2
		})
		if n := count(t, s, "down", store.DeliveryPending); n != 5 {
			t.Errorf("failing sink has %d pending deliveries, want all 5 kept for retry", n)
		}
		// The failing sink's later deliveries wait behind its first.
		for _, id := range down.ids() {
			if id != ds[0].ID {
				t.Fatalf("failing sink was sent %s while its first delivery %s was still failing", id, ds[0].ID)
			}
		}
	})
}

func TestRetryableFailureIsRetriedWithBackoffAndKeepsItsError(t *testing.T) {
	cases := []struct {
		name string
		fail func(attempt int) error
	}{
		{"retryable error without a hint", func(attempt int) error {
			return plugin.RetryableError(fmt.Errorf("HTTP 503 on attempt %d", attempt), 0)
		}},
		{"plain error", func(attempt int) error {
			return fmt.Errorf("connection refused on attempt %d", attempt)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				opts := fast
				opts.MinBackoff = 40 * time.Millisecond
				first := newDelivery("hook", 0)
				r := &recorder{reply: func(d *store.Delivery, attempt int) error {
					if d.ID == first.ID && attempt <= 2 {
						return tc.fail(attempt)
					}
					return nil
				}}
				o := newOutbox(s, map[string]outbox.Sink{"hook": r}, opts)
				second := newDelivery("hook", 1)
				enqueue(t, o, first, second)
				run(t, o)

				waitFor(t, "both deliveries are recorded delivered", func() bool {
					return count(t, s, "hook", store.DeliveryDelivered) == 2
				})
				tries := r.times(first.ID)
				if len(tries) != 3 {
					t.Fatalf("first delivery attempted %d times, want 3", len(tries))
				}
				// Backoff waits MinBackoff, then twice that, less up to a
				// fifth of jitter.
				if gap := tries[1].Sub(tries[0]); gap < opts.MinBackoff*4/5 {
					t.Errorf("first retry after %v, want at least %v", gap, opts.MinBackoff*4/5)
				}
				if gap := tries[2].Sub(tries[1]); gap < 2*opts.MinBackoff*4/5 {
					t.Errorf("second retry after %v, want at least %v", gap, 2*opts.MinBackoff*4/5)
				}
				if got := r.ids(); !slices.Equal(got, []string{first.ID, first.ID, first.ID, second.ID}) {
					t.Errorf("attempts %v, want the first three times, then the second", got)
				}

				byID := rowsByID(t, s, "hook")
				d := byID[first.ID]
				wantErr := tc.fail(2).Error()
				if d.Attempts != 3 || d.LastError != wantErr || d.LastErrorAt == nil || d.DeliveredAt == nil || d.LastErrorAt.After(*d.DeliveredAt) {
					t.Errorf("retried row %+v, want 3 attempts, last error %q kept after the delivery", d, wantErr)
				}
				if d := byID[second.ID]; d.Attempts != 1 || d.LastError != "" {
					t.Errorf("second row %+v, want 1 attempt and no error", d)
				}
				st := sinkStatus(t, s, "hook")
				if st.Delivered != 2 || st.Pending != 0 || st.Failed != 0 || st.LastError != wantErr || st.LastErrorAt == nil || st.LastDeliveredAt == nil {
					t.Errorf("SinkStatuses = %+v, want 2 delivered and last error %q", st, wantErr)
				}
			})
		})
	}
}

func TestRetryHintHoldsBackTheSinkUntilItPasses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		const hint = 300 * time.Millisecond
		ds := []*store.Delivery{newDelivery("discord", 0), newDelivery("discord", 1), newDelivery("discord", 2)}
		r := &recorder{reply: func(d *store.Delivery, attempt int) error {
			if d.ID == ds[0].ID && attempt == 1 {
				return plugin.RetryableError(errors.New("HTTP 429"), hint)
			}
			return nil
		}}
		o := newOutbox(s, map[string]outbox.Sink{"discord": r}, fast) // MaxBackoff < hint
		enqueue(t, o, ds...)
		run(t, o)

		waitFor(t, "all deliveries are recorded delivered", func() bool {
			return count(t, s, "discord", store.DeliveryDelivered) == 3
		})
		all := r.attempts()
		limited := all[0].at
		if all[0].id != ds[0].ID {
			t.Fatalf("first attempt was at %s, want %s", all[0].id, ds[0].ID)
		}
		for _, a := range all[1:] {
			if wait := a.at.Sub(limited); wait < hint {
				t.Errorf("%s was attempted %v after the rate limit, want at least %v", a.id, wait, hint)
			}
		}
		if got, want := r.ids(), []string{ds[0].ID, ds[0].ID, ds[1].ID, ds[2].ID}; !slices.Equal(got, want) {
			t.Errorf("attempts %v, want %v", got, want)
		}
	})
}

func TestPermanentFailureIsNotRetriedAndTheSinkGoesOn(t *testing.T) {
	cases := []struct {
		name         string
		fail         func(attempt int) error
		wantAttempts int
	}{
		{"at the first attempt", func(int) error {
			return plugin.PermanentError(errors.New("HTTP 404"))
		}, 1},
		{"after a retry", func(attempt int) error {
			if attempt == 1 {
				return plugin.RetryableError(errors.New("HTTP 502"), 0)
			}
			return plugin.PermanentError(errors.New("HTTP 404"))
		}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				bad, next := newDelivery("hook", 0), newDelivery("hook", 1)
				r := &recorder{reply: func(d *store.Delivery, attempt int) error {
					if d.ID == bad.ID {
						return tc.fail(attempt)
					}
					return nil
				}}
				o := newOutbox(s, map[string]outbox.Sink{"hook": r}, fast)
				enqueue(t, o, bad, next)
				run(t, o)

				waitFor(t, "the next delivery is recorded delivered", func() bool {
					return count(t, s, "hook", store.DeliveryDelivered) == 1
				})
				d := rowsByID(t, s, "hook")[bad.ID]
				if d.Status != store.DeliveryFailed || d.Attempts != tc.wantAttempts || d.DeliveredAt != nil ||
					!strings.Contains(d.LastError, "HTTP 404") || strings.Contains(d.LastError, "gave up") {
					t.Errorf("refused row %+v, want failed after %d attempts with the sink's error", d, tc.wantAttempts)
				}
				if n := len(r.times(bad.ID)); n != tc.wantAttempts {
					t.Errorf("refused delivery attempted %d times, want %d", n, tc.wantAttempts)
				}
				// The next delivery only goes once the refused one is
				// settled, so had it been retried, it would show by now.
				if got := r.ids(); got[len(got)-1] != next.ID {
					t.Errorf("attempts %v, want the next delivery last", got)
				}
				if due, err := s.DueSinks(context.Background()); err != nil || len(due) != 0 {
					t.Errorf("DueSinks = %v, %v; want nothing left to send", due, err)
				}
			})
		})
	}
}

func TestUnknownSinkFailsItsDeliveriesForGood(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		known := &recorder{}
		o := newOutbox(s, map[string]outbox.Sink{"known": known}, fast)
		ghosts := []*store.Delivery{newDelivery("ghost", 0), newDelivery("ghost", 1)}
		enqueue(t, o, ghosts[0], newDelivery("known", 0), ghosts[1])
		run(t, o)

		waitFor(t, "the unknown sink's deliveries are recorded failed", func() bool {
			return count(t, s, "ghost", store.DeliveryFailed) == 2
		})
		waitFor(t, "the known sink's delivery is recorded delivered", func() bool {
			return count(t, s, "known", store.DeliveryDelivered) == 1
		})
		for _, d := range rows(t, s, "ghost") {
			if d.Attempts != 1 || !strings.Contains(d.LastError, `no sink named "ghost"`) {
				t.Errorf("row %+v, want failed at the first attempt with the lookup error", d)
			}
		}
	})
}

func TestGivesUpAfterMaxAge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		opts := fast
		opts.MaxAge, opts.MaxBackoff = 150*time.Millisecond, 40*time.Millisecond
		r := &recorder{reply: func(*store.Delivery, int) error { return errors.New("connection refused") }}
		o := newOutbox(s, map[string]outbox.Sink{"hook": r}, opts)
		d := newDelivery("hook", 0)
		enqueue(t, o, d)
		run(t, o)

		waitFor(t, "the delivery is recorded failed", func() bool {
			return count(t, s, "hook", store.DeliveryFailed) == 1
		})
		got := rowsByID(t, s, "hook")[d.ID]
		want := fmt.Sprintf("connection refused (gave up after %d attempts)", got.Attempts)
		if got.Attempts < 2 || got.LastError != want || got.LastErrorAt == nil {
			t.Errorf("row %+v, want several attempts and error %q", got, want)
		}
		if n := len(r.attempts()); n != got.Attempts {
			t.Errorf("sink saw %d attempts, the row counts %d", n, got.Attempts)
		}
		if tries := r.times(d.ID); tries[len(tries)-1].Sub(tries[0]) < opts.MinBackoff*4/5 {
			t.Errorf("attempts %v: gave up without waiting out a backoff", tries)
		}
	})
}

func TestRestartSendsWhatIsLeftOnceInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		var ds []*store.Delivery
		for i := range 5 {
			ds = append(ds, newDelivery("hook", i))
		}
		// Before the restart the sink takes two deliveries, then fails;
		// the third's retry is well ahead when the outbox stops.
		before := &recorder{reply: func(d *store.Delivery, _ int) error {
			if d.ID == ds[0].ID || d.ID == ds[1].ID {
				return nil
			}
			return errors.New("connection refused")
		}}
		slow := fast
		slow.MinBackoff, slow.MaxBackoff = 300*time.Millisecond, 300*time.Millisecond
		o := newOutbox(s, map[string]outbox.Sink{"hook": before}, slow)
		enqueue(t, o, ds...)
		stop := run(t, o)
		waitFor(t, "the third delivery failed", func() bool {
			d := rowsByID(t, s, "hook")[ds[2].ID]
			return d.Attempts >= 1 && d.LeaseUntil == nil
		})
		stop()
		retryAt := rowsByID(t, s, "hook")[ds[2].ID].NextAttemptAt

		after := &recorder{}
		run(t, newOutbox(s, map[string]outbox.Sink{"hook": after}, fast))
		waitFor(t, "all deliveries are recorded delivered", func() bool {
			return count(t, s, "hook", store.DeliveryDelivered) == 5
		})
		if got := before.delivered(); !slices.Equal(got, []string{ds[0].ID, ds[1].ID}) {
			t.Errorf("delivered before the restart: %v, want the first two", got)
		}
		if got, want := after.ids(), []string{ds[2].ID, ds[3].ID, ds[4].ID}; !slices.Equal(got, want) {
			t.Errorf("attempts after the restart %v, want the rest once each in order %v", got, want)
		}
		if first := after.attempts()[0].at; first.Before(retryAt) {
			t.Errorf("after the restart the sink was sent to at %v, before the retry was due at %v", first, retryAt)
		}
		if d := rowsByID(t, s, "hook")[ds[2].ID]; d.Attempts < 2 || d.LastError != "connection refused" {
			t.Errorf("retried row %+v, want its failed attempts counted and the error kept", d)
		}
	})
}

func TestLeasedDeliveryWaitsForItsLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		r := &recorder{}
		o := newOutbox(s, map[string]outbox.Sink{"hook": r}, fast)
		ds := []*store.Delivery{newDelivery("hook", 0), newDelivery("hook", 1)}
		enqueue(t, o, ds...)
		// Another claimer (a replica, or this core before a crash) holds
		// the first delivery and never reports back.
		held, err := s.ClaimDeliveries(ctx, "hook", 1, 400*time.Millisecond)
		if err != nil || len(held) != 1 || held[0].ID != ds[0].ID {
			t.Fatalf("claim = %v, %v", held, err)
		}
		lapse := *held[0].LeaseUntil
		if due, err := s.DueSinks(ctx); err != nil || due["hook"].Before(lapse) {
			t.Fatalf("DueSinks = %v, %v; want the sink due when the lease lapses at %v", due, err, lapse)
		}
		run(t, o)

		waitFor(t, "both deliveries are recorded delivered", func() bool {
			return count(t, s, "hook", store.DeliveryDelivered) == 2
		})
		all := r.attempts()
		if got := r.ids(); !slices.Equal(got, []string{ds[0].ID, ds[1].ID}) {
			t.Fatalf("attempts %v, want each once in order", got)
		}
		if all[0].at.Before(lapse) {
			t.Errorf("leased delivery sent at %v, before its lease lapsed at %v", all[0].at, lapse)
		}
	})
}

func TestShutdownWaitsForAttemptsUnderWay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		sending, release := make(chan struct{}), make(chan struct{})
		// The first POST is on the wire when shutdown begins and goes
		// through anyway.
		slow := &recorder{reply: func(*store.Delivery, int) error {
			close(sending)
			<-release
			return nil
		}}
		o := newOutbox(s, map[string]outbox.Sink{"hook": slow}, fast)
		ds := []*store.Delivery{newDelivery("hook", 0), newDelivery("hook", 1)}
		enqueue(t, o, ds...)
		stop := run(t, o)
		<-sending

		stopped := make(chan struct{})
		go func() { stop(); close(stopped) }()
		select {
		case <-stopped:
			t.Fatal("Run returned while an attempt was under way")
		case <-time.After(200 * time.Millisecond):
		}
		close(release)
		<-stopped

		byID := rowsByID(t, s, "hook")
		if d := byID[ds[0].ID]; d.Status != store.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("row sent during shutdown %+v, want it recorded delivered", d)
		}
		// The rest of the batch is let go so that it need not wait for
		// its lease after the restart.
		if d := byID[ds[1].ID]; d.Status != store.DeliveryPending || d.Attempts != 0 || d.LeaseUntil != nil {
			t.Errorf("row not sent %+v, want it pending with no attempt and no lease", d)
		}

		after := &recorder{}
		run(t, newOutbox(s, map[string]outbox.Sink{"hook": after}, fast))
		waitFor(t, "the rest is recorded delivered", func() bool {
			return count(t, s, "hook", store.DeliveryDelivered) == 2
		})
		if got := after.ids(); !slices.Equal(got, []string{ds[1].ID}) {
			t.Errorf("attempts after the restart %v, want only %s", got, ds[1].ID)
		}
	})
}

func TestShutdownWithManySinksBusy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		const n = 24
		var entered sync.WaitGroup
		entered.Add(n)
		// Every sink is in the middle of an attempt that ends with the
		// shutdown.
		busy := &recorder{reply: func(*store.Delivery, int) error {
			entered.Done()
			return nil
		}}
		sinks := map[string]outbox.Sink{}
		var ds []*store.Delivery
		for i := range n {
			name := fmt.Sprintf("sink-%02d", i)
			sinks[name] = blockingSink{busy}
			ds = append(ds, newDelivery(name, 0))
		}
		o := newOutbox(s, sinks, fast)
		enqueue(t, o, ds...)
		stop := run(t, o)
		entered.Wait()

		stopped := make(chan struct{})
		go func() { stop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(20 * time.Second):
			t.Fatal("Run did not return after shutdown with many sinks busy")
		}
		if got := count(t, s, "", store.DeliveryPending); got != n {
			t.Errorf("%d pending after shutdown, want all %d (the cut attempts do not count)", got, n)
		}
		for _, d := range rows(t, s, "") {
			if d.Attempts != 0 || d.LeaseUntil != nil {
				t.Errorf("row %+v, want no attempt counted and no lease", d)
			}
		}
	})
}

func TestTwoOutboxesOnOneStoreSendEachDeliveryOnceInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		r := &recorder{}
		sinks := map[string]outbox.Sink{"a": r, "b": r, "c": r}
		opts := fast
		opts.Batch = 4 // many claims, so the two race for them
		o1, o2 := newOutbox(s, sinks, opts), newOutbox(s, sinks, opts)
		run(t, o1)
		run(t, o2)
		want := map[string][]string{}
		for round := range 6 {
			for i, o := range []*outbox.Outbox{o1, o2} {
				var ds []*store.Delivery
				for _, sink := range []string{"a", "b", "c"} {
					for j := range 5 {
						ds = append(ds, newDelivery(sink, round*100+i*10+j))
					}
				}
				enqueue(t, o, ds...)
				for _, d := range ds {
					want[d.Sink] = append(want[d.Sink], d.ID)
				}
			}
		}
		waitFor(t, "all 180 deliveries are recorded delivered", func() bool {
			return count(t, s, "", store.DeliveryDelivered) == 180
		})
		got := map[string][]string{}
		for _, a := range r.attempts() {
			got[a.sink] = append(got[a.sink], a.id)
		}
		for sink, ids := range want {
			if !slices.Equal(got[sink], ids) {
				t.Errorf("sink %s got %v, want each once in order %v", sink, got[sink], ids)
			}
		}
	})
}

func TestBackoffDoublesUpToTheCapWithJitter(t *testing.T) {
	tuned := outbox.New(nil, nil, hclog.NewNullLogger(), outbox.Options{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	defaults := outbox.New(nil, nil, hclog.NewNullLogger(), outbox.Options{})
	cases := []struct {
		name    string
		o       *outbox.Outbox
		attempt int
		want    time.Duration
	}{
		{"first failure waits MinBackoff", tuned, 1, 100 * time.Millisecond},
		{"second failure waits twice that", tuned, 2, 200 * time.Millisecond},
		{"fourth failure waits eight times that", tuned, 4, 800 * time.Millisecond},
		{"fifth failure is capped at MaxBackoff", tuned, 5, time.Second},
		{"many failures stay at MaxBackoff", tuned, 1000, time.Second},
		{"default MinBackoff is a second", defaults, 1, time.Second},
		{"default MaxBackoff is five minutes", defaults, 40, 5 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[time.Duration]bool{}
			for range 200 {
				got := tc.o.Backoff(tc.attempt)
				if got < tc.want*4/5 || got > tc.want {
					t.Fatalf("Backoff(%d) = %v, want between %v and %v", tc.attempt, got, tc.want*4/5, tc.want)
				}
				seen[got] = true
			}
			if len(seen) < 2 {
				t.Errorf("Backoff(%d) gave %v every time, want jitter", tc.attempt, seen)
			}
		})
	}
}

// recorder is the sink at the tests' boundary: it answers each attempt
// with reply (nil: every attempt goes through) and records them all.
type recorder struct {
	// reply gets the delivery and which attempt at it this is, from 1.
	reply func(d *store.Delivery, attempt int) error

	mu  sync.Mutex
	log []attempt
}

type attempt struct {
	id, sink string
	at       time.Time
	err      error
}

func (r *recorder) Send(_ context.Context, d *store.Delivery) error {
	at := time.Now()
	r.mu.Lock()
	n := 1
	for _, a := range r.log {
		if a.id == d.ID {
			n++
		}
	}
	r.mu.Unlock()
	var err error
	if r.reply != nil {
		err = r.reply(d, n)
	}
	r.mu.Lock()
	r.log = append(r.log, attempt{id: d.ID, sink: d.Sink, at: at, err: err})
	r.mu.Unlock()
	return err
}

func (r *recorder) attempts() []attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

// ids lists the deliveries attempted, in order, once per attempt.
func (r *recorder) ids() []string {
	var out []string
	for _, a := range r.attempts() {
		out = append(out, a.id)
	}
	return out
}

func (r *recorder) delivered() []string {
	var out []string
	for _, a := range r.attempts() {
		if a.err == nil {
			out = append(out, a.id)
		}
	}
	return out
}

// times says when each attempt at id began.
func (r *recorder) times(id string) []time.Time {
	var out []time.Time
	for _, a := range r.attempts() {
		if a.id == id {
			out = append(out, a.at)
		}
	}
	return out
}

// blockingSink holds every attempt until it is cancelled, then reports
// it to next, as a POST still waiting for its answer at shutdown would.
type blockingSink struct{ next outbox.Sink }

func (b blockingSink) Send(ctx context.Context, d *store.Delivery) error {
	_ = b.next.Send(ctx, d)
	<-ctx.Done()
	return ctx.Err()
}

func newOutbox(s *store.Store, sinks map[string]outbox.Sink, opts outbox.Options) *outbox.Outbox {
	lookup := func(name string) (outbox.Sink, error) {
		if sk, ok := sinks[name]; ok {
			return sk, nil
		}
		return nil, fmt.Errorf("no sink named %q is configured", name)
	}
	return outbox.New(s, lookup, hclog.NewNullLogger(), opts)
}

func newDelivery(sink string, n int) *store.Delivery {
	return &store.Delivery{Sink: sink, Event: "alert.firing", Payload: fmt.Sprintf(`{"n":%d}`, n)}
}

func enqueue(t *testing.T, o *outbox.Outbox, ds ...*store.Delivery) {
	t.Helper()
	if err := o.Enqueue(context.Background(), ds...); err != nil {
		t.Fatal(err)
	}
}

// run runs o until the test ends or stop is called; stop returns once
// Run did.
func run(t *testing.T, o *outbox.Outbox) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds. The deadline only keeps a broken
// outbox from hanging the suite.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rows returns sink's deliveries (every sink's for ""), oldest first.
func rows(t *testing.T, s *store.Store, sink string) []*store.Delivery {
	t.Helper()
	ds, err := s.ListDeliveries(context.Background(), store.DeliveryFilter{Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(ds)
	return ds
}

func rowsByID(t *testing.T, s *store.Store, sink string) map[string]*store.Delivery {
	t.Helper()
	out := map[string]*store.Delivery{}
	for _, d := range rows(t, s, sink) {
		out[d.ID] = d
	}
	return out
}

func count(t *testing.T, s *store.Store, sink, status string) int {
	t.Helper()
	ds, err := s.ListDeliveries(context.Background(), store.DeliveryFilter{Sink: sink, Status: status})
	if err != nil {
		t.Fatal(err)
	}
	return len(ds)
}

func sinkStatus(t *testing.T, s *store.Store, sink string) store.SinkStatus {
	t.Helper()
	sts, err := s.SinkStatuses(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if st.Sink == sink {
			return st
		}
	}
	t.Fatalf("SinkStatuses = %+v, no %s", sts, sink)
	return store.SinkStatus{}
}
