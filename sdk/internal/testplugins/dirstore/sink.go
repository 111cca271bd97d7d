package dirstore

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"catalyst.dev/sdk/plugin"
)

// Sink is the SDK's test alert sink: it counts deliveries and fails on
// demand, by title.
type Sink struct {
	Delivered atomic.Int64
}

var _ plugin.AlertSink = (*Sink)(nil)

func (s *Sink) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "testplugin-sink", Kind: plugin.KindAlertSink, Version: "0.0.1"}, nil
}

func (s *Sink) ConfigSchema(context.Context) (plugin.Schema, error) {
	return plugin.Schema{Fields: []plugin.Field{
		{Name: "channel", Type: plugin.TypeString, Required: true},
	}}, nil
}

func (s *Sink) Configure(context.Context, plugin.Config) error { return nil }

func (s *Sink) Deliver(_ context.Context, a plugin.Alert) error {
	switch a.Title {
	case "rate-limited":
		return plugin.RetryableError(errors.New("HTTP 429"), 3*time.Second)
	case "gone":
		return plugin.PermanentError(errors.New("HTTP 404"))
	}
	s.Delivered.Add(1)
	return nil
}
