// Package host runs Catalyst plugins: it reads their HCL declarations,
// launches and verifies them, decodes their configuration against the
// schema each one publishes, keeps them alive, and hands out clients of
// their kind. The core and the agent both use it.
//
//	h, err := host.New(host.WithLogger(log), host.WithPluginDir("/usr/lib/catalyst/plugins"))
//	specs, diags := host.DecodeBlocks(cfg.Plugins, evalCtx)
//	err = h.Load(ctx, specs)          // *DiagnosticsError for config problems
//	store, err := h.BackupStore("backup-s3")
//	defer h.Close()
package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"catalyst.dev/sdk/plugin"
)

// Host owns a set of plugin processes.
type Host struct {
	log           hclog.Logger
	pluginDir     string
	socketDir     string
	ownSocketDir  bool
	healthEvery   time.Duration
	healthTimeout time.Duration
	startTimeout  time.Duration
	backoffMin    time.Duration
	backoffMax    time.Duration
	stableAfter   time.Duration
	spawner       *spawner

	mu        sync.Mutex
	instances map[string]*instance
	order     []string
	closed    bool
}

// Option configures a Host.
type Option func(*Host)

// WithLogger sets the logger; plugin logs appear under its "plugin.NAME".
func WithLogger(l hclog.Logger) Option { return func(h *Host) { h.log = l } }

// WithPluginDir sets the directory relative plugin paths are resolved in.
func WithPluginDir(dir string) Option { return func(h *Host) { h.pluginDir = dir } }

// WithSocketDir sets the directory under which each plugin gets its own
// directory for unix sockets. It must be short: a socket path may not
// exceed 107 bytes. By default the host creates /tmp/cat-XXXXXX.
func WithSocketDir(dir string) Option { return func(h *Host) { h.socketDir = dir } }

// WithHealthCheck sets how often each plugin is pinged and how long a ping
// may take. Two failed pings in a row restart the plugin.
func WithHealthCheck(every, timeout time.Duration) Option {
	return func(h *Host) { h.healthEvery, h.healthTimeout = every, timeout }
}

// WithBackoff sets the restart delays: the first restart after a stable run
// is immediate, later ones wait min, 2·min, 4·min … up to max. A plugin
// that ran for stableAfter counts as stable again.
func WithBackoff(min, max, stableAfter time.Duration) Option {
	return func(h *Host) { h.backoffMin, h.backoffMax, h.stableAfter = min, max, stableAfter }
}

// WithStartTimeout bounds one launch: process start, handshake, Info,
// schema and Configure.
func WithStartTimeout(d time.Duration) Option { return func(h *Host) { h.startTimeout = d } }

// New returns a host with no plugins loaded.
func New(opts ...Option) (*Host, error) {
	h := &Host{
		healthEvery:   5 * time.Second,
		healthTimeout: 2 * time.Second,
		startTimeout:  30 * time.Second,
		backoffMin:    250 * time.Millisecond,
		backoffMax:    30 * time.Second,
		stableAfter:   time.Minute,
		instances:     map[string]*instance{},
	}
	for _, o := range opts {
		o(h)
	}
	if h.log == nil {
		h.log = hclog.NewNullLogger()
	}
	if h.socketDir == "" {
		dir, err := os.MkdirTemp(shortTempRoot(), "cat-")
		if err != nil {
			return nil, fmt.Errorf("plugin socket directory: %w", err)
		}
		h.socketDir, h.ownSocketDir = dir, true
	}
	h.spawner = newSpawner()
	return h, nil
}

// shortTempRoot prefers /tmp over $TMPDIR, which can be long enough (on
// macOS, in CI sandboxes) to push socket paths past the 107-byte limit.
func shortTempRoot() string {
	if fi, err := os.Stat("/tmp"); err == nil && fi.IsDir() {
		return "/tmp"
	}
	return os.TempDir()
}

func (h *Host) backoff(unstable int) time.Duration {
	if unstable <= 0 {
		return 0
	}
	d := h.backoffMin
	for i := 1; i < unstable && d < h.backoffMax; i++ {
		d *= 2
	}
	return min(d, h.backoffMax)
}

// Load launches the plugins, checks their identity and API versions,
// decodes each config block against the plugin's schema and configures
// them. Either all of them end up running or none does: problems are
// reported together, configuration problems as one *DiagnosticsError.
func (h *Host) Load(ctx context.Context, specs []Spec) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrClosed
	}
	var errs []error
	var ins []*instance
	seen := map[string]bool{}
	for _, s := range specs {
		if _, dup := h.instances[s.Name]; dup || seen[s.Name] {
			errs = append(errs, fmt.Errorf("plugin %q is already loaded", s.Name))
			continue
		}
		seen[s.Name] = true
		ins = append(ins, h.newInstance(s))
	}
	h.mu.Unlock()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	launches := make([]*launch, len(ins))
	launchErrs := make([]error, len(ins))
	var wg sync.WaitGroup
	for i, in := range ins {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, h.startTimeout)
			defer cancel()
			launches[i], launchErrs[i] = h.start(ctx, in, true)
		})
	}
	wg.Wait()

	if err := joinLoadErrors(launchErrs); err != nil {
		for _, l := range launches {
			if l != nil {
				l.kill()
			}
		}
		return err
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		for _, l := range launches {
			l.kill()
		}
		return ErrClosed
	}
	for i, in := range ins {
		l := launches[i]
		in.cur, in.health = l, HealthHealthy
		h.instances[in.spec.Name] = in
		h.order = append(h.order, in.spec.Name)
		in.log.Info("plugin started", "kind", l.info.Kind, "version", l.info.Version, "api", l.api, "pid", l.runner.pid)
		in.wg.Add(1)
		go in.supervise()
	}
	return nil
}

// joinLoadErrors merges configuration diagnostics into one
// *DiagnosticsError and joins it with the other failures.
func joinLoadErrors(errs []error) error {
	var diags hcl.Diagnostics
	var other []error
	for _, err := range errs {
		var de *DiagnosticsError
		switch {
		case err == nil:
		case errors.As(err, &de):
			diags = append(diags, de.Diags...)
		default:
			other = append(other, err)
		}
	}
	if len(diags) > 0 {
		other = append([]error{&DiagnosticsError{Diags: diags}}, other...)
	}
	if len(other) == 1 {
		return other[0]
	}
	return errors.Join(other...)
}

func (h *Host) newInstance(s Spec) *instance {
	path := s.Path
	if !filepath.IsAbs(path) && h.pluginDir != "" {
		path = filepath.Join(h.pluginDir, path)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return &instance{
		h:    h,
		spec: s,
		path: path,
		// go-plugin names the plugin's own log lines plugin.NAME; the
		// host's lines about the plugin carry its name as a key.
		log:    h.log.Named("plugin").With("name", s.Name),
		health: HealthStarting,
		// Scheduler state lives on the instance so it survives restarts;
		// it is only used if the plugin turns out to be a scheduler.
		sched: &schedulerState{},
		stop:  make(chan struct{}),
	}
}

// Close kills every plugin and waits for them to exit.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	ins := make([]*instance, 0, len(h.instances))
	for _, name := range h.order {
		ins = append(ins, h.instances[name])
	}
	h.mu.Unlock()

	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Go(in.shutdown)
	}
	wg.Wait()
	h.spawner.stop()
	if h.ownSocketDir {
		if err := os.RemoveAll(h.socketDir); err != nil {
			return fmt.Errorf("remove plugin socket directory: %w", err)
		}
	}
	return nil
}

// Status lists every loaded plugin in load order.
func (h *Host) Status() []Status {
	h.mu.Lock()
	ins := make([]*instance, 0, len(h.order))
	for _, name := range h.order {
		ins = append(ins, h.instances[name])
	}
	h.mu.Unlock()
	out := make([]Status, 0, len(ins))
	for _, in := range ins {
		out = append(out, in.status())
	}
	return out
}

// Names lists the loaded plugins of a kind, in load order.
func (h *Host) Names(kind plugin.Kind) []string {
	var names []string
	for _, s := range h.Status() {
		if s.Kind == kind {
			names = append(names, s.Name)
		}
	}
	return names
}

func (h *Host) instance(name string, kind plugin.Kind) (*instance, error) {
	h.mu.Lock()
	in, ok := h.instances[name]
	closed := h.closed
	h.mu.Unlock()
	switch {
	case closed:
		return nil, ErrClosed
	case !ok:
		loaded := h.loadedNames()
		slices.Sort(loaded)
		return nil, fmt.Errorf("plugin %q: %w (loaded: %v)", name, ErrUnknownPlugin, loaded)
	}
	in.mu.Lock()
	got := in.info.Kind
	in.mu.Unlock()
	if got != kind {
		return nil, fmt.Errorf("plugin %q is a %s, not a %s", name, got, kind)
	}
	return in, nil
}

func (h *Host) loadedNames() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.order)
}

// Start makes a host and loads specs, for a process that reads them from
// its configuration: a config block that does not fit its plugin's schema
// is an error naming file:line:col, rendered with excerpts from files (the
// configuration's parsed files; nil leaves them out), and nothing is left
// running.
func Start(ctx context.Context, specs []Spec, files map[string]*hcl.File, opts ...Option) (*Host, error) {
	h, err := New(opts...)
	if err != nil {
		return nil, fmt.Errorf("plugin host: %w", err)
	}
	if err := h.Load(ctx, specs); err != nil {
		h.Close()
		var de *DiagnosticsError
		if errors.As(err, &de) {
			return nil, fmt.Errorf("invalid plugin configuration:\n%w", &DiagnosticsError{Diags: de.Diags, Files: files})
		}
		return nil, fmt.Errorf("start plugins (plugin directory %s): %w", h.pluginDir, err)
	}
	return h, nil
}
