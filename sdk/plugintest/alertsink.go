package plugintest

import (
	"context"
	"errors"
	"testing"
	"time"

	"catalyst.dev/sdk/plugin"
)

// AlertSinkOptions tune the alert sink suite.
type AlertSinkOptions struct {
	Config map[string]any
	// Failures are ways to make the sink refuse an alert, with the retry
	// advice it must give. Each runs on a plugin reconfigured with its
	// Config (the suite's Config when nil).
	Failures []AlertFailure
}

// AlertFailure describes one refused delivery.
type AlertFailure struct {
	Name   string
	Config map[string]any
	// Alerts are delivered in order; all but the last must succeed, the
	// last must fail.
	Alerts        []plugin.Alert
	WantRetryable bool
	// WantRetryAfter requires a positive retry hint.
	WantRetryAfter bool
}

// SampleAlert is a well-formed alert for tests.
func SampleAlert(id string) plugin.Alert {
	return plugin.Alert{
		ID:         id,
		Severity:   plugin.SeverityCritical,
		Title:      "Server crashed",
		Body:       "survival-1 exited with code 137 (out of memory)",
		ServerID:   "3f0c9f5e-1f1e-4d43-8d1e-6f0e2b7c9a10",
		NodeID:     "node-eu-1",
		Labels:     map[string]string{"game": "minecraft"},
		OccurredAt: time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC),
		URL:        "https://panel.example.com/servers/3f0c9f5e",
	}
}

// AlertSink checks an alert sink plugin: deliveries succeed, a repeated
// alert (same ID) is accepted, failures come back as *plugin.DeliveryError
// with the advertised retry hints, and the configuration schema holds.
func AlertSink(t *testing.T, target Target, opts AlertSinkOptions) {
	sink := target.open(t, plugin.KindAlertSink, encodeConfig(t, opts.Config)).(plugin.AlertSink)
	ctx := context.Background()

	t.Run("deliver succeeds", func(t *testing.T) {
		if err := sink.Deliver(ctx, SampleAlert("plugintest-1")); err != nil {
			t.Fatalf("Deliver: %v", err)
		}
	})
	t.Run("redelivery of the same alert succeeds", func(t *testing.T) {
		a := SampleAlert("plugintest-dup")
		for i := range 2 {
			if err := sink.Deliver(ctx, a); err != nil {
				t.Fatalf("delivery #%d: %v", i+1, err)
			}
		}
	})
	t.Run("minimal alert", func(t *testing.T) {
		if err := sink.Deliver(ctx, plugin.Alert{ID: "plugintest-min", Severity: plugin.SeverityInfo, Title: "t"}); err != nil {
			t.Fatalf("Deliver: %v", err)
		}
	})
	for _, f := range opts.Failures {
		t.Run("failure "+f.Name, func(t *testing.T) {
			cfg := f.Config
			if cfg == nil {
				cfg = opts.Config
			}
			if err := sink.Configure(ctx, encodeConfig(t, cfg)); err != nil {
				t.Fatalf("Configure: %v", err)
			}
			defer func() {
				if err := sink.Configure(ctx, encodeConfig(t, opts.Config)); err != nil {
					t.Fatalf("restore configuration: %v", err)
				}
			}()
			if len(f.Alerts) == 0 {
				t.Fatal("failure case without alerts")
			}
			for i, a := range f.Alerts[:len(f.Alerts)-1] {
				if err := sink.Deliver(ctx, a); err != nil {
					t.Fatalf("delivery #%d: %v", i+1, err)
				}
			}
			err := sink.Deliver(ctx, f.Alerts[len(f.Alerts)-1])
			var de *plugin.DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("want *plugin.DeliveryError, got %s", describe(err))
			}
			if de.Retryable != f.WantRetryable {
				t.Errorf("retryable = %v, want %v (%v)", de.Retryable, f.WantRetryable, de)
			}
			if f.WantRetryAfter && de.RetryAfter <= 0 {
				t.Errorf("want a retry_after hint, got %v", de.RetryAfter)
			}
			if de.Err == nil || de.Err.Error() == "" {
				t.Error("failure without a message")
			}
		})
	}
	t.Run("config schema", func(t *testing.T) { checkSchema(t, sink, opts.Config) })
}
