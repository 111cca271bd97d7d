package backups

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/live"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
)

// Kinds of operation holding a server's slot.
const (
	opBackup   = "backup"
	opRestore  = "restore"
	opDelete   = "delete"   // DeleteAll, while the server is deleted
	opReserved = "reserved" // Reserve
)

// op is the one operation a server may have under way in this process.
type op struct {
	s        *Service
	serverID string
	kind     string
	backupID string
	// holdsStopped: the server may not start while it runs.
	holdsStopped bool
	ctx          context.Context
	cancel       context.CancelCauseFunc
	done         chan struct{}
}

// begin takes srvID's slot for an operation, or fails with ErrBusy (or
// ErrClosed). The caller ends it with end, or hands it to run.
func (s *Service) begin(srvID, kind, backupID string, holdsStopped bool) (*op, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.ops[srvID] != nil {
		return nil, ErrBusy
	}
	ctx, cancel := context.WithCancelCause(s.ctx)
	o := &op{s: s, serverID: srvID, kind: kind, backupID: backupID, holdsStopped: holdsStopped,
		ctx: ctx, cancel: cancel, done: make(chan struct{})}
	s.ops[srvID] = o
	s.wg.Add(1)
	return o, nil
}

// run runs fn with the operation's context, then ends it.
func (o *op) run(fn func(ctx context.Context)) {
	defer o.end()
	fn(o.ctx)
}

// end frees the server's slot.
func (o *op) end() {
	o.cancel(context.Canceled)
	o.s.mu.Lock()
	if o.s.ops[o.serverID] == o {
		delete(o.s.ops, o.serverID)
	}
	o.s.mu.Unlock()
	close(o.done)
	o.s.wg.Done()
}

// errServerDeleted is why an operation of a server being deleted ends.
var errServerDeleted = errors.New("the server is being deleted")

// takeOver abandons srvID's operation, if any, waits for it to end, and
// takes the slot for a deletion.
func (s *Service) takeOver(ctx context.Context, srvID string) (*op, error) {
	for {
		o, err := s.begin(srvID, opDelete, "", true)
		if !errors.Is(err, ErrBusy) {
			return o, err
		}
		s.mu.Lock()
		cur := s.ops[srvID]
		s.mu.Unlock()
		if cur == nil {
			continue
		}
		cur.cancel(errServerDeleted)
		select {
		case <-cur.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Reserve takes the server's slot for an operation of another package (a
// transfer) that must not overlap a backup or a restore: none starts, and
// the server may not be started through the API, until release is called.
// It fails with ErrBusy while one runs.
func (s *Service) Reserve(serverID string) (release func(), err error) {
	o, err := s.begin(serverID, opReserved, "", true)
	if err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(o.end) }, nil
}

// Busy reports whether a backup or a restore of the server runs (or
// another operation reserved it).
func (s *Service) Busy(serverID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ops[serverID] != nil
}

// KeepsStopped reports whether the server may not be started now: a
// restore runs, or a backup that stops the server first (stop_server).
// A backup of a server left running holds nothing.
func (s *Service) KeepsStopped(serverID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ops[serverID]
	return o != nil && o.holdsStopped
}

// restoring reports whether backupID is being restored into serverID.
func (s *Service) restoring(serverID, backupID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ops[serverID]
	return o != nil && o.kind == opRestore && o.backupID == backupID
}

// making reports whether this process is making the backup.
func (s *Service) making(b *store.Backup) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ops[b.ServerID]
	return o != nil && o.kind == opBackup && o.backupID == b.ID
}

// makeBackup runs a backup whose record b is creating, stopping the
// server first and starting it again after when stop_server says so, and
// records how it ended.
func (s *Service) makeBackup(ctx context.Context, serverID string, b *store.Backup) {
	var res wire.BackupResult
	var err error
	restart := false
	if s.opts.StopServer {
		restart, err = s.stopFor(ctx, serverID)
	}
	if err == nil {
		var agent *gateway.Client
		if agent, err = s.agents.Agent(b.NodeID); err == nil {
			res, err = agent.Backup(ctx, serverID, wire.BackupRequest{BackupID: b.ID, Store: b.Store, Ignore: s.opts.Ignore})
		}
	}
	if restart {
		s.startAgain(ctx, serverID)
	}
	s.settle(ctx, b, res, err)
}

// stopFor stops a running server for its backup and waits until it has
// stopped; restart says whether it was asked to stop (and so should start
// again after).
func (s *Service) stopFor(ctx context.Context, serverID string) (restart bool, err error) {
	srv, err := s.store.ServerByID(ctx, serverID)
	if err != nil {
		return false, err
	}
	switch srv.State {
	case store.StateStarting, store.StateRunning:
		if _, err := s.power.Power(ctx, serverID, servers.ActionStop); err != nil {
			return false, fmt.Errorf("stop the server for its backup: %w", err)
		}
		restart = true
	case store.StateStopping:
	default:
		return false, nil
	}
	if err := s.power.WaitStopped(ctx, serverID, s.opts.StopWait); err != nil {
		return restart, fmt.Errorf("stop the server for its backup: %w", err)
	}
	return restart, nil
}

// startAgain starts a server stopped for its backup, even when the backup
// was abandoned: the server is left as it was found.
func (s *Service) startAgain(ctx context.Context, serverID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.CallTimeout)
	defer cancel()
	if _, err := s.power.Power(ctx, serverID, servers.ActionStart); err != nil {
		s.log.Warn("server stopped for its backup was not started again", "server", serverID, "error", err)
	}
}

// settle records a backup's outcome and tells the server's sockets.
func (s *Service) settle(ctx context.Context, b *store.Backup, res wire.BackupResult, err error) {
	if err == nil {
		if kerr := wire.CheckBackupKey(b.ServerID, res.Key); kerr != nil {
			err = fmt.Errorf("the agent stored the backup under a key the core refuses: %w", kerr)
		}
	}
	if err == nil {
		b.Status, b.Error, b.Key = store.BackupCompleted, "", res.Key
		b.Size, b.SHA256, b.Files, b.Bytes, b.Compression = res.Size, res.SHA256, res.Files, res.Bytes, res.Compression
	} else {
		b.Status, b.Error = store.BackupFailed, failure(ctx, "backup", err)
	}
	// The outcome is written even when the operation was abandoned.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.CallTimeout)
	defer cancel()
	switch ferr := s.store.FinishBackup(wctx, b); {
	case errors.Is(ferr, store.ErrNotFound):
		// The record went while the node worked: what it stored has
		// nothing pointing at it.
		s.log.Warn("backup finished after its record was deleted", "server", b.ServerID, "backup", b.ID)
		if err == nil {
			if derr := s.deleteObject(wctx, b); derr != nil {
				s.log.Warn("orphan backup object left in its store", "backup", b.ID, "store", b.Store, "key", b.Key, "error", derr)
			}
		}
		return
	case ferr != nil:
		s.log.Error("record a backup's outcome", "server", b.ServerID, "backup", b.ID, "status", b.Status, "error", ferr)
		return
	}
	if err != nil {
		s.log.Warn("backup failed", "server", b.ServerID, "backup", b.ID, "node", b.NodeID, "error", err)
		s.tell(b.ServerID, live.TypeBackupFailed, outcomeMsg{Backup: ViewOf(b)})
		return
	}
	s.log.Info("backup completed", "server", b.ServerID, "backup", b.ID, "size", b.Size, "files", b.Files)
	s.tell(b.ServerID, live.TypeBackupCompleted, outcomeMsg{Backup: ViewOf(b)})
}

// outcomeMsg is the data of the backup and restore outcome messages.
type outcomeMsg struct {
	Backup View   `json:"backup"`
	Error  string `json:"error,omitempty"`
}

// Outcome is how a backup or a restore ended.
type Outcome struct {
	// Type is live.TypeBackupCompleted, TypeBackupFailed,
	// TypeRestoreCompleted or TypeRestoreFailed.
	Type     string
	ServerID string
	Backup   View
	// Error says why it failed.
	Error string
}

// OnOutcome registers fn to hear how every backup and restore ends. Call
// it before the service is used; fn must not block.
func (s *Service) OnOutcome(fn func(Outcome)) { s.observers = append(s.observers, fn) }

// tell sends an outcome to the server's sockets and the observers.
func (s *Service) tell(serverID, typ string, m outcomeMsg) {
	s.pub.Publish("", serverID, typ, m)
	o := Outcome{Type: typ, ServerID: serverID, Backup: m.Backup, Error: m.Error}
	if o.Error == "" {
		o.Error = m.Backup.Error
	}
	for _, fn := range s.observers {
		fn(o)
	}
}

// restore runs a restore of b into srv and tells the server's sockets how
// it ended.
func (s *Service) restore(ctx context.Context, srv *store.Server, b *store.Backup, wipe bool) {
	var err error
	if b.NodeID == srv.NodeID {
		var agent *gateway.Client
		if agent, err = s.agents.Agent(srv.NodeID); err == nil {
			_, err = agent.RestoreBackup(ctx, srv.ID, wire.RestoreRequest{Store: b.Store, Key: b.Key, SHA256: b.SHA256, Wipe: wipe})
		}
	} else {
		err = s.restoreAcross(ctx, srv, b, wipe)
	}
	if err != nil {
		msg := failure(ctx, "restore", err)
		s.log.Warn("restore failed", "server", srv.ID, "backup", b.ID, "error", err)
		s.tell(srv.ID, live.TypeRestoreFailed, outcomeMsg{Backup: ViewOf(b), Error: msg})
		return
	}
	s.log.Info("restore completed", "server", srv.ID, "backup", b.ID, "wipe", wipe)
	s.tell(srv.ID, live.TypeRestoreCompleted, outcomeMsg{Backup: ViewOf(b)})
}

// restoreAcross streams b's object from the node holding it into the
// server's node, which checks it against the recorded sha256 before
// swapping it in.
func (s *Service) restoreAcross(ctx context.Context, srv *store.Server, b *store.Backup, wipe bool) error {
	src, err := s.agents.Agent(b.NodeID)
	if err != nil {
		return err
	}
	dst, err := s.agents.Agent(srv.NodeID)
	if err != nil {
		return err
	}
	// Ending ctx, or dst failing, closes the object's stream too.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	obj, err := src.BackupObject(ctx, b.ServerID, b.Store, b.Key)
	if err != nil {
		return fmt.Errorf("read the backup from node %s: %w", b.NodeID, err)
	}
	defer obj.Body.Close()
	if _, err := dst.PutArchive(ctx, srv.ID, obj.Body, gateway.PutArchiveOptions{SHA256: b.SHA256, Wipe: wipe}); err != nil {
		return fmt.Errorf("restore the backup from node %s on node %s: %w", b.NodeID, srv.NodeID, err)
	}
	return nil
}

// failure says, for people, why an operation failed.
func failure(ctx context.Context, what string, err error) string {
	var ae *gateway.AgentError
	switch {
	case ctx.Err() != nil:
		return fmt.Sprintf("the %s was abandoned: %v", what, context.Cause(ctx))
	case errors.As(err, &ae):
		return ae.Message
	case errors.Is(err, gateway.ErrRequestBody):
		return fmt.Sprintf("the %s's archive stream broke before its end; nothing was changed", what)
	case errors.Is(err, gateway.ErrUnreachable):
		return fmt.Sprintf("the node's agent stopped answering (it restarted or lost its connection) during the %s", what)
	case errors.Is(err, gateway.ErrNodeOffline):
		return fmt.Sprintf("the node went offline before the %s began", what)
	}
	return err.Error()
}

// staleBackup is why a backup left creating by an agent's restart failed.
const staleBackup = "the node's agent restarted or lost its connection while the backup was being made"

// OnHello fails the backups the node was making that no operation of this
// process runs (the agent or the core restarted, or the tunnel dropped,
// meanwhile), and has the node delete whatever they left, in the
// background: handlers must not block.
func (s *Service) OnHello(ctx context.Context, nodeID string, _ wire.Hello) {
	bs, err := s.store.NodeBackups(ctx, nodeID, store.BackupCreating)
	if err != nil {
		s.log.Error("find backups interrupted on a node", "node", nodeID, "error", err)
		return
	}
	var stale []*store.Backup
	for _, b := range bs {
		if s.making(b) {
			continue
		}
		b.Status, b.Error = store.BackupFailed, staleBackup
		if err := s.store.FinishBackup(ctx, b); err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				s.log.Error("record an interrupted backup as failed", "backup", b.ID, "error", err)
			}
			continue
		}
		s.log.Warn("backup interrupted: marked failed", "server", b.ServerID, "backup", b.ID, "node", nodeID)
		s.tell(b.ServerID, live.TypeBackupFailed, outcomeMsg{Backup: ViewOf(b)})
		stale = append(stale, b)
	}
	if len(stale) == 0 {
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		for _, b := range stale {
			// The agent stores an object only whole, so there should be
			// nothing; this makes sure.
			if err := s.deleteObject(s.ctx, b); err != nil {
				s.log.Warn("could not delete what an interrupted backup left", "backup", b.ID, "node", b.NodeID, "key", b.Key, "error", err)
			}
		}
	}()
}

// OnEvent does nothing: the hub forwards progress reports.
func (s *Service) OnEvent(context.Context, string, wire.Envelope) {}

// OnDisconnect does nothing: a backup running on the node fails when its
// request does, and one this process lost track of is settled by the
// next hello.
func (s *Service) OnDisconnect(string) {}

// Filename is a safe attachment name for b's archive: the server's name
// (letters, digits, '.', '-', '_'), the backup's creation time, and the
// extension of its compression.
func Filename(serverName string, b *store.Backup) string {
	var out []rune
	dash := false
	for _, r := range serverName {
		ok := r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
		switch {
		case ok:
			out, dash = append(out, r), false
		case !dash && len(out) > 0:
			out, dash = append(out, '-'), true
		}
		if len(out) >= 64 {
			break
		}
	}
	name := strings.Trim(string(out), ".-_")
	if name == "" {
		name = "backup"
	}
	return name + "-" + b.CreatedAt.UTC().Format("20060102-150405") + extension(b.Compression)
}

func extension(compression string) string {
	switch compression {
	case "zstd":
		return ".tar.zst"
	case "gzip":
		return ".tar.gz"
	}
	return ".tar"
}

func contentType(compression string) string {
	switch compression {
	case "zstd":
		return "application/zstd"
	case "gzip":
		return "application/gzip"
	}
	return "application/x-tar"
}
