package host

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"catalyst.dev/sdk/plugin"
)

// Errors callers of the host can branch on.
var (
	// ErrPluginExited: the plugin process died during a call that is not
	// safe to repeat (an upload whose source was already read). The
	// plugin is being restarted; the caller may retry from the start.
	ErrPluginExited = errors.New("plugin exited during the call")
	// ErrClosed: the host is shut down.
	ErrClosed = errors.New("plugin host is closed")
	// ErrUnknownPlugin: no plugin of that name is loaded.
	ErrUnknownPlugin = errors.New("no such plugin")
)

// Health of a plugin as shown in the status listing.
const (
	HealthStarting   = "starting"
	HealthHealthy    = "healthy"
	HealthUnhealthy  = "unhealthy"
	HealthRestarting = "restarting"
	HealthFailed     = "failed"
	HealthStopped    = "stopped"
)

// instance is one declared plugin: its spec and whichever process currently
// serves it. It relaunches that process when it dies, one launch at a time.
type instance struct {
	h    *Host
	spec Spec
	path string
	log  hclog.Logger

	mu        sync.Mutex
	cur       *launch       // nil while no process is serving
	launching chan struct{} // non-nil while a relaunch is in flight; closed when it ends
	lastErr   error         // why the last launch failed, or why the plugin was restarted
	info      plugin.Info
	config    plugin.Config // decoded on the first launch, replayed on every later one
	health    string
	restarts  int
	unstable  int // restarts in a row without a stable run, for backoff
	closed    bool
	sched     *schedulerState // scheduler plugins only

	stop chan struct{}
	wg   sync.WaitGroup // supervisor and relaunch goroutines
}

func (in *instance) decodeConfig(ctx context.Context, base plugin.Base) (plugin.Config, error) {
	if in.spec.Config == nil && in.spec.ConfigJSON != nil {
		return in.spec.ConfigJSON, nil
	}
	schema, err := base.ConfigSchema(ctx)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: config schema: %w", in.spec.Name, err)
	}
	cfg, diags := DecodeConfig(schema, in.spec.Config, in.spec.evalCtx, in.spec.DeclRange)
	if diags.HasErrors() {
		for _, d := range diags {
			d.Summary = fmt.Sprintf("Plugin %q: %s", in.spec.Name, d.Summary)
		}
		return nil, &DiagnosticsError{Diags: diags}
	}
	return cfg, nil
}

// configRange is where problems with the configuration as a whole point.
func (in *instance) configRange() hcl.Range {
	if in.spec.Config != nil {
		if r := in.spec.Config.MissingItemRange(); r.Filename != "" {
			return r
		}
	}
	return in.spec.DeclRange
}

// afterLaunch brings a new process up to the state callers expect; for a
// scheduler, that is the host callback and the current set of schedules.
func (in *instance) afterLaunch(ctx context.Context, l *launch) error {
	if l.info.Kind != plugin.KindScheduler {
		return nil
	}
	return in.sched.replay(ctx, l.kind.(plugin.Scheduler))
}

// ensure returns the serving process, waiting for (or starting) a relaunch
// if there is none. Concurrent callers share one relaunch.
func (in *instance) ensure(ctx context.Context) (*launch, error) {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return nil, fmt.Errorf("plugin %q: %w", in.spec.Name, ErrClosed)
	}
	if l := in.cur; l != nil && !l.dead() {
		in.mu.Unlock()
		return l, nil
	}
	done := in.relaunchLocked(in.cur, "process exited")
	in.mu.Unlock()

	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("plugin %q: waiting for restart: %w", in.spec.Name, ctx.Err())
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if l := in.cur; l != nil && !l.dead() {
		return l, nil
	}
	if in.closed {
		return nil, fmt.Errorf("plugin %q: %w", in.spec.Name, ErrClosed)
	}
	why := in.lastErr
	if why == nil {
		why = errors.New("it exited again right after starting")
	}
	return nil, fmt.Errorf("plugin %q is not running: %w", in.spec.Name, why)
}

// relaunchLocked starts replacing old (which may be nil) unless a relaunch
// is already under way or old has already been replaced, and returns a
// channel closed when the relaunch ends. in.mu must be held.
func (in *instance) relaunchLocked(old *launch, reason string) <-chan struct{} {
	if in.launching != nil {
		return in.launching
	}
	if in.closed || (in.cur != old && in.cur != nil) {
		done := make(chan struct{})
		close(done)
		return done
	}
	done := make(chan struct{})
	in.launching = done
	in.cur = nil
	in.health = HealthRestarting
	if old != nil && time.Since(old.started) >= in.h.stableAfter {
		in.unstable = 0
	}
	delay := in.h.backoff(in.unstable)
	in.unstable++
	in.log.Warn("restarting plugin", "reason", reason, "delay", delay, "restarts", in.restarts)
	in.wg.Add(1)
	go in.relaunch(old, delay, done)
	return done
}

func (in *instance) relaunch(old *launch, delay time.Duration, done chan struct{}) {
	defer in.wg.Done()
	if old != nil {
		old.hardKill()
	}
	var (
		l   *launch
		err error
	)
	timer := time.NewTimer(delay)
	select {
	case <-in.stop:
		timer.Stop()
		err = ErrClosed
	case <-timer.C:
		ctx, cancel := context.WithTimeout(context.Background(), in.h.startTimeout)
		l, err = in.h.start(ctx, in, false)
		cancel()
	}

	in.mu.Lock()
	defer in.mu.Unlock()
	defer close(done)
	in.launching = nil
	if err == nil && in.closed {
		l.kill()
		err = ErrClosed
	}
	if err != nil {
		in.lastErr = err
		in.health = HealthFailed
		in.log.Error("plugin restart failed", "error", err)
		return
	}
	in.cur = l
	in.restarts++
	in.health = HealthHealthy
	in.log.Info("plugin restarted", "pid", l.runner.pid, "restarts", in.restarts)
}

// supervise watches the serving process: it relaunches it when it exits,
// when it stops answering health checks, and when the last relaunch failed.
func (in *instance) supervise() {
	defer in.wg.Done()
	tick := time.NewTicker(in.h.healthEvery)
	defer tick.Stop()
	failedPings := 0
	for {
		in.mu.Lock()
		l := in.cur
		in.mu.Unlock()
		var exited <-chan struct{}
		if l != nil {
			exited = l.runner.exited
		}
		select {
		case <-in.stop:
			return
		case <-exited:
			in.mu.Lock()
			in.lastErr = fmt.Errorf("process %d exited", l.runner.pid)
			in.relaunchLocked(l, "process exited")
			in.mu.Unlock()
		case <-tick.C:
			if l == nil {
				in.mu.Lock()
				in.relaunchLocked(nil, "previous restart failed")
				in.mu.Unlock()
				continue
			}
			err := l.ping(context.Background(), in.h.healthTimeout)
			in.mu.Lock()
			if err == nil {
				failedPings = 0
				if in.cur == l {
					in.health = HealthHealthy
				}
			} else if failedPings++; failedPings >= 2 {
				failedPings = 0
				in.lastErr = err
				in.relaunchLocked(l, "health checks failing")
			} else if in.cur == l {
				in.health = HealthUnhealthy
			}
			in.mu.Unlock()
		}
	}
}

// do runs fn against the serving process. If the process dies during the
// call and retryable says the call is safe to repeat, it is made once more
// on the replacement, so the caller sees a slower call rather than a
// failure.
func (in *instance) do(ctx context.Context, retryable func() bool, fn func(*launch) error) error {
	l, err := in.ensure(ctx)
	if err != nil {
		return err
	}
	err = fn(l)
	if err == nil || ctx.Err() != nil || !in.lost(l, err) {
		return err
	}
	if !retryable() {
		return fmt.Errorf("plugin %q: %w: %w", in.spec.Name, ErrPluginExited, err)
	}
	in.log.Warn("plugin died during a call; retrying once on its replacement", "error", err)
	l, rerr := in.ensure(ctx)
	if rerr != nil {
		return fmt.Errorf("plugin %q died during the call (%w) and did not come back: %w", in.spec.Name, err, rerr)
	}
	return fn(l)
}

// lost reports whether err means the process serving l is gone (rather
// than the plugin answering with an error), and if so starts its
// replacement.
func (in *instance) lost(l *launch, err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.Canceled:
	default:
		return false
	}
	// Unless the process has been reaped already, an Unavailable may be the
	// plugin's own answer (its backend is down), a process dying or a
	// wedged connection: ask, which fails at once unless the plugin is
	// alive.
	gone := l.dead() || l.ping(context.Background(), in.h.healthTimeout) != nil
	if gone {
		in.mu.Lock()
		in.lastErr = fmt.Errorf("connection lost: %w", err)
		in.relaunchLocked(l, "connection lost during a call")
		in.mu.Unlock()
	}
	return gone
}

// shutdown stops supervision and kills the process.
func (in *instance) shutdown() {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return
	}
	in.closed = true
	l := in.cur
	in.cur = nil
	in.health = HealthStopped
	in.mu.Unlock()
	close(in.stop)
	if l != nil {
		l.kill()
	}
	in.wg.Wait()
}

// Status describes one plugin for the admin API and `catalyst plugins list`.
type Status struct {
	Name       string      `json:"name"`
	Kind       plugin.Kind `json:"kind"`
	Version    string      `json:"version"`
	APIVersion string      `json:"api_version"`
	Path       string      `json:"path"`
	Health     string      `json:"health"`
	Restarts   int         `json:"restarts"`
	PID        int         `json:"pid,omitempty"`
	StartedAt  time.Time   `json:"started_at,omitzero"`
	LastError  string      `json:"last_error,omitempty"`
}

func (in *instance) status() Status {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := Status{
		Name:     in.spec.Name,
		Kind:     in.info.Kind,
		Version:  in.info.Version,
		Path:     in.path,
		Health:   in.health,
		Restarts: in.restarts,
	}
	if in.lastErr != nil {
		s.LastError = in.lastErr.Error()
	}
	if l := in.cur; l != nil {
		s.APIVersion = l.api
		s.PID = l.runner.pid
		s.StartedAt = l.started
		if l.dead() {
			s.Health = HealthRestarting
		}
	}
	return s
}
