package servers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"time"

	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
)

// ErrSameNode is a transfer to the node the server is on.
var ErrSameNode = errors.New("the server is already on that node")

// Transfer is a move of a server to another node.
type Transfer struct {
	NodeID string
	// AllocationID is the target node's allocation to become the primary;
	// empty takes the first free one. The server gets as many allocations
	// on the target as it has now.
	AllocationID string
}

// Transfer stages.
const (
	TransferStopping  = "stopping"
	TransferStreaming = "streaming"
	TransferSwitching = "switching"
	TransferStarting  = "starting"
	TransferCompleted = "completed"
	TransferFailed    = "failed"
)

// TransferEvent is how far a transfer has got, for the server's live
// feed.
type TransferEvent struct {
	ServerID string `json:"server_id"`
	From     string `json:"from_node"`
	To       string `json:"to_node"`
	Stage    string `json:"stage"`
	// Bytes is the archive bytes streamed so far.
	Bytes int64 `json:"bytes"`
	// Error says why a failed transfer failed; the server is back on its
	// first node.
	Error string `json:"error,omitempty"`
}

// OnTransfer registers fn to hear every transfer event. Call it before the
// service is used.
func (s *Service) OnTransfer(fn func(TransferEvent)) {
	s.transferObservers = append(s.transferObservers, fn)
}

func (s *Service) transferEvent(e TransferEvent) {
	for _, fn := range s.transferObservers {
		fn(e)
	}
}

// Reserver holds a server against other work on its files (backups and
// restores) for as long as a transfer runs; *backups.Service's Reserve.
type Reserver func(serverID string) (release func(), err error)

// ReserveWith makes transfers hold servers with r. Call it before the
// service is used.
func (s *Service) ReserveWith(r Reserver) { s.reserve = r }

// transferFrom are the states a transfer may begin in; a running server
// is stopped first and started again on its new node.
var transferFrom = []string{store.StateStopped, store.StateCrashed, store.StateStarting, store.StateRunning}

// BeginTransfer checks a move of server id to another node and starts it
// in the background: the server is stopped, its volume streamed from its
// node's agent to the target's through the core and checked against the
// source's sha256, then the server's node and allocations switch in one
// write, it starts again if it ran, and the source copy is deleted. Any
// failure before the switch leaves the server on its node, intact, and
// started again if it ran. Progress goes to OnTransfer's observers.
func (s *Service) BeginTransfer(ctx context.Context, id string, t Transfer) (*store.Server, error) {
	release, ok := s.power.try(id)
	if !ok {
		return nil, ErrBusy
	}
	started := false
	defer func() {
		if !started {
			release()
		}
	}()
	srv, err := s.store.ServerByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(transferFrom, srv.State) {
		return nil, &StateError{Action: "transfer", State: srv.State}
	}
	plan, err := s.planTransfer(ctx, srv, t)
	if err != nil {
		return nil, err
	}
	unreserve := func() {}
	if s.reserve != nil {
		if unreserve, err = s.reserve(id); err != nil {
			return nil, err
		}
	}
	defer func() {
		if !started {
			unreserve()
		}
	}()
	source, err := s.agents.Agent(srv.NodeID)
	if err != nil {
		return nil, fmt.Errorf("source node: %w", err)
	}
	target, err := s.agents.Agent(plan.node.ID)
	if err != nil {
		return nil, fmt.Errorf("target node %s: %w", plan.node.Name, err)
	}
	started = true
	s.bg.Go(func() {
		defer release()
		defer unreserve()
		s.runTransfer(s.bgCtx, srv, plan, source, target)
	})
	s.log.Info("transfer started", "server", id, "from", srv.NodeID, "to", plan.node.ID)
	return srv, nil
}

// transferPlan is where a server goes.
type transferPlan struct {
	node   *store.Node
	allocs []*store.Allocation // free ones of node, primary first
	tmpl   *store.Template
}

// planTransfer checks the target node can take srv and picks its
// allocations.
func (s *Service) planTransfer(ctx context.Context, srv *store.Server, t Transfer) (transferPlan, error) {
	if t.NodeID == srv.NodeID {
		return transferPlan{}, invalid("node_id", "%s", ErrSameNode.Error())
	}
	node, err := s.store.NodeByID(ctx, t.NodeID)
	if err != nil {
		return transferPlan{}, notFoundAs(err, "node_id", "no such node")
	}
	if node.Maintenance {
		return transferPlan{}, fmt.Errorf("%w: %s", ErrNodeMaintenance, node.Name)
	}
	tmpl, err := s.store.TemplateByID(ctx, srv.TemplateID)
	if err != nil {
		return transferPlan{}, err
	}
	s.placeMu.Lock()
	defer s.placeMu.Unlock()
	used, err := s.store.NodeUsage(ctx, node.ID, srv.ID)
	if err != nil {
		return transferPlan{}, err
	}
	if err := checkFits(node, used, srv.MemoryMB, srv.DiskMB); err != nil {
		return transferPlan{}, err
	}
	allocs, err := s.pickAllocations(ctx, node, t.AllocationID, max(len(srv.Allocations), 1))
	if err != nil {
		return transferPlan{}, err
	}
	return transferPlan{node: node, allocs: allocs, tmpl: tmpl}, nil
}

// pickAllocations chooses n free allocations of node, primary (if given)
// first.
func (s *Service) pickAllocations(ctx context.Context, node *store.Node, primary string, n int) ([]*store.Allocation, error) {
	free, err := s.store.FreeAllocations(ctx, node.ID)
	if err != nil {
		return nil, err
	}
	var picked []*store.Allocation
	if primary != "" {
		i := slices.IndexFunc(free, func(a *store.Allocation) bool { return a.ID == primary })
		if i < 0 {
			return nil, invalid("allocation_id", "is not a free allocation of node %s", node.Name)
		}
		picked = append(picked, free[i])
	}
	for _, a := range free {
		if len(picked) == n {
			break
		}
		if a.ID != primary {
			picked = append(picked, a)
		}
	}
	if len(picked) < n {
		return nil, fmt.Errorf("%w: node %s has %d free allocations; the server needs %d", ErrNoAllocation, node.Name, len(free), n)
	}
	return picked, nil
}

// runTransfer carries a planned transfer out; the power lock is held.
func (s *Service) runTransfer(ctx context.Context, srv *store.Server, plan transferPlan, source, target *gateway.Client) {
	log := s.log.With("server", srv.ID, "from", srv.NodeID, "to", plan.node.ID)
	ev := TransferEvent{ServerID: srv.ID, From: srv.NodeID, To: plan.node.ID}
	emit := func(stage string, bytes int64) {
		e := ev
		e.Stage, e.Bytes = stage, bytes
		s.transferEvent(e)
	}
	wasRunning := srv.State == store.StateRunning || srv.State == store.StateStarting
	if wasRunning {
		emit(TransferStopping, 0)
		if err := s.stopAndWait(ctx, source, srv); err != nil {
			s.failTransfer(ctx, srv, target, false, ev, fmt.Errorf("stop the server: %w", err))
			return
		}
	}
	cur, err := s.store.ServerByID(ctx, srv.ID)
	if err == nil {
		err = s.transition(ctx, srv.ID, cur.State, store.Transition{To: store.StateTransferring, From: []string{store.StateStopped, store.StateCrashed},
			Reason: "moving to node " + plan.node.Name})
	}
	if err != nil {
		s.failTransfer(ctx, srv, target, wasRunning, ev, fmt.Errorf("mark the server transferring: %w", err))
		return
	}
	var streamed atomic.Int64
	stop := make(chan struct{})
	go func() { // progress, about once a second
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				emit(TransferStreaming, streamed.Load())
			}
		}
	}()
	res, err := s.streamVolume(ctx, srv, plan, source, target, &streamed)
	close(stop)
	if err != nil {
		s.failTransfer(ctx, srv, target, wasRunning, ev, err)
		return
	}
	emit(TransferSwitching, res.Size)
	s.placeMu.Lock()
	ids := make([]string, len(plan.allocs))
	for i, a := range plan.allocs {
		ids[i] = a.ID
	}
	err = s.store.MoveServer(context.WithoutCancel(ctx), srv.ID, plan.node.ID, ids, store.StateTransferring, store.StateStopped)
	s.placeMu.Unlock()
	if err != nil {
		s.failTransfer(ctx, srv, target, wasRunning, ev, fmt.Errorf("switch the server to node %s: %w", plan.node.Name, err))
		return
	}
	s.notify(Change{ServerID: srv.ID, From: store.StateTransferring, To: store.StateStopped})
	log.Info("transfer switched the server to its new node", "bytes", res.Size, "files", res.Files)
	// The server lives on the target now: what follows cannot undo that.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.AgentTimeout)
	if err := source.DeleteServer(dctx, srv.ID); err != nil {
		log.Warn("the source node kept its copy of the server; it is removed when its agent next connects", "error", err)
	}
	cancel()
	if wasRunning {
		emit(TransferStarting, res.Size)
		moved, err := s.store.ServerByID(ctx, srv.ID)
		if err == nil {
			err = s.startOn(ctx, target, moved)
		}
		if err != nil {
			log.Warn("transferred server did not start on its new node", "error", err)
		}
	}
	emit(TransferCompleted, res.Size)
}

// streamVolume configures the server on the target and pipes the source's
// archive into it; the target checks the digest the source sends after the
// last byte.
func (s *Service) streamVolume(ctx context.Context, srv *store.Server, plan transferPlan, source, target *gateway.Client, streamed *atomic.Int64) (wire.ArchiveResult, error) {
	moved := *srv
	moved.NodeID = plan.node.ID
	moved.Allocations = make([]*store.Allocation, len(plan.allocs))
	for i, a := range plan.allocs {
		c := *a
		c.Primary = i == 0
		moved.Allocations[i] = &c
	}
	if err := s.configureOn(ctx, target, &moved, plan.tmpl); err != nil {
		return wire.ArchiveResult{}, fmt.Errorf("configure the server on node %s: %w", plan.node.Name, err)
	}
	resp, err := source.Archive(ctx, srv.ID)
	if err != nil {
		return wire.ArchiveResult{}, fmt.Errorf("read the server's files from its node: %w", err)
	}
	defer resp.Body.Close()
	body := &countingReader{r: resp.Body, n: streamed}
	res, err := target.PutArchive(ctx, srv.ID, body, gateway.PutArchiveOptions{
		Wipe:    true,
		Trailer: func() string { return resp.Trailer.Get(wire.ArchiveSHA256Trailer) },
	})
	if err != nil {
		return wire.ArchiveResult{}, fmt.Errorf("write the server's files on node %s: %w", plan.node.Name, err)
	}
	if sent := resp.Trailer.Get(wire.ArchiveSHA256Trailer); sent == "" || sent != res.SHA256 {
		return wire.ArchiveResult{}, fmt.Errorf("the archive's sha256 on node %s (%s) is not the source's (%q)", plan.node.Name, res.SHA256, sent)
	}
	return res, nil
}

// failTransfer undoes a transfer that did not switch: the target forgets
// the server (its files there, if any), the server goes back to stopped
// on its node, and starts again if it ran.
func (s *Service) failTransfer(ctx context.Context, srv *store.Server, target *gateway.Client, restart bool, ev TransferEvent, cause error) {
	ctx = context.WithoutCancel(ctx)
	log := s.log.With("server", srv.ID, "from", ev.From, "to", ev.To)
	log.Warn("transfer failed; the server stays on its node", "error", cause)
	dctx, cancel := context.WithTimeout(ctx, s.opts.AgentTimeout)
	if err := target.DeleteServer(dctx, srv.ID); err != nil {
		log.Warn("the target node may keep a partial copy; it is removed when its agent next connects", "error", err)
	}
	cancel()
	reason := "transfer failed: " + cause.Error()
	err := s.transition(ctx, srv.ID, store.StateTransferring, store.Transition{To: store.StateStopped, From: []string{store.StateTransferring}, Reason: reason})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		log.Error("record the failed transfer", "error", err)
	}
	if restart {
		if cur, err := s.store.ServerByID(ctx, srv.ID); err == nil && (cur.State == store.StateStopped || cur.State == store.StateCrashed) {
			if agent, err := s.agents.Agent(cur.NodeID); err != nil {
				log.Warn("the server cannot be started again: its node is offline", "error", err)
			} else if err := s.startAgain(ctx, agent, cur); err != nil {
				log.Warn("the server did not start again after the failed transfer", "error", err)
			}
		}
	}
	ev.Stage, ev.Error = TransferFailed, cause.Error()
	s.transferEvent(ev)
}

// stopAndWait stops a running server and waits until its agent reports
// it stopped (or crashed). The power lock is held.
func (s *Service) stopAndWait(ctx context.Context, agent *gateway.Client, srv *store.Server) error {
	if err := s.transition(ctx, srv.ID, srv.State, store.Transition{To: store.StateStopping, From: []string{srv.State}}); err != nil {
		return err
	}
	if err := s.powerOn(ctx, agent, srv, ActionStop); err != nil {
		s.rollback(ctx, srv.ID, store.StateStopping, srv.State, ActionStop, err)
		return err
	}
	return s.WaitStopped(ctx, srv.ID, s.opts.StopTimeout+2*time.Minute)
}

// startAgain starts a server whose transfer failed. Its node may still be
// letting go of the archive stream the transfer cut (the server is held
// stopped until then), so a busy answer is tried again for a while.
func (s *Service) startAgain(ctx context.Context, agent *gateway.Client, srv *store.Server) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.startOn(ctx, agent, srv)
		var ae *gateway.AgentError
		if err == nil || !errors.As(err, &ae) || ae.Code != wire.CodeConflict || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(500 * time.Millisecond):
		}
		if srv, err = s.store.ServerByID(ctx, srv.ID); err != nil {
			return err
		}
	}
}

// startOn starts a stopped server on agent; the power lock is held.
func (s *Service) startOn(ctx context.Context, agent *gateway.Client, srv *store.Server) error {
	if err := s.transition(ctx, srv.ID, srv.State, store.Transition{To: store.StateStarting, From: []string{srv.State}}); err != nil {
		return err
	}
	if err := s.powerOn(ctx, agent, srv, ActionStart); err != nil {
		s.rollback(ctx, srv.ID, store.StateStarting, srv.State, ActionStart, err)
		return err
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
