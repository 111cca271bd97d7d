package servers

import (
	"context"
	"errors"

	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
)

var _ gateway.Handler = (*Service)(nil)

// OnHello reconciles the node's servers with what its agent reports (see
// reconcile), sends installs the node never received, and gives the agent
// the config of servers it has lost.
func (s *Service) OnHello(ctx context.Context, nodeID string, h wire.Hello) {
	log := s.log.With("node", nodeID)
	srvs, err := s.store.ListServers(ctx, store.ServerFilter{NodeID: nodeID})
	if err != nil {
		log.Error("reconcile: list servers", "error", err)
		return
	}
	agent, err := s.agents.Agent(nodeID)
	if err != nil {
		log.Warn("reconcile: agent gone before reconciling", "error", err)
		return
	}
	reported := make(map[string]wire.ServerState, len(h.Servers))
	for _, st := range h.Servers {
		reported[st.ServerID] = st
	}
	templates := map[string]*store.Template{}
	for _, srv := range srvs {
		st, known := reported[srv.ID]
		delete(reported, srv.ID)
		if srv.State == store.StateTransferring {
			s.endInterruptedTransfer(ctx, srv)
		}
		if to, _, install := reconcile(srv.State, st, known); to == srv.State && known && !install {
			continue // nothing to do, so no lock to take
		}
		release, ok := s.power.try(srv.ID)
		if !ok {
			// A user action is under way and will settle the state.
			continue
		}
		s.reconcileOne(ctx, agent, srv, st, known, templates)
		release()
	}
	for id, st := range reported {
		s.removeLeftover(ctx, agent, nodeID, id, st)
	}
}

// endInterruptedTransfer puts back a server left transferring by a core
// that stopped midway: it never switched nodes, so its files are whole on
// the node it is on. A transfer that still runs holds the power lock, and
// is left alone.
func (s *Service) endInterruptedTransfer(ctx context.Context, srv *store.Server) {
	release, ok := s.power.try(srv.ID)
	if !ok {
		return
	}
	defer release()
	err := s.transition(ctx, srv.ID, srv.State, store.Transition{To: store.StateStopped, From: []string{store.StateTransferring},
		Reason: "a transfer was interrupted (the core stopped); the server stayed on this node"})
	if err != nil {
		s.log.Error("end an interrupted transfer", "server", srv.ID, "error", err)
		return
	}
	srv.State = store.StateStopped
}

// removeLeftover deletes, on the reporting node, a server the core has
// placed on another node: the copy a transfer left behind when the source
// could not be reached to delete it. Servers the core does not know are
// left alone (the database is the source of truth, but a node's files are
// not deleted on an absence alone), and so is one whose lock is held: a
// transfer to this node that is still under way.
func (s *Service) removeLeftover(ctx context.Context, agent *gateway.Client, nodeID, id string, st wire.ServerState) {
	log := s.log.With("node", nodeID, "server", id)
	srv, err := s.store.ServerByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		log.Warn("agent reports a server the core does not have; leaving it alone", "state", st.State)
		return
	}
	if err != nil || srv.NodeID == nodeID || s.power.busy(id) {
		return
	}
	log.Info("removing the copy a transfer left on this node", "server_node", srv.NodeID)
	dctx, cancel := context.WithTimeout(ctx, s.opts.AgentTimeout)
	defer cancel()
	if err := agent.DeleteServer(dctx, id); err != nil {
		log.Warn("remove a transferred server's old copy", "error", err)
	}
}

func (s *Service) reconcileOne(ctx context.Context, agent *gateway.Client, srv *store.Server, st wire.ServerState, known bool, templates map[string]*store.Template) {
	log := s.log.With("server", srv.ID, "node", srv.NodeID)
	to, reason, install := reconcile(srv.State, st, known)
	if to != srv.State {
		err := s.transition(ctx, srv.ID, srv.State, store.Transition{
			To: to, Reason: reason, From: []string{srv.State}, CountCrash: to == store.StateCrashed,
		})
		if err != nil {
			log.Warn("reconcile: state not changed", "from", srv.State, "to", to, "error", err)
			return
		}
		log.Info("reconciled with the agent", "from", srv.State, "to", to, "reason", reason)
	}
	if known && !install {
		return
	}
	tmpl, ok := templates[srv.TemplateID]
	if !ok {
		var err error
		if tmpl, err = s.store.TemplateByID(ctx, srv.TemplateID); err != nil {
			log.Error("reconcile: load template", "error", err)
			return
		}
		templates[srv.TemplateID] = tmpl
	}
	if install {
		log.Info("sending the install the node has not run")
		if err := s.install(ctx, agent, srv, tmpl); err != nil {
			log.Warn("install not started", "error", err)
		}
		return
	}
	// The agent lost this server: give it the config back so it can start.
	if err := s.configureOn(ctx, agent, srv, tmpl); err != nil {
		log.Warn("reconcile: config not pushed", "error", err)
	}
}

// OnEvent applies an agent's state reports; other events are not the
// state machine's business.
func (s *Service) OnEvent(ctx context.Context, nodeID string, e wire.Envelope) {
	switch e.Type {
	case wire.EventServerState:
		var st wire.ServerState
		if err := e.Decode(&st); err != nil {
			s.log.Warn("unreadable state report", "node", nodeID, "error", err)
			return
		}
		s.applyReport(ctx, nodeID, st)
	case wire.EventInstallProgress:
		if s.log.IsTrace() {
			var p wire.InstallProgress
			if e.Decode(&p) == nil {
				s.log.Trace("install", "node", nodeID, "server", p.ServerID, "line", p.Line)
			}
		}
	}
}

// applyReport moves a server to the state its agent reports, when the
// machine allows it, recording how an exited process ended. A report can
// race a user's transition, so a lost compare-and-set is retried once on
// the fresh state.
func (s *Service) applyReport(ctx context.Context, nodeID string, st wire.ServerState) {
	log := s.log.With("node", nodeID, "server", st.ServerID, "reported", st.State)
	to, reason := st.State, st.Reason
	var exit *store.Exit
	if to == store.StateStopped || to == store.StateCrashed {
		if s.takeKilled(st.ServerID) {
			to, reason = store.StateStopped, "killed"
		} else if to == store.StateCrashed {
			reason = exitReason(st)
		}
		if st.ExitCode != nil {
			exit = &store.Exit{Code: st.ExitCode, OOMKilled: st.OOMKilled}
		}
	}
	crashLoop := st.CrashLoop && to == store.StateCrashed
	for attempt := 0; attempt < 2; attempt++ {
		srv, err := s.store.ServerByID(ctx, st.ServerID)
		if errors.Is(err, store.ErrNotFound) {
			log.Warn("state report for an unknown server ignored")
			return
		}
		if err != nil {
			log.Error("state report: load server", "error", err)
			return
		}
		if srv.NodeID != nodeID {
			log.Warn("state report for a server on another node ignored", "server_node", srv.NodeID)
			return
		}
		t := store.Transition{To: to, Reason: reason, From: []string{srv.State}, Exit: exit}
		switch {
		case srv.State == to && crashLoop:
			// The crash itself was recorded; now the policy gave up on it.
		case srv.State == to:
			return
		case !AgentMayReport(srv.State, to):
			log.Warn("state report not allowed by the state machine; ignored", "state", srv.State)
			return
		default:
			t.CountCrash = to == store.StateCrashed
		}
		err = s.store.TransitionServer(ctx, srv.ID, t)
		if err == nil {
			log.Debug("server state", "from", srv.State, "to", to)
			if crashLoop {
				log.Warn("server is crash-looping; its restart policy gave up", "reason", reason)
			}
			s.notify(Change{ServerID: srv.ID, From: srv.State, To: to, Reason: reason, Exit: exit, CrashLoop: crashLoop})
			return
		}
		if !errors.Is(err, store.ErrNotFound) {
			log.Error("state report: record", "error", err)
			return
		}
	}
	log.Warn("state report lost a race twice; ignored")
}

// OnDisconnect notes that a node went away. Its servers keep their last
// known states; the agent re-reports them when it reconnects.
func (s *Service) OnDisconnect(nodeID string) {
	s.log.Info("node offline", "node", nodeID)
}
