package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/plugins/schedule-cron/internal/scheduler"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugin/host"
	"catalyst.dev/sdk/plugintest"
)

var binary string // the plugin, built once by TestMain

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

func TestConformance(t *testing.T) {
	opts := plugintest.SchedulerOptions{
		Config:      map[string]any{"min_interval": "1s", "max_lateness": "1m"},
		Spec:        "@every 1s",
		InvalidSpec: "61 * * * *",
	}
	t.Run("in-process", func(t *testing.T) {
		plugintest.Scheduler(t, plugintest.InProcess(scheduler.New(hclog.NewNullLogger())), opts)
	})
	t.Run("binary", func(t *testing.T) {
		plugintest.Scheduler(t, plugintest.Binary(binary), opts)
	})
}

// loadBinary loads the built plugin as the core does, configured with cfg.
func loadBinary(t *testing.T, cfg string) (plugin.Scheduler, error) {
	t.Helper()
	h, err := host.New(host.WithLogger(hclog.NewNullLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	if err := h.Load(context.Background(), []host.Spec{{Name: "cron", Path: binary, ConfigJSON: plugin.Config(cfg)}}); err != nil {
		return nil, err
	}
	return h.Scheduler("cron")
}

// The built plugin refuses a bad config with a message naming the key.
func TestBinaryRejectsBadConfig(t *testing.T) {
	for _, key := range []string{"max_lateness", "min_interval"} {
		t.Run(key, func(t *testing.T) {
			_, err := loadBinary(t, `{"`+key+`":"soon"}`)
			if err == nil {
				t.Fatal("the plugin accepted a bad config")
			}
			if !strings.Contains(err.Error(), key) {
				t.Errorf("error %q does not name %q", err, key)
			}
		})
	}
}

// Schedules the built plugin refuses come back to the core as
// ErrInvalidArgument with a message that says what is wrong. Zones come
// from the binary's embedded database, whatever the machine has.
func TestBinaryRefusesBadSchedules(t *testing.T) {
	s, err := loadBinary(t, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name string
		sc   plugin.Schedule
		want string
	}{
		{"field out of range", plugin.Schedule{ID: "a", Spec: "0 0 32 * *"}, "day-of-month: 32 is out of range 1-31"},
		{"never fires", plugin.Schedule{ID: "b", Spec: "0 0 30 2 *"}, "never fires"},
		{"unknown zone", plugin.Schedule{ID: "c", Spec: "@daily", Timezone: "Mars/Olympus_Mons"}, `timezone "Mars/Olympus_Mons"`},
		{"local zone", plugin.Schedule{ID: "d", Spec: "@daily", Timezone: "Local"}, `timezone "Local"`},
		{"below min_interval", plugin.Schedule{ID: "e", Spec: "@every 30s"}, "min_interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Set(ctx, tt.sc)
			if !errors.Is(err, plugin.ErrInvalidArgument) {
				t.Fatalf("Set = %v, want ErrInvalidArgument", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
	for _, zone := range []string{"", "UTC", "America/New_York", "Australia/Lord_Howe"} {
		if err := s.Set(ctx, plugin.Schedule{ID: "zone", Spec: "30 2 * * *", Timezone: zone}); err != nil {
			t.Errorf("Set in zone %q: %v", zone, err)
		}
	}
}

// firings is a host that passes firings on to a channel.
type firings chan plugin.Firing

func (c firings) Fire(_ context.Context, f plugin.Firing) error {
	c <- f
	return nil
}

// Across the plugin boundary, FiredAt is the slot itself: whole seconds,
// in UTC, consecutive slots exactly the interval apart, whenever the
// timer woke.
func TestBinaryFiresTheSlotInstant(t *testing.T) {
	s, err := loadBinary(t, `{"min_interval":"1s"}`)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got := make(firings, 16)
	if err := s.Attach(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, plugin.Schedule{ID: "tick", Spec: "@every 2s"}); err != nil {
		t.Fatal(err)
	}
	defer s.Remove(ctx, "tick")
	var slots []time.Time
	for len(slots) < 2 {
		select {
		case f := <-got:
			slots = append(slots, f.FiredAt)
		case <-time.After(10 * time.Second):
			t.Fatalf("fired %d times in 10s, want 2", len(slots))
		}
	}
	for _, at := range slots {
		if at.Location() != time.UTC || at.Nanosecond() != 0 || at.Unix()%2 != 0 {
			t.Errorf("FiredAt %s is not a slot of @every 2s: a multiple of 2s since the epoch, in UTC", at)
		}
	}
	if d := slots[1].Sub(slots[0]); d != 2*time.Second {
		t.Errorf("consecutive slots %s apart, want 2s", d)
	}
}
