package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// WebSocket tunes the server sockets browsers watch consoles through
// (GET /api/servers/:id/ws).
type WebSocket struct {
	// QueueSize is how many messages wait for one socket before the
	// oldest are dropped (the browser is told how many).
	QueueSize int `hcl:"queue_size,optional"`
	// CommandsPerSecond and CommandBurst limit console commands and power
	// actions sent on one socket.
	CommandsPerSecond float64 `hcl:"commands_per_second,optional"`
	CommandBurst      int     `hcl:"command_burst,optional"`
	// TokenWarning is how long before its access token expires a socket is
	// told to send a fresh one.
	TokenWarning string `hcl:"token_warning,optional"`
	// RecheckInterval is how often a socket's permissions are checked
	// again (changes made through the API are applied at once).
	RecheckInterval string `hcl:"recheck_interval,optional"`
	// WriteTimeout is how long one message may take to reach a browser
	// before its socket is closed.
	WriteTimeout string `hcl:"write_timeout,optional"`

	Body hcl.Body `hcl:",body"`
}

func (w *WebSocket) applyDefaults() {
	if w.QueueSize == 0 {
		w.QueueSize = 512
	}
	if w.CommandsPerSecond == 0 {
		w.CommandsPerSecond = 5
	}
	if w.CommandBurst == 0 {
		w.CommandBurst = 10
	}
	if w.TokenWarning == "" {
		w.TokenWarning = "60s"
	}
	if w.RecheckInterval == "" {
		w.RecheckInterval = "30s"
	}
	if w.WriteTimeout == "" {
		w.WriteTimeout = "10s"
	}
}

func (w *WebSocket) validate() hcl.Diagnostics {
	var diags hcl.Diagnostics
	if w.QueueSize != 0 && (w.QueueSize < 16 || w.QueueSize > 1<<20) {
		diags = append(diags, attrError(w.Body, "queue_size", "Invalid queue_size", "queue_size must be between 16 and 1048576 messages."))
	}
	if w.CommandsPerSecond < 0 {
		diags = append(diags, attrError(w.Body, "commands_per_second", "Invalid commands_per_second", "commands_per_second must be positive."))
	}
	if w.CommandBurst < 0 {
		diags = append(diags, attrError(w.Body, "command_burst", "Invalid command_burst", "command_burst must be positive."))
	}
	checkDuration(&diags, w.Body, "token_warning", w.TokenWarning, `"60s"`)
	if d := checkDuration(&diags, w.Body, "recheck_interval", w.RecheckInterval, `"30s"`); d > 0 && d < time.Second {
		diags = append(diags, attrError(w.Body, "recheck_interval", "Invalid recheck_interval", "recheck_interval must be at least 1s."))
	}
	checkDuration(&diags, w.Body, "write_timeout", w.WriteTimeout, `"10s"`)
	return diags
}

// Durations returns the parsed durations (Load has validated them).
func (w *WebSocket) Durations() (tokenWarning, recheck, writeTimeout time.Duration) {
	tokenWarning, _ = time.ParseDuration(w.TokenWarning)
	recheck, _ = time.ParseDuration(w.RecheckInterval)
	writeTimeout, _ = time.ParseDuration(w.WriteTimeout)
	return
}
