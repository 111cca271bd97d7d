// Command alerts-log is an example Catalyst alert sink that writes each
// alert as one JSON line to a file (or to the plugin log), with an optional
// rate limit that shows how a sink tells the host when to retry.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/plugin"
)

type sink struct {
	log hclog.Logger

	mu       sync.Mutex
	path     string
	perMin   int
	window   time.Time // start of the current one-minute window
	inWindow int
}

var _ plugin.AlertSink = (*sink)(nil)

func newSink(log hclog.Logger) *sink { return &sink{log: log} }

func (s *sink) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "alerts-log", Kind: plugin.KindAlertSink, Version: "1.0.0"}, nil
}

func (s *sink) ConfigSchema(context.Context) (plugin.Schema, error) {
	return plugin.Schema{Fields: []plugin.Field{
		{Name: "path", Type: plugin.TypeString, Required: true,
			Description: `File the alerts are appended to, one JSON object per line; "-" logs them instead.`},
		{Name: "max_per_minute", Type: plugin.TypeNumber, Default: 0,
			Description: "Deliveries accepted per minute; 0 is unlimited. Beyond it, alerts are refused with a retry hint."},
	}}, nil
}

func (s *sink) Configure(_ context.Context, cfg plugin.Config) error {
	var c struct {
		Path         string `json:"path"`
		MaxPerMinute int    `json:"max_per_minute"`
	}
	if err := cfg.Decode(&c); err != nil {
		return err
	}
	if c.MaxPerMinute < 0 {
		return fmt.Errorf("max_per_minute must not be negative: %w", plugin.ErrInvalidArgument)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.path, s.perMin, s.inWindow = c.Path, c.MaxPerMinute, 0
	return nil
}

func (s *sink) Deliver(_ context.Context, a plugin.Alert) error {
	if a.Title == "" {
		// Resending will not give the alert a title.
		return plugin.PermanentError(fmt.Errorf("alert %s has no title: %w", a.ID, plugin.ErrInvalidArgument))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if wait := s.admitLocked(); wait > 0 {
		return plugin.RetryableError(errors.New("rate limit reached"), wait)
	}
	line, err := json.Marshal(map[string]any{
		"id": a.ID, "severity": a.Severity.String(), "title": a.Title, "body": a.Body,
		"server_id": a.ServerID, "node_id": a.NodeID, "labels": a.Labels,
		"occurred_at": a.OccurredAt, "url": a.URL,
	})
	if err != nil {
		return plugin.PermanentError(fmt.Errorf("encode alert: %w", err))
	}
	if s.path == "-" {
		s.log.Info("alert", "alert", string(line))
		return nil
	}
	f, err := os.OpenFile(s.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return plugin.RetryableError(fmt.Errorf("open %s: %w", s.path, err), 0)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		return plugin.RetryableError(fmt.Errorf("write %s: %w", s.path, err), 0)
	}
	return nil
}

// admitLocked counts a delivery against the rate limit, returning how
// long to wait when the limit is reached.
func (s *sink) admitLocked() time.Duration {
	if s.perMin == 0 {
		return 0
	}
	now := time.Now()
	if now.Sub(s.window) >= time.Minute {
		s.window, s.inWindow = now, 0
	}
	if s.inWindow >= s.perMin {
		return s.window.Add(time.Minute).Sub(now)
	}
	s.inWindow++
	return 0
}

func main() {
	log := plugin.NewLogger("alerts-log")
	plugin.Serve(newSink(log), plugin.WithLogger(log))
}
