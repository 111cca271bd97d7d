package servers

import (
	"context"
	"fmt"
	"time"

	"catalyst.dev/agent/internal/runtime"
	"catalyst.dev/sdk/wire"
)

// pendingRestart is a restart waiting out its backoff.
type pendingRestart struct {
	cancel context.CancelFunc
}

// applyRestartPolicyLocked decides what follows a process exit nobody
// asked for (crash: it counts as one), once its state has been published:
// nothing, a restart after a backoff, or, past the policy's limit, a crash
// loop. s.mu is held.
//
// The restarts counted against the window are kept in memory only, so an
// agent restart starts every window afresh; that errs towards restarting.
func (m *Manager) applyRestartPolicyLocked(s *server, exit runtime.ExitState, crash bool, now time.Time) {
	p := s.rec.Config.Restart.WithDefaults()
	if s.deleted || p.Mode == wire.RestartNever || (p.Mode == wire.RestartOnCrash && !crash) {
		return
	}
	window := time.Duration(p.Window)
	kept := s.restarts[:0]
	for _, t := range s.restarts {
		if now.Sub(t) < window {
			kept = append(kept, t)
		}
	}
	s.restarts = kept
	verb := "exited"
	if crash {
		verb = "crashed"
	}

	if len(s.restarts) >= p.MaxRestarts {
		st := s.state
		st.State, st.CrashLoop = wire.StateCrashed, true
		st.Reason = fmt.Sprintf("%s %d times within %v; the restart policy gives up", verb, len(s.restarts)+1, window)
		m.setStateLocked(s, st)
		m.Message(s.id, wire.LevelError, fmt.Sprintf("The server %s; it stays down until started by hand.", st.Reason))
		m.log.Warn("server is crash-looping; not restarting it", "server", s.id, "exits", len(s.restarts)+1, "window", window)
		return
	}

	s.restarts = append(s.restarts, now)
	k := len(s.restarts)
	delay := time.Duration(p.Backoff)
	for i := 1; i < k && delay < time.Duration(p.MaxBackoff); i++ {
		delay *= 2
	}
	delay = min(delay, time.Duration(p.MaxBackoff))
	m.Message(s.id, wire.LevelWarning, fmt.Sprintf("The server %s; restarting in %v (restart %d of %d within %v).",
		exitPhrase(exit), delay, k, p.MaxRestarts, window))
	m.log.Info("restarting server after an unasked exit", "server", s.id, "code", exit.Code, "oom", exit.OOMKilled, "in", delay, "restart", k)

	m.cancelRestartLocked(s, "")
	ctx, cancel := context.WithCancel(m.ctx)
	pr := &pendingRestart{cancel: cancel}
	s.restart = pr
	m.wg.Go(func() {
		defer cancel()
		m.restartAfter(ctx, s, pr, delay)
	})
}

// restartAfter waits delay, then starts the server through the normal
// start path, unless the restart was cancelled meanwhile or the server is
// busy with something else.
func (m *Manager) restartAfter(ctx context.Context, s *server, pr *pendingRestart, delay time.Duration) {
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	locked := s.tryLock()
	s.mu.Lock()
	current := s.restart == pr && ctx.Err() == nil && !s.deleted
	if s.restart == pr {
		s.restart = nil
	}
	s.mu.Unlock()
	if !locked {
		if current {
			m.log.Warn("pending restart abandoned: the server is busy with another power action", "server", s.id)
			m.Message(s.id, wire.LevelWarning, "The restart was abandoned: the server is busy with another power action.")
		}
		return
	}
	defer s.unlock()
	if !current {
		return
	}
	if err := m.start(m.ctx, s); err != nil {
		if m.ctx.Err() != nil {
			return
		}
		m.log.Error("restart after a crash failed", "server", s.id, "error", err)
		reason := "the restart after a crash failed: " + err.Error()
		m.setState(s, wire.ServerState{State: wire.StateCrashed, Reason: reason})
		m.Message(s.id, wire.LevelError, "The "+reason)
	}
}

// cancelRestartLocked cancels the pending restart, if any, telling the
// server's viewers why unless why is empty. s.mu is held.
func (m *Manager) cancelRestartLocked(s *server, why string) {
	if s.restart == nil {
		return
	}
	s.restart.cancel()
	s.restart = nil
	if why != "" {
		m.Message(s.id, wire.LevelInfo, "The pending restart was cancelled: "+why+".")
	}
}

// exitPhrase says how a process ended, for a sentence about it.
func exitPhrase(exit runtime.ExitState) string {
	switch {
	case exit.OOMKilled:
		return "was killed for exceeding its memory limit"
	case exit.Code > 128:
		return fmt.Sprintf("was killed by signal %d", exit.Code-128)
	case exit.Code == 0:
		return "exited with code 0"
	default:
		return fmt.Sprintf("crashed with exit code %d", exit.Code)
	}
}
