package servers

import (
	"time"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
)

// RestartPolicy is what a server's agent does when its process exits
// without being asked (see wire.RestartPolicy). Zero fields mean the
// defaults: on_crash, 5 restarts within 600 s, a 5000 ms backoff that
// doubles with each crash in the window (up to a minute).
type RestartPolicy struct {
	// Mode is never, on_crash or always.
	Mode             string `json:"mode"`
	MaxRestarts      int    `json:"max_restarts"`
	WindowSeconds    int    `json:"window_seconds"`
	BackoffMS        int    `json:"backoff_ms"`
	CleanExitIsCrash bool   `json:"clean_exit_is_crash"`
}

// wire is p as the agent takes it, defaults filled in.
func (p RestartPolicy) wire() wire.RestartPolicy {
	return wire.RestartPolicy{
		Mode:             p.Mode,
		MaxRestarts:      p.MaxRestarts,
		Window:           wire.Duration(time.Duration(p.WindowSeconds) * time.Second),
		Backoff:          wire.Duration(time.Duration(p.BackoffMS) * time.Millisecond),
		CleanExitIsCrash: p.CleanExitIsCrash,
	}.WithDefaults()
}

func (p RestartPolicy) validate() error {
	if p.WindowSeconds < 0 || p.BackoffMS < 0 || p.MaxRestarts < 0 {
		return invalid("restart", "max_restarts, window_seconds and backoff_ms cannot be negative")
	}
	if err := p.wire().Validate(); err != nil {
		return invalid("restart", "%v", err)
	}
	return nil
}

// PolicyOf reads a server's restart policy as stored, with the defaults
// filled in (what the agent applies).
func PolicyOf(srv *store.Server) RestartPolicy {
	w := RestartPolicy{
		Mode: srv.RestartMode, MaxRestarts: srv.RestartMax, WindowSeconds: srv.RestartWindowSeconds,
		BackoffMS: srv.RestartBackoffMS, CleanExitIsCrash: srv.CleanExitIsCrash,
	}.wire()
	return RestartPolicy{
		Mode: w.Mode, MaxRestarts: w.MaxRestarts, WindowSeconds: int(time.Duration(w.Window) / time.Second),
		BackoffMS: int(time.Duration(w.Backoff) / time.Millisecond), CleanExitIsCrash: w.CleanExitIsCrash,
	}
}

// setPolicy stores p on srv and names the columns it changed.
func setPolicy(srv *store.Server, p RestartPolicy) []string {
	srv.RestartMode, srv.RestartMax, srv.RestartWindowSeconds = p.Mode, p.MaxRestarts, p.WindowSeconds
	srv.RestartBackoffMS, srv.CleanExitIsCrash = p.BackoffMS, p.CleanExitIsCrash
	return []string{"restart_mode", "restart_max", "restart_window_seconds", "restart_backoff_ms", "clean_exit_is_crash"}
}
