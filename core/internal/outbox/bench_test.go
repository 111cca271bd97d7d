package outbox_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"catalyst.dev/core/internal/outbox"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/store/storetest"
	"github.com/hashicorp/go-hclog"
)

// BenchmarkOutbox measures deliveries per second through the outbox (a
// SQLite store, four sinks POSTing to a local receiver) against the same
// POSTs made directly in one loop. Each iteration enqueues 2,000
// deliveries and waits until the receiver has them all; the gap to the
// baseline is the table's work per delivery: written, leased, recorded.
func BenchmarkOutbox(b *testing.B) {
	const deliveries, sinks = 2000, 4
	received := make(chan struct{}, deliveries)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received <- struct{}{}
	}))
	defer recv.Close()
	transport := &http.Transport{MaxIdleConnsPerHost: sinks}
	defer transport.CloseIdleConnections()
	post := httpSink{client: &http.Client{Transport: transport}, url: recv.URL}

	batch := func() []*store.Delivery {
		ds := make([]*store.Delivery, deliveries)
		for i := range ds {
			ds[i] = newDelivery(fmt.Sprintf("sink-%d", i%sinks), i)
		}
		return ds
	}
	waitReceived := func() {
		for range deliveries {
			<-received
		}
	}

	b.Run("outbox", func(b *testing.B) {
		s := storetest.SQLite(b)
		o := outbox.New(s, func(string) (outbox.Sink, error) { return post, nil }, hclog.NewNullLogger(), outbox.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			o.Run(ctx)
		}()
		defer func() {
			cancel()
			<-done
		}()
		for b.Loop() {
			if err := o.Enqueue(context.Background(), batch()...); err != nil {
				b.Fatal(err)
			}
			waitReceived()
		}
		b.ReportMetric(float64(deliveries*b.N)/b.Elapsed().Seconds(), "deliveries/s")
	})

	b.Run("baseline-direct-post", func(b *testing.B) {
		for b.Loop() {
			for _, d := range batch() {
				if err := post.Send(context.Background(), d); err != nil {
					b.Fatal(err)
				}
			}
			waitReceived() // all in already: each POST was answered
		}
		b.ReportMetric(float64(deliveries*b.N)/b.Elapsed().Seconds(), "deliveries/s")
	})
}

// httpSink POSTs each payload, as a webhook sink does.
type httpSink struct {
	client *http.Client
	url    string
}

func (h httpSink) Send(ctx context.Context, d *store.Delivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, strings.NewReader(d.Payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}
