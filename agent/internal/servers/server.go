package servers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"catalyst.dev/agent/internal/runtime"
	"catalyst.dev/sdk/wire"
)

// server is one server's state in the agent.
type server struct {
	id string
	// power is a one-slot lock (wings' system/locker.go): one power action
	// or install at a time. Kill and Delete do not wait for it, so that a
	// stuck stop can always be ended.
	power chan struct{}

	mu    sync.Mutex
	rec   record
	state wire.ServerState // the last one published
	// dirty: the container (if any) was made from an older config; it is
	// made again before the next start. gen counts config changes, so that
	// a container made while the config changed does not clear it.
	dirty         bool
	gen           uint64
	deleted       bool
	run           *run               // the process being watched; nil when none
	out           *output            // console history, log and live output
	cancelInstall context.CancelFunc // ends the running installer
	// restarts are when the restart policy restarted the server, oldest
	// first, within its window. They are kept in memory only: an agent
	// restart forgets them. restart is the restart waiting out its
	// backoff, if any.
	restarts []time.Time
	restart  *pendingRestart
}

func (s *server) tryLock() bool {
	select {
	case s.power <- struct{}{}:
		return true
	default:
		return false
	}
}

func (s *server) lockWait(ctx context.Context) error {
	select {
	case s.power <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *server) unlock() { <-s.power }

func busy(id string) error {
	return fmt.Errorf("%w: server %s is busy with another power action or an install", ErrConflict, id)
}

// run is one process the agent watches, from start (or reattachment) until
// its exit has been reported.
type run struct {
	console *console
	// att is the console attachment (guarded by server.mu); finished is set
	// once the exit watcher let go of it.
	att      io.WriteCloser
	finished bool
	// asked: the agent asked the process to exit, so its exit is a stop,
	// not a crash. awaitingDone: starting, watching the console for a
	// StartupDone line.
	asked        atomic.Bool
	awaitingDone atomic.Bool
	// done is closed once the exit has been reported.
	done chan struct{}
}

// Power performs a power action (wire.Power*). start returns once the
// process runs, kill once it has exited; stop and restart return at once
// and go on in the background. Every state change is published.
func (m *Manager) Power(ctx context.Context, id, action string) error {
	s, err := m.get(id)
	if err != nil {
		return err
	}
	switch action {
	case wire.PowerStart, wire.PowerStop, wire.PowerRestart, wire.PowerKill:
		s.mu.Lock()
		m.cancelRestartLocked(s, "a user asked to "+action+" the server")
		if action == wire.PowerStart || action == wire.PowerRestart {
			// Someone starting it by hand begins the window afresh.
			s.restarts = nil
		}
		s.mu.Unlock()
	}
	switch action {
	case wire.PowerStart:
		if !s.tryLock() {
			return busy(id)
		}
		defer s.unlock()
		return m.start(ctx, s)
	case wire.PowerStop:
		if !s.tryLock() {
			return busy(id)
		}
		r := m.beginStop(s)
		if r == nil {
			// Nothing runs; say so again, for the core to converge on.
			m.setState(s, s.snapshot())
			s.unlock()
			return nil
		}
		m.wg.Go(func() {
			defer s.unlock()
			m.finishStop(m.ctx, s, r)
		})
		return nil
	case wire.PowerRestart:
		if !s.tryLock() {
			return busy(id)
		}
		r := m.beginStop(s)
		m.wg.Go(func() {
			defer s.unlock()
			if r != nil && !m.finishStop(m.ctx, s, r) {
				return
			}
			if err := m.start(m.ctx, s); err != nil && m.ctx.Err() == nil {
				m.log.Error("restart: start failed", "server", id, "error", err)
				m.setState(s, wire.ServerState{State: wire.StateStopped, Reason: "restart failed: " + err.Error()})
			}
		})
		return nil
	case wire.PowerKill:
		return m.kill(ctx, s)
	default:
		return fmt.Errorf("%w: unknown power action %q", ErrInvalid, action)
	}
}

// start (re)creates the container when needed and starts the process.
// The power lock is held.
func (m *Manager) start(ctx context.Context, s *server) error {
	s.mu.Lock()
	deleted, prev, state := s.deleted, s.run, s.state.State
	s.mu.Unlock()
	if deleted {
		return fmt.Errorf("server %s: %w", s.id, ErrNotFound)
	}
	if state == wire.StateInstalling {
		return fmt.Errorf("%w: server %s is installing", ErrConflict, s.id)
	}
	rs, err := m.rt.State(ctx, s.id)
	if err != nil {
		return fmt.Errorf("start server %s: %w", s.id, err)
	}
	if rs == runtime.StateRunning {
		return fmt.Errorf("%w: server %s is already running", ErrConflict, s.id)
	}
	if prev != nil {
		// The process exited; let its watcher report that first.
		select {
		case <-prev.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}

	s.mu.Lock()
	cfg, dirty, gen := s.rec.Config, s.dirty, s.gen
	s.mu.Unlock()
	m.writeConfigFiles(ctx, cfg)
	if dirty || rs == runtime.StateAbsent {
		if err := m.rt.Delete(ctx, s.id); err != nil {
			return fmt.Errorf("start server %s: %w", s.id, err)
		}
		if err := m.rt.Create(ctx, m.spec(cfg)); err != nil {
			return fmt.Errorf("start server %s: %w", s.id, err)
		}
		s.mu.Lock()
		if s.gen == gen {
			s.dirty = false
		}
		s.mu.Unlock()
	}
	if err := m.rt.Start(ctx, s.id); err != nil {
		return fmt.Errorf("start server %s: %w", s.id, err)
	}

	s.mu.Lock()
	r := m.watchLocked(s)
	st := wire.ServerState{State: wire.StateRunning}
	if len(cfg.StartupDone) > 0 {
		st.State = wire.StateStarting
		r.awaitingDone.Store(true)
	}
	m.setStateLocked(s, st)
	s.mu.Unlock()
	m.attach(s, r)
	return nil
}

// writeConfigFiles rewrites the config files cfg names, before a start.
// What fails is told to the server's viewers and the log, and the server
// starts all the same, with those files as they were: a game that reads
// its old port is better than one that does not run.
func (m *Manager) writeConfigFiles(ctx context.Context, cfg wire.ServerConfig) {
	if m.opts.ConfigFiles == nil || len(cfg.ConfigFiles) == 0 {
		return
	}
	err := m.opts.ConfigFiles.WriteConfigFiles(ctx, cfg.ID, m.volume(cfg.ID), cfg.ConfigFiles)
	if err == nil {
		return
	}
	m.log.Warn("config files not fully rewritten; starting the server anyway", "server", cfg.ID, "error", err)
	for _, line := range strings.Split(err.Error(), "\n") {
		m.Message(cfg.ID, wire.LevelWarning, "Before the start, "+line+".")
	}
}

// watchLocked starts watching the server's process for its exit. s.mu is
// held.
func (m *Manager) watchLocked(s *server) *run {
	r := &run{done: make(chan struct{})}
	r.console = newConsole(s.out, func(line string) { m.consoleLine(s, r, line) })
	s.run = r
	m.wg.Go(func() { m.watch(s, r) })
	return r
}

// attach connects the process's console to r. A process that has already
// exited has nothing to attach to; its watcher reports the exit.
func (m *Manager) attach(s *server, r *run) {
	att, err := m.rt.Attach(m.ctx, s.id, r.console)
	if err != nil {
		if !errors.Is(err, runtime.ErrNotRunning) {
			m.log.Error("attach to console", "server", s.id, "error", err)
		}
		return
	}
	s.mu.Lock()
	finished := r.finished
	if !finished {
		r.att = att
	}
	s.mu.Unlock()
	if finished {
		att.Close()
	}
}

// consoleLine moves a starting server to running on its first StartupDone
// line. It is called for every line, with the server's output locked.
func (m *Manager) consoleLine(s *server, r *run, line string) {
	if !r.awaitingDone.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run != r || s.state.State != wire.StateStarting {
		return
	}
	for _, p := range s.rec.Config.StartupDone {
		if p != "" && strings.Contains(line, p) {
			r.awaitingDone.Store(false)
			// The line that says so goes out before the state change.
			s.out.publishLocked()
			m.setStateLocked(s, wire.ServerState{State: wire.StateRunning})
			return
		}
	}
}

// watch waits for the process to exit and reports how: stopped when the
// agent asked for it, crashed otherwise.
func (m *Manager) watch(s *server, r *run) {
	defer close(r.done)
	exit, err := m.rt.WaitExit(m.ctx, s.id)
	if m.ctx.Err() != nil {
		// The agent is going away, the process is not.
		m.detach(s, r)
		return
	}
	if err == nil {
		// The last lines may still be on their way out of the pipe.
		r.console.settle(100*time.Millisecond, 2*time.Second)
	}
	m.detach(s, r)

	s.mu.Lock()
	defer s.mu.Unlock()
	st := wire.ServerState{State: wire.StateStopped}
	unasked, crash := false, false
	switch {
	case err != nil && r.asked.Load():
		// Deleted, most likely: the process is gone with its task.
	case err != nil:
		m.log.Error("lost track of the server's process", "server", s.id, "error", err)
		st = wire.ServerState{State: wire.StateCrashed, Reason: "the agent lost track of the process: " + err.Error()}
	default:
		code := exit.Code
		st.ExitCode, st.OOMKilled = &code, exit.OOMKilled
		if !r.asked.Load() {
			unasked = true
			crash = exit.Code != 0 || exit.OOMKilled || s.rec.Config.Restart.CleanExitIsCrash
			st.Reason = crashReason(exit)
			if crash {
				st.State = wire.StateCrashed
			}
		}
	}
	if s.run == r {
		s.run = nil
	}
	m.setStateLocked(s, st)
	m.log.Info("server process exited", "server", s.id, "state", st.State, "code", exit.Code, "oom", exit.OOMKilled)
	if unasked {
		m.applyRestartPolicyLocked(s, exit, crash, time.Now())
	}
}

func crashReason(exit runtime.ExitState) string {
	switch {
	case exit.OOMKilled:
		return fmt.Sprintf("killed by the kernel for exceeding its memory limit (exit code %d)", exit.Code)
	case exit.Code > 128:
		return fmt.Sprintf("killed by signal %d (exit code %d) without being asked to stop", exit.Code-128, exit.Code)
	case exit.Code == 0:
		return "exited cleanly (code 0) without being asked to stop"
	default:
		return fmt.Sprintf("exited with code %d without being asked to stop", exit.Code)
	}
}

// detach ends r's console attachment and publishes its last lines.
func (m *Manager) detach(s *server, r *run) {
	s.mu.Lock()
	att := r.att
	r.att, r.finished = nil, true
	s.mu.Unlock()
	if att != nil {
		att.Close()
	}
	r.console.close()
}

// beginStop marks the running process as asked to stop and publishes
// stopping; it returns nil when no process runs.
func (m *Manager) beginStop(s *server) *run {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.run
	if r == nil {
		return nil
	}
	r.asked.Store(true)
	r.awaitingDone.Store(false)
	m.setStateLocked(s, wire.ServerState{State: wire.StateStopping})
	return r
}

// finishStop stops the process (stop command, then signals) and waits
// until its exit has been reported. It reports whether that happened.
func (m *Manager) finishStop(ctx context.Context, s *server, r *run) bool {
	s.mu.Lock()
	cmd, timeout := s.rec.Config.StopCommand, time.Duration(s.rec.Config.StopTimeout)
	s.mu.Unlock()
	if timeout == 0 {
		timeout = defaultStopTimeout
	}
	if err := m.rt.Stop(ctx, s.id, cmd, timeout); err != nil {
		if ctx.Err() != nil {
			return false
		}
		m.log.Error("stop failed", "server", s.id, "error", err)
		if rs, serr := m.rt.State(ctx, s.id); serr == nil && rs == runtime.StateRunning {
			s.mu.Lock()
			if s.run == r {
				r.asked.Store(false)
				m.setStateLocked(s, wire.ServerState{State: wire.StateRunning, Reason: "stop failed: " + err.Error()})
			}
			s.mu.Unlock()
			return false
		}
	}
	select {
	case <-r.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// kill sends SIGKILL and waits until the exit has been reported. It does
// not take the power lock: it is how a stuck stop is ended.
func (m *Manager) kill(ctx context.Context, s *server) error {
	s.mu.Lock()
	r := s.run
	if r != nil {
		r.asked.Store(true)
		r.awaitingDone.Store(false)
	}
	s.mu.Unlock()
	err := m.rt.Kill(ctx, s.id)
	switch {
	case errors.Is(err, runtime.ErrNotRunning) || errors.Is(err, runtime.ErrNotFound):
		if r == nil {
			m.setState(s, s.snapshot())
			return nil
		}
	case err != nil:
		return fmt.Errorf("kill server %s: %w", s.id, err)
	}
	if r != nil {
		select {
		case <-r.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (s *server) snapshot() wire.ServerState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Command writes line to the server's console.
func (m *Manager) Command(ctx context.Context, id, line string) error {
	s, err := m.get(id)
	if err != nil {
		return err
	}
	if strings.ContainsAny(line, "\r\n") {
		return fmt.Errorf("%w: a command is one line", ErrInvalid)
	}
	s.mu.Lock()
	r := s.run
	var att io.Writer
	if r != nil {
		att = r.att
	}
	stopCmd := s.rec.Config.StopCommand
	s.mu.Unlock()
	if att == nil {
		return fmt.Errorf("server %s: %w", id, ErrNotRunning)
	}
	// Someone typing the stop command stops the server: not a crash.
	isStop := stopCmd != "" && stopCmd != "^C" && line == stopCmd
	if isStop {
		r.asked.Store(true)
	}
	if _, err := io.WriteString(att, line+"\n"); err != nil {
		return fmt.Errorf("server %s: %w: %v", id, ErrNotRunning, err)
	}
	if isStop {
		s.mu.Lock()
		if s.run == r {
			r.awaitingDone.Store(false)
			m.setStateLocked(s, wire.ServerState{State: wire.StateStopping})
		}
		s.mu.Unlock()
	}
	return nil
}

// Install records req.Config and runs the installer in the background:
// state installing, then stopped (container created) or install_failed.
func (m *Manager) Install(ctx context.Context, req wire.InstallRequest) error {
	if err := validateConfig(req.Config); err != nil {
		return err
	}
	s := m.getOrAdd(req.Config.ID)
	if !s.tryLock() {
		return busy(s.id)
	}
	locked := true
	defer func() {
		if locked {
			s.unlock()
			m.forgetIfUnconfigured(s)
		}
	}()
	rs, err := m.rt.State(ctx, s.id)
	if err != nil {
		return fmt.Errorf("install server %s: %w", s.id, err)
	}
	if rs == runtime.StateRunning {
		return fmt.Errorf("%w: server %s is running; stop it first", ErrConflict, s.id)
	}
	s.mu.Lock()
	if s.deleted {
		s.mu.Unlock()
		return fmt.Errorf("%w: server %s is being deleted", ErrConflict, s.id)
	}
	rec := record{Config: req.Config, Install: installRunning}
	if err := m.save(rec); err != nil {
		s.mu.Unlock()
		return err
	}
	m.cancelRestartLocked(s, "an install began")
	s.rec, s.dirty = rec, true
	s.gen++
	ictx, cancel := context.WithCancel(m.ctx)
	s.cancelInstall = cancel
	m.setStateLocked(s, wire.ServerState{State: wire.StateInstalling})
	s.mu.Unlock()

	locked = false
	m.wg.Go(func() {
		defer s.unlock()
		defer cancel()
		m.install(ictx, s, req)
		s.mu.Lock()
		s.cancelInstall = nil
		s.mu.Unlock()
	})
	return nil
}

func (m *Manager) install(ctx context.Context, s *server, req wire.InstallRequest) {
	fail := func(reason string) {
		if ctx.Err() != nil {
			// Deleted, or the agent is exiting (Restore reports it then).
			return
		}
		m.log.Warn("install failed", "server", s.id, "reason", reason)
		s.mu.Lock()
		defer s.mu.Unlock()
		rec := s.rec
		rec.Install, rec.InstallReason = installFailed, reason
		if err := m.save(rec); err != nil {
			m.log.Error("record failed install", "server", s.id, "error", err)
		}
		s.rec = rec
		m.setStateLocked(s, wire.ServerState{State: wire.StateInstallFailed, Reason: reason})
	}
	if err := m.rt.Delete(ctx, s.id); err != nil {
		fail("could not remove the old container: " + err.Error())
		return
	}
	if req.Script != "" {
		code, err := m.runInstaller(ctx, s, req)
		if err != nil {
			fail("the installer could not run: " + err.Error())
			return
		}
		if code != 0 {
			fail(fmt.Sprintf("the install script exited with code %d", code))
			return
		}
	}
	s.mu.Lock()
	cfg, gen := s.rec.Config, s.gen
	s.mu.Unlock()
	if err := m.rt.Create(ctx, m.spec(cfg)); err != nil {
		fail("could not create the server's container: " + err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.rec
	rec.Install, rec.InstallReason = "", ""
	if err := m.save(rec); err != nil {
		m.log.Error("record finished install", "server", s.id, "error", err)
	}
	s.rec = rec
	if s.gen == gen {
		s.dirty = false
	}
	m.setStateLocked(s, wire.ServerState{State: wire.StateStopped})
	m.log.Info("install finished", "server", s.id)
}

// runInstaller runs the install script, publishing its output line by line
// and keeping it in the install log.
func (m *Manager) runInstaller(ctx context.Context, s *server, req wire.InstallRequest) (int, error) {
	f, err := os.OpenFile(m.installLog(s.id), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return -1, fmt.Errorf("install log: %w", err)
	}
	defer f.Close()
	split := &lineSplitter{emit: func(line string) {
		m.pub.Publish(wire.EventInstallProgress, wire.InstallProgress{ServerID: s.id, Line: line})
	}}
	out := &installOutput{log: f, split: split}
	image := req.Image
	if image == "" {
		image = req.Config.Image
	}
	interp := req.Entrypoint
	if interp == "" {
		interp = defaultInterpreter
	}
	code, err := m.rt.Install(ctx, runtime.InstallSpec{
		ID:     s.id,
		Image:  image,
		Argv:   []string{interp, runtime.InstallScriptPath},
		Env:    envList(req.Env),
		Script: req.Script,
		Volume: m.volume(s.id),
		Limits: limits(req.Config),
	}, out)
	split.Flush()
	if out.logErr != nil {
		m.log.Warn("install log incomplete", "server", s.id, "error", out.logErr)
	}
	return code, err
}

// installOutput copies installer output to the install log and the line
// splitter; a failing log does not stop the progress events.
type installOutput struct {
	log    io.Writer
	logErr error
	split  *lineSplitter
}

func (o *installOutput) Write(p []byte) (int, error) {
	if o.logErr == nil {
		_, o.logErr = o.log.Write(p)
	}
	return o.split.Write(p)
}

// Hold takes server id's power lock for an operation on its stopped
// volume (a restore, a transfer's archive): no start, install or other
// power action runs until release is called. It fails with ErrConflict
// when the server is running or installing, or busy with another power
// action. path is the server's volume directory.
func (m *Manager) Hold(id string) (path string, release func(), err error) {
	s, err := m.get(id)
	if err != nil {
		return "", nil, err
	}
	if !s.tryLock() {
		return "", nil, busy(id)
	}
	s.mu.Lock()
	m.cancelRestartLocked(s, "its volume is being restored or transferred")
	st, running, deleted, configured := s.state.State, s.run != nil, s.deleted, s.rec.Config.ID != ""
	s.mu.Unlock()
	switch {
	case deleted || !configured:
		s.unlock()
		return "", nil, fmt.Errorf("server %s: %w", id, ErrNotFound)
	case running || st == wire.StateInstalling || st == wire.StateStarting || st == wire.StateRunning || st == wire.StateStopping:
		s.unlock()
		return "", nil, fmt.Errorf("%w: server %s is %s; stop it first", ErrConflict, id, st)
	}
	return m.volume(id), s.unlock, nil
}
