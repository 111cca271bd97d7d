// Package servers is the agent's server manager: it keeps each server's
// config on disk, drives its container through a runtime.Runtime (install,
// start, stop, restart, kill, delete), watches its console and its exit,
// and reports every state change and console line through a Publisher.
// Console lines are kept in memory and in a rotated log file per server
// (history survives agent restarts) and published live through a
// throttle; a process that exits unasked is restarted as its restart
// policy says.
package servers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"

	"catalyst.dev/agent/internal/runtime"
	"catalyst.dev/sdk/wire"
)

// Publisher sends events to the core. Publish must never block: the game's
// console output passes through it, and a slow core must not hold the game
// up. An implementation drops what it cannot queue.
type Publisher interface {
	Publish(typ string, data any)
}

// Errors callers branch on (the API maps them to status codes).
var (
	// ErrInvalid: the request or config is malformed.
	ErrInvalid = errors.New("invalid request")
	// ErrNotFound: the agent has no such server.
	ErrNotFound = errors.New("server not found")
	// ErrConflict: the server is busy with another power action or install,
	// or its state does not allow the action.
	ErrConflict = errors.New("conflict")
	// ErrNotRunning: a command for a server whose process does not run.
	ErrNotRunning = errors.New("server is not running")
)

// Defaults for what a config may leave out.
const (
	defaultStopTimeout = 30 * time.Second
	defaultInterpreter = "/bin/sh"
)

// Manager runs the node's servers. Create it with New, call Restore once,
// and Close it when the agent exits (the servers keep running).
type Manager struct {
	rt      runtime.Runtime
	dataDir string
	pub     Publisher
	log     hclog.Logger
	opts    Options

	// ctx bounds the work that outlives a request: exit watchers,
	// console attachments, background stops and installs. Close ends it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	servers map[string]*server
}

// Console defaults (Options).
const (
	DefaultThrottleLines  = 2000
	DefaultThrottlePeriod = 100 * time.Millisecond
	DefaultHistoryLines   = 1000
	DefaultLogMaxBytes    = 10 << 20
	DefaultLogFiles       = 3
)

// ConfigWriter rewrites the config files a server's template names in
// its volume (dir), before each start (*configfiles.Writer). Its error
// may join several, one per file or skipped value.
type ConfigWriter interface {
	WriteConfigFiles(ctx context.Context, id, dir string, list []wire.ConfigFile) error
}

// Options tunes a Manager; zero fields take the defaults.
type Options struct {
	// ConfigFiles rewrites servers' config files before they start; nil
	// leaves them alone.
	ConfigFiles ConfigWriter
	// ThrottleLines is how many console lines per ThrottlePeriod a server
	// may publish live; the rest go only to its history and log, and a
	// wire.ConsoleThrottled event says how many. Negative turns the
	// throttle off.
	ThrottleLines  int
	ThrottlePeriod time.Duration
	// HistoryLines is how many recent lines each server keeps in memory.
	HistoryLines int
	// LogMaxBytes caps each console log file; LogFiles is how many files
	// a server keeps, the current one included.
	LogMaxBytes int64
	LogFiles    int
}

func (o Options) withDefaults() Options {
	if o.ThrottleLines == 0 {
		o.ThrottleLines = DefaultThrottleLines
	}
	if o.ThrottlePeriod <= 0 {
		o.ThrottlePeriod = DefaultThrottlePeriod
	}
	if o.HistoryLines <= 0 {
		o.HistoryLines = DefaultHistoryLines
	}
	if o.LogMaxBytes <= 0 {
		o.LogMaxBytes = DefaultLogMaxBytes
	}
	if o.LogFiles <= 0 {
		o.LogFiles = DefaultLogFiles
	}
	return o
}

// New makes a Manager keeping its files under dataDir (servers/<id>.json,
// volumes/<id>, logs/).
func New(rt runtime.Runtime, dataDir string, pub Publisher, log hclog.Logger, opts Options) (*Manager, error) {
	if !filepath.IsAbs(dataDir) {
		return nil, fmt.Errorf("server manager: data directory %q is not absolute", dataDir)
	}
	for _, d := range []string{"servers", "volumes", "logs"} {
		if err := os.MkdirAll(filepath.Join(dataDir, d), 0o750); err != nil {
			return nil, fmt.Errorf("server manager: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{
		rt:      rt,
		dataDir: dataDir,
		pub:     pub,
		log:     log,
		opts:    opts.withDefaults(),
		ctx:     ctx,
		cancel:  cancel,
		servers: map[string]*server{},
	}, nil
}

// Close stops watching: consoles are detached, background stops, installs
// and pending restarts are abandoned, console logs are closed, and nothing
// more is published. Processes keep running for the next agent to find.
func (m *Manager) Close() {
	m.cancel()
	m.wg.Wait()
	m.mu.Lock()
	all := make([]*server, 0, len(m.servers))
	for _, s := range m.servers {
		all = append(all, s)
	}
	m.mu.Unlock()
	for _, s := range all {
		s.out.close()
	}
}

func (m *Manager) configPath(id string) string {
	return filepath.Join(m.dataDir, "servers", id+".json")
}
func (m *Manager) volume(id string) string { return filepath.Join(m.dataDir, "volumes", id) }
func (m *Manager) installLog(id string) string {
	return filepath.Join(m.dataDir, "logs", id+"-install.log")
}
func (m *Manager) consoleLog(id string) string {
	return filepath.Join(m.dataDir, "logs", id+".log")
}

// newServer makes the agent's record of server id, stopped, its console
// history read back from the log.
func (m *Manager) newServer(id string) *server {
	file := newConsoleLog(m.consoleLog(id), m.opts.LogMaxBytes, m.opts.LogFiles, m.log)
	return &server{
		id:    id,
		power: make(chan struct{}, 1),
		out:   newOutput(id, m.pub, m.log, m.opts, file),
		state: wire.ServerState{ServerID: id, State: wire.StateStopped},
	}
}

// get returns a known server.
func (m *Manager) get(id string) (*server, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.servers[id]
	if !ok {
		return nil, fmt.Errorf("server %s: %w", id, ErrNotFound)
	}
	return s, nil
}

// Volume returns the directory holding server id's files and the config
// it was last given; ErrNotFound for a server the agent has no config of.
func (m *Manager) Volume(id string) (string, wire.ServerConfig, error) {
	s, err := m.get(id)
	if err != nil {
		return "", wire.ServerConfig{}, err
	}
	s.mu.Lock()
	cfg := s.rec.Config
	s.mu.Unlock()
	if cfg.ID == "" {
		return "", wire.ServerConfig{}, fmt.Errorf("server %s: %w", id, ErrNotFound)
	}
	return m.volume(id), cfg, nil
}

// getOrAdd returns the server, adding it (stopped, with no config yet)
// when unknown.
func (m *Manager) getOrAdd(id string) *server {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.servers[id]
	if !ok {
		s = m.newServer(id)
		m.servers[id] = s
	}
	return s
}

// forgetIfUnconfigured drops a server that getOrAdd added when the request
// that added it failed before recording a config.
func (m *Manager) forgetIfUnconfigured(s *server) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.mu.Lock()
	unconfigured := s.rec.Config.ID == ""
	s.mu.Unlock()
	if unconfigured && m.servers[s.id] == s {
		delete(m.servers, s.id)
	}
}

// Configure validates and records cfg. A container made from an older
// config is recreated from it before the server's next start.
func (m *Manager) Configure(ctx context.Context, cfg wire.ServerConfig) error {
	if err := validateConfig(cfg); err != nil {
		return err
	}
	s := m.getOrAdd(cfg.ID)
	s.mu.Lock()
	// The core pushes the config before every start; an unchanged one must
	// not cost a new container (and, on a bridge, a new network namespace).
	if reflect.DeepEqual(s.rec.Config, cfg) {
		s.mu.Unlock()
		return nil
	}
	rec := s.rec
	rec.Config = cfg
	if err := m.save(rec); err != nil {
		s.mu.Unlock()
		m.forgetIfUnconfigured(s)
		return err
	}
	m.cancelRestartLocked(s, "the server's configuration changed")
	isNew := s.rec.Config.ID == ""
	s.rec = rec
	s.dirty = true
	s.gen++
	if isNew {
		m.setStateLocked(s, wire.ServerState{State: wire.StateStopped})
	}
	s.mu.Unlock()
	return nil
}

// State returns the server's state, checked against the runtime.
func (m *Manager) State(ctx context.Context, id string) (wire.ServerState, error) {
	s, err := m.get(id)
	if err != nil {
		return wire.ServerState{}, err
	}
	return m.realState(ctx, s)
}

// Logs returns up to lines (at most wire.MaxLogLines) of the server's
// newest console lines, oldest first: from memory, or from the console
// log when memory holds fewer. History survives the agent restarting.
func (m *Manager) Logs(id string, lines int) ([]string, error) {
	s, err := m.get(id)
	if err != nil {
		return nil, err
	}
	return s.out.lines(lines), nil
}

// States returns the state of every server the agent knows, checked
// against the runtime, ordered by ID.
func (m *Manager) States(ctx context.Context) ([]wire.ServerState, error) {
	m.mu.Lock()
	all := make([]*server, 0, len(m.servers))
	for _, s := range m.servers {
		all = append(all, s)
	}
	m.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
	out := make([]wire.ServerState, 0, len(all))
	for _, s := range all {
		st, err := m.realState(ctx, s)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Running counts the processes the agent watches.
func (m *Manager) Running() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.servers {
		s.mu.Lock()
		if s.run != nil {
			n++
		}
		s.mu.Unlock()
	}
	return n
}

// realState is the tracked state where the runtime agrees with it, and
// what the runtime says where it does not (an exit not yet reported, a
// process started behind the agent's back).
func (m *Manager) realState(ctx context.Context, s *server) (wire.ServerState, error) {
	rs, err := m.rt.State(ctx, s.id)
	if err != nil {
		return wire.ServerState{}, fmt.Errorf("server %s: %w", s.id, err)
	}
	s.mu.Lock()
	st := s.state
	s.mu.Unlock()
	live := st.State == wire.StateStarting || st.State == wire.StateRunning || st.State == wire.StateStopping
	switch {
	case rs == runtime.StateRunning && !live:
		st = wire.ServerState{ServerID: s.id, State: wire.StateRunning}
	case rs != runtime.StateRunning && live:
		st = wire.ServerState{ServerID: s.id, State: wire.StateStopped}
	}
	return st, nil
}

// setStateLocked records and publishes st; s.mu is held, so that state
// events leave in the order the changes happened.
func (m *Manager) setStateLocked(s *server, st wire.ServerState) {
	st.ServerID = s.id
	s.state = st
	m.pub.Publish(wire.EventServerState, st)
}

func (m *Manager) setState(s *server, st wire.ServerState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.setStateLocked(s, st)
}

// Delete kills the server's process and removes its container, volume,
// config and logs. Deleting an unknown server succeeds.
func (m *Manager) Delete(ctx context.Context, id string) error {
	if err := validateID(id); err != nil {
		return err
	}
	m.mu.Lock()
	s := m.servers[id]
	m.mu.Unlock()
	if s != nil {
		s.mu.Lock()
		s.deleted = true
		m.cancelRestartLocked(s, "")
		cancelInstall, r := s.cancelInstall, s.run
		s.mu.Unlock()
		if cancelInstall != nil {
			cancelInstall()
		}
		if r != nil {
			r.asked.Store(true)
			err := m.rt.Kill(ctx, id)
			if err != nil && !errors.Is(err, runtime.ErrNotRunning) && !errors.Is(err, runtime.ErrNotFound) {
				return fmt.Errorf("delete server %s: %w", id, err)
			}
		}
		// Whatever power action or install is under way ends soon now
		// (the process is gone, the install cancelled); wait for it so
		// that it cannot create a container after the removal.
		if err := s.lockWait(ctx); err != nil {
			return fmt.Errorf("delete server %s: %w", id, err)
		}
		defer s.unlock()
	}
	if err := m.rt.Delete(ctx, id); err != nil {
		return fmt.Errorf("delete server %s: %w", id, err)
	}
	if s != nil {
		s.mu.Lock()
		r := s.run
		s.mu.Unlock()
		if r != nil {
			select {
			case <-r.done:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if err := runtime.RemoveVolume(m.volume(id)); err != nil {
		return fmt.Errorf("delete server %s: %w", id, err)
	}
	for _, p := range []string{m.configPath(id), m.installLog(id)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("delete server %s: %w", id, err)
		}
	}
	if s != nil {
		s.out.close()
	}
	if err := removeLogs(m.consoleLog(id)); err != nil {
		return fmt.Errorf("delete server %s: %w", id, err)
	}
	m.mu.Lock()
	if m.servers[id] == s {
		delete(m.servers, id)
	}
	m.mu.Unlock()
	return nil
}

// Restore loads the recorded servers and finds their processes again:
// running ones get their console and exit watcher back, the others are
// stopped, or crashed if they exited with an error while no agent watched.
func (m *Manager) Restore(ctx context.Context) error {
	files, err := filepath.Glob(filepath.Join(m.dataDir, "servers", "*.json"))
	if err != nil {
		return fmt.Errorf("restore servers: %w", err)
	}
	ids, err := m.rt.List(ctx)
	if err != nil {
		return fmt.Errorf("restore servers: %w", err)
	}
	known := map[string]bool{}
	for _, f := range files {
		rec, err := load(f)
		if err != nil {
			m.log.Error("skipping unreadable server config", "file", f, "error", err)
			continue
		}
		known[rec.Config.ID] = true
		if err := m.restore(ctx, rec); err != nil {
			return fmt.Errorf("restore servers: %w", err)
		}
	}
	for _, id := range ids {
		if !known[id] {
			m.log.Warn("container has no server config; leaving it alone", "container", id)
		}
	}
	return nil
}

func (m *Manager) restore(ctx context.Context, rec record) error {
	id := rec.Config.ID
	s := m.getOrAdd(id)
	s.mu.Lock()
	s.rec = rec
	// Whether the container still matches the config is unknown: make it
	// again before the next start.
	s.dirty = true
	s.mu.Unlock()

	rs, err := m.rt.State(ctx, id)
	if err != nil {
		return err
	}
	switch {
	case rs == runtime.StateRunning:
		s.mu.Lock()
		r := m.watchLocked(s)
		m.setStateLocked(s, wire.ServerState{State: wire.StateRunning})
		s.mu.Unlock()
		m.attach(s, r)
		m.log.Info("reattached to running server", "server", id)
	case rec.Install == installRunning:
		rec.Install, rec.InstallReason = installFailed, "the agent stopped while the installer ran"
		s.mu.Lock()
		s.rec = rec
		err := m.save(rec)
		m.setStateLocked(s, wire.ServerState{State: wire.StateInstallFailed, Reason: rec.InstallReason})
		s.mu.Unlock()
		if err != nil {
			return err
		}
	case rec.Install == installFailed:
		m.setState(s, wire.ServerState{State: wire.StateInstallFailed, Reason: rec.InstallReason})
	default:
		st, exit := m.lastExit(ctx, id)
		s.mu.Lock()
		m.setStateLocked(s, st)
		if st.State == wire.StateCrashed {
			// Only error exits: a clean one may have been a stop the
			// previous agent asked for, which must not start it again.
			m.applyRestartPolicyLocked(s, exit, true, time.Now())
		}
		s.mu.Unlock()
	}
	return nil
}

// lastExit reports how a server's last process ended, when containerd
// still has it: an error exit while no agent watched is a crash.
func (m *Manager) lastExit(ctx context.Context, id string) (wire.ServerState, runtime.ExitState) {
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	exit, err := m.rt.WaitExit(wctx, id)
	if err != nil {
		return wire.ServerState{State: wire.StateStopped}, runtime.ExitState{}
	}
	code := exit.Code
	if code == 0 {
		return wire.ServerState{State: wire.StateStopped, ExitCode: &code}, exit
	}
	return wire.ServerState{State: wire.StateCrashed, ExitCode: &code,
		Reason: fmt.Sprintf("exited with code %d while the agent was not running", code)}, exit
}

// spec is the container cfg describes.
func (m *Manager) spec(cfg wire.ServerConfig) runtime.Spec {
	env := envList(cfg.Env)
	if cfg.Startup != "" {
		if _, ok := cfg.Env["STARTUP"]; !ok {
			env = append(env, "STARTUP="+cfg.Startup)
		}
	}
	var ports []runtime.Port
	for _, p := range cfg.Ports {
		for _, proto := range []string{"tcp", "udp"} {
			ports = append(ports, runtime.Port{HostIP: p.IP, Port: uint16(p.Port), Protocol: proto})
		}
	}
	return runtime.Spec{
		ID:             cfg.ID,
		Image:          cfg.Image,
		Argv:           cfg.Argv,
		Env:            env,
		Volume:         m.volume(cfg.ID),
		Ports:          ports,
		Limits:         limits(cfg),
		ReadOnlyRootfs: cfg.ReadOnlyRootfs,
	}
}

func limits(cfg wire.ServerConfig) runtime.Limits {
	return runtime.Limits{MemoryBytes: cfg.MemoryMB << 20, CPUPercent: int(cfg.CPUPercent), Pids: cfg.PidsLimit}
}

// envList turns a map into KEY=VALUE pairs, sorted so that a container's
// spec does not change from one creation to the next.
func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

func validateID(id string) error {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return fmt.Errorf("%w: server id %q is not a UUID", ErrInvalid, id)
	}
	return nil
}

func validateConfig(cfg wire.ServerConfig) error {
	if err := validateID(cfg.ID); err != nil {
		return err
	}
	var problems []string
	if strings.TrimSpace(cfg.Image) == "" {
		problems = append(problems, "image is empty")
	}
	for _, p := range cfg.Ports {
		if p.Port < 1 || p.Port > 65535 {
			problems = append(problems, fmt.Sprintf("port %d is outside 1-65535", p.Port))
		}
	}
	for name, v := range map[string]int64{"memory_mb": cfg.MemoryMB, "cpu_percent": cfg.CPUPercent, "disk_mb": cfg.DiskMB, "pids_limit": cfg.PidsLimit, "stop_timeout": int64(cfg.StopTimeout)} {
		if v < 0 {
			problems = append(problems, name+" is negative")
		}
	}
	for k := range cfg.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			problems = append(problems, fmt.Sprintf("environment variable name %q is invalid", k))
		}
	}
	if err := cfg.Restart.Validate(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("%w: server %s: %s", ErrInvalid, cfg.ID, strings.Join(problems, "; "))
	}
	return nil
}

// record is what the agent keeps on disk per server.
type record struct {
	Config wire.ServerConfig `json:"config"`
	// Install is installRunning while an installer runs and installFailed
	// after one failed (InstallReason says why), so that a restarted agent
	// reports it; "" otherwise.
	Install       string `json:"install,omitempty"`
	InstallReason string `json:"install_reason,omitempty"`
}

const (
	installRunning = "running"
	installFailed  = "failed"
)

// save writes rec atomically: a crash leaves the old file or the new one.
func (m *Manager) save(rec record) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("save server %s: %w", rec.Config.ID, err)
	}
	path := m.configPath(rec.Config.ID)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".server-*.json")
	if err != nil {
		return fmt.Errorf("save server %s: %w", rec.Config.ID, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("save server %s: %w", rec.Config.ID, err)
	}
	return nil
}

func load(path string) (record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return record{}, err
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return record{}, err
	}
	if err := validateConfig(rec.Config); err != nil {
		return record{}, err
	}
	if filepath.Base(path) != rec.Config.ID+".json" {
		return record{}, fmt.Errorf("file name does not match server id %s", rec.Config.ID)
	}
	return rec, nil
}
