// Package backups orchestrates the backups of server volumes. The archives
// are made, kept and restored by the agents (their backup_store plugins);
// this package keeps the record of each, picks the store, rotates old
// backups out, and runs one backup or restore per server at a time in
// goroutines it owns. Bytes pass through the core only for a download and
// for restoring a backup held on another node than the server's, and then
// they stream.
package backups

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
)

// Errors callers branch on; the API maps them to statuses.
var (
	// ErrBusy is a backup or restore asked for while another of the same
	// server runs.
	ErrBusy = errors.New("a backup or restore of this server is already running; try again when it ends")
	// ErrHeldStopped is a start refused while a restore, or a backup that
	// stopped the server, runs.
	ErrHeldStopped = errors.New("a restore, a backup or a transfer is running and keeps the server stopped until it ends")
	// ErrDisabled is a backup of a server whose limit is 0.
	ErrDisabled = errors.New("backups are turned off for this server (its backup limit is 0)")
	// ErrLimit is a new backup when the server has as many as it may keep
	// and none can be rotated out. *LimitError is ErrLimit.
	ErrLimit = errors.New("backup limit reached")
	// ErrLocked is a locked backup asked to be deleted.
	ErrLocked = errors.New("the backup is locked; unlock it before deleting it")
	// ErrBackupState is an action the backup's status does not allow.
	// *StatusError is ErrBackupState.
	ErrBackupState = errors.New("not allowed in the backup's current status")
	// ErrBadStore is a store the node does not have. *StoreError is
	// ErrBadStore.
	ErrBadStore = errors.New("no such backup store")
	// ErrObjectMismatch is a stored object whose size is not the one
	// recorded: it was changed or damaged in its store.
	ErrObjectMismatch = errors.New("the backup's stored object is not the one recorded")
	// ErrClosed is the service shutting down.
	ErrClosed = errors.New("the core is shutting down")
)

// LimitError says how many backups a server has of how many it may keep.
type LimitError struct {
	Limit, Count int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("the server keeps at most %d backups and has %d, none of which can make room (each is locked or still being made); unlock or delete one first", e.Limit, e.Count)
}

// Is makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// StatusError says which action the backup's status refused.
type StatusError struct {
	Action string
	Status string
}

func (e *StatusError) Error() string {
	if e.Status == store.BackupCreating {
		return fmt.Sprintf("cannot %s the backup: it is still being made", e.Action)
	}
	return fmt.Sprintf("cannot %s the backup: it is %s", e.Action, e.Status)
}

// Is makes errors.Is(err, ErrBackupState) true.
func (e *StatusError) Is(target error) bool { return target == ErrBackupState }

// StoreError names a store a node does not have, and those it has.
type StoreError struct {
	NodeID string
	Store  string
	Stores []string
}

func (e *StoreError) Error() string {
	if len(e.Stores) == 0 {
		return fmt.Sprintf("node %s has no backup stores: declare a backup_store plugin in its agent.hcl", e.NodeID)
	}
	return fmt.Sprintf("node %s has no backup store %q; it has %s", e.NodeID, e.Store, strings.Join(e.Stores, ", "))
}

// Is makes errors.Is(err, ErrBadStore) true.
func (e *StoreError) Is(target error) bool { return target == ErrBadStore }

// Agents finds nodes' agents and what they reported; *gateway.Gateway is
// one.
type Agents interface {
	Agent(nodeID string) (*gateway.Client, error)
	Info(nodeID string) (gateway.Info, bool)
}

// Power runs power actions through the state machine; *servers.Service is
// one.
type Power interface {
	Power(ctx context.Context, id, action string) (*store.Server, error)
	// WaitStopped waits until no process of the server runs.
	WaitStopped(ctx context.Context, id string, within time.Duration) error
}

// Publisher sends live messages to a server's sockets; *live.Hub is one.
type Publisher interface {
	Publish(nodeID, serverID, typ string, data any)
}

// Options tune the service; zero fields take the defaults.
type Options struct {
	// DefaultStore is the store used when a request names none; empty
	// takes the first store the node reports.
	DefaultStore string
	// Limit is how many backups a server keeps unless it says otherwise
	// (nil: config.DefaultBackupLimit); 0 turns backups off.
	Limit *int
	// StopServer stops a running server for its backup and starts it
	// again after.
	StopServer bool
	// Ignore holds patterns left out of every backup.
	Ignore []string
	// StopWait bounds the wait for a server to stop before its backup
	// (5m).
	StopWait time.Duration
	// CallTimeout bounds the agent calls that move no archive: deleting
	// an object, starting a server again (1m).
	CallTimeout time.Duration
}

// OptionsFrom reads the options from the core's backups block; stop is
// the servers' stop timeout, which the wait for a stop allows for.
func OptionsFrom(c *config.Backups, stop time.Duration) Options {
	limit := c.MaxBackups()
	return Options{DefaultStore: c.DefaultStore, Limit: &limit, StopServer: c.StopServer,
		Ignore: slices.Clone(c.Ignore), StopWait: stop + 2*time.Minute}
}

// Service runs backups. Create it with New, tell it of agent hellos (it
// is a gateway.Handler), and Close it on shutdown.
type Service struct {
	store  *store.Store
	agents Agents
	power  Power
	pub    Publisher
	log    hclog.Logger
	opts   Options
	// observers hear every outcome (OnOutcome).
	observers []func(Outcome)

	ctx    context.Context // ends the operations under way; cancelled by Close
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup // operations and clean-ups under way

	mu     sync.Mutex
	closed bool
	ops    map[string]*op // by server ID
}

// New returns the service.
func New(s *store.Store, agents Agents, power Power, pub Publisher, log hclog.Logger, opts Options) *Service {
	if opts.Limit == nil {
		n := config.DefaultBackupLimit
		opts.Limit = &n
	}
	if opts.StopWait <= 0 {
		opts.StopWait = 5 * time.Minute
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = time.Minute
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	return &Service{store: s, agents: agents, power: power, pub: pub, log: log, opts: opts,
		ctx: ctx, cancel: cancel, ops: map[string]*op{}}
}

var (
	_ gateway.Handler = (*Service)(nil)
)

// Close abandons the backups and restores under way (the agents drop
// them when their requests end; each is recorded as failed) and waits for
// them.
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel(ErrClosed)
	s.wg.Wait()
}

// limitOf is how many backups srv keeps.
func (s *Service) limitOf(srv *store.Server) int {
	if srv.BackupLimit != nil {
		return *srv.BackupLimit
	}
	return *s.opts.Limit
}

// NewBackup is what creating a backup takes.
type NewBackup struct {
	// Name is a label for people; empty takes the time.
	Name string
	// Store is one of the node's backup stores; empty takes the default.
	Store string
	// Locked keeps the backup from rotation and deletion.
	Locked bool
}

const maxName = 100

func invalid(field, format string, args ...any) error {
	return &accounts.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// checkName trims a backup name and checks it.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxName || !utf8.ValidString(name) ||
		strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", invalid("name", "must be 1 to %d characters, without control characters", maxName)
	}
	return name, nil
}

// States a server cannot be backed up in: its files are being written by
// an installer or a transfer, or it is out of its users' hands.
var noBackupStates = []string{store.StateInstalling, store.StateTransferring, store.StateSuspended}

// restoreStates are those a restore may start from: nothing runs.
var restoreStates = []string{store.StateStopped, store.StateCrashed, store.StateInstallFailed}

// Create records a new backup of srv (as loaded) and has its node make it
// in the background: the backup is returned while still creating, and a
// live message tells when it is completed or failed. When the server has
// as many backups as it may keep, its oldest unlocked completed one is
// deleted first (object, then record); failed ones are dropped and do not
// count. by is the user asking ("" for none).
func (s *Service) Create(ctx context.Context, srv *store.Server, in NewBackup, by string) (*store.Backup, error) {
	limit := s.limitOf(srv)
	if limit == 0 {
		return nil, ErrDisabled
	}
	name := time.Now().UTC().Format("2006-01-02 15:04:05 UTC")
	if in.Name != "" {
		var err error
		if name, err = checkName(in.Name); err != nil {
			return nil, err
		}
	}
	if slices.Contains(noBackupStates, srv.State) {
		return nil, &servers.StateError{Action: "back up", State: srv.State}
	}
	storeName, err := s.pickStore(srv.NodeID, in.Store)
	if err != nil {
		return nil, err
	}
	id := store.NewID()
	o, err := s.begin(srv.ID, opBackup, id, s.opts.StopServer)
	if err != nil {
		return nil, err
	}
	if err := s.makeRoom(ctx, srv, limit); err != nil {
		o.end()
		return nil, err
	}
	b := &store.Backup{ID: id, ServerID: srv.ID, NodeID: srv.NodeID, Store: storeName,
		// The agent names the object from the ID; the key it answers with
		// replaces this one, which is what a clean-up deletes meanwhile.
		Key:  wire.BackupKey(srv.ID, id),
		Name: name, Status: store.BackupCreating, Locked: in.Locked}
	if by != "" {
		b.CreatedBy = &by
	}
	if err := s.store.CreateBackup(ctx, b); err != nil {
		o.end()
		return nil, err
	}
	s.log.Info("backup started", "server", srv.ID, "backup", b.ID, "node", b.NodeID, "store", b.Store)
	rec := *b
	go o.run(func(ctx context.Context) { s.makeBackup(ctx, srv.ID, &rec) })
	return b, nil
}

// pickStore returns the store a backup on nodeID goes to.
func (s *Service) pickStore(nodeID, want string) (string, error) {
	info, ok := s.agents.Info(nodeID)
	if !ok {
		return "", fmt.Errorf("%w: node %s has no agent connected", gateway.ErrNodeOffline, nodeID)
	}
	if want == "" {
		want = s.opts.DefaultStore
	}
	if want == "" && len(info.BackupStores) > 0 {
		return info.BackupStores[0], nil
	}
	if want == "" || !slices.Contains(info.BackupStores, want) {
		return "", &StoreError{NodeID: nodeID, Store: want, Stores: info.BackupStores}
	}
	return want, nil
}

// makeRoom drops srv's failed backups and rotates out its oldest unlocked
// completed ones until a new one fits its limit. The server's operation
// slot is held, so nothing else changes its backups meanwhile.
func (s *Service) makeRoom(ctx context.Context, srv *store.Server, limit int) error {
	if _, err := s.store.DeleteFailedBackups(ctx, srv.ID); err != nil {
		return fmt.Errorf("drop failed backups: %w", err)
	}
	bs, err := s.store.ListBackups(ctx, srv.ID)
	if err != nil {
		return err
	}
	for len(bs) >= limit {
		// bs is newest first: the oldest candidate is the last.
		i := -1
		for j := len(bs) - 1; j >= 0; j-- {
			if !bs[j].Locked && bs[j].Status == store.BackupCompleted {
				i = j
				break
			}
		}
		if i < 0 {
			return &LimitError{Limit: limit, Count: len(bs)}
		}
		old := bs[i]
		if err := s.deleteObject(ctx, old); err != nil {
			return fmt.Errorf("make room by deleting the oldest backup %q: %w", old.Name, err)
		}
		if err := s.store.DeleteBackup(ctx, old.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		s.log.Info("backup rotated out", "server", srv.ID, "backup", old.ID, "name", old.Name, "limit", limit)
		bs = slices.Delete(bs, i, i+1)
	}
	return nil
}

// deleteObject deletes b's object from the store of the node holding it.
func (s *Service) deleteObject(ctx context.Context, b *store.Backup) error {
	agent, err := s.agents.Agent(b.NodeID)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	if err := agent.DeleteBackupObject(ctx, b.ServerID, b.Store, b.Key); err != nil {
		return fmt.Errorf("delete backup object %s from store %s: %w", b.Key, b.Store, err)
	}
	return nil
}

// Restore restores a completed backup into srv (as loaded), which must be
// stopped, in the background: the backup is returned at once, and a live
// message tells how the restore ended. The server cannot be started until
// then (KeepsStopped). A backup held on another node than the server's
// (the server was transferred) streams from that node to the server's.
func (s *Service) Restore(ctx context.Context, srv *store.Server, backupID string, wipe bool) (*store.Backup, error) {
	b, err := s.store.BackupByID(ctx, srv.ID, backupID)
	if err != nil {
		return nil, err
	}
	if b.Status != store.BackupCompleted {
		return nil, &StatusError{Action: "restore", Status: b.Status}
	}
	if !slices.Contains(restoreStates, srv.State) {
		return nil, &servers.StateError{Action: "restore a backup to", State: srv.State}
	}
	for _, node := range []string{srv.NodeID, b.NodeID} {
		if _, err := s.agents.Agent(node); err != nil {
			return nil, err
		}
	}
	o, err := s.begin(srv.ID, opRestore, b.ID, true)
	if err != nil {
		return nil, err
	}
	// From here on the API lets no start through; one may have begun
	// since srv was loaded.
	cur, err := s.store.ServerByID(ctx, srv.ID)
	if err == nil && !slices.Contains(restoreStates, cur.State) {
		err = &servers.StateError{Action: "restore a backup to", State: cur.State}
	}
	if err != nil {
		o.end()
		return nil, err
	}
	s.log.Info("restore started", "server", srv.ID, "backup", b.ID, "wipe", wipe, "from_node", b.NodeID, "to_node", cur.NodeID)
	rec := *b
	go o.run(func(ctx context.Context) { s.restore(ctx, cur, &rec, wipe) })
	return b, nil
}

// Update is a change to a backup; nil fields stay as they are.
type Update struct {
	Name   *string
	Locked *bool
}

// Update renames, locks or unlocks one of srv's backups.
func (s *Service) Update(ctx context.Context, srv *store.Server, backupID string, u Update) (*store.Backup, error) {
	b, err := s.store.BackupByID(ctx, srv.ID, backupID)
	if err != nil {
		return nil, err
	}
	var cols []string
	if u.Name != nil {
		if b.Name, err = checkName(*u.Name); err != nil {
			return nil, err
		}
		cols = append(cols, "name")
	}
	if u.Locked != nil {
		b.Locked = *u.Locked
		cols = append(cols, "locked")
	}
	if len(cols) == 0 {
		return b, nil
	}
	if err := s.store.UpdateBackup(ctx, b, cols...); err != nil {
		return nil, err
	}
	return b, nil
}

// Delete deletes one of srv's backups: its object from the store of the
// node holding it (which must be online), then its record. Locked backups,
// those still being made and one being restored are refused.
func (s *Service) Delete(ctx context.Context, srv *store.Server, backupID string) (*store.Backup, error) {
	b, err := s.store.BackupByID(ctx, srv.ID, backupID)
	if err != nil {
		return nil, err
	}
	switch {
	case b.Locked:
		return nil, ErrLocked
	case b.Status == store.BackupCreating:
		return nil, &StatusError{Action: "delete", Status: b.Status}
	case s.restoring(srv.ID, b.ID):
		return nil, fmt.Errorf("%w: this backup is being restored", ErrBusy)
	}
	// A failed backup left no object: the agent stores one only whole.
	if b.Status == store.BackupCompleted {
		if err := s.deleteObject(ctx, b); err != nil {
			return nil, err
		}
	}
	if err := s.store.DeleteBackup(ctx, b.ID); err != nil {
		return nil, err
	}
	s.log.Info("backup deleted", "server", srv.ID, "backup", b.ID, "name", b.Name)
	return b, nil
}

// List returns srv's backups, newest first.
func (s *Service) List(ctx context.Context, srv *store.Server) ([]*store.Backup, error) {
	return s.store.ListBackups(ctx, srv.ID)
}

// Get returns one of srv's backups.
func (s *Service) Get(ctx context.Context, srv *store.Server, backupID string) (*store.Backup, error) {
	return s.store.BackupByID(ctx, srv.ID, backupID)
}

// Download is a backup's archive streaming from the node that holds it.
type Download struct {
	Backup *store.Backup
	// Body is the archive; the caller closes it.
	Body io.ReadCloser
	// Size is its length in bytes (the backup's recorded size).
	Size int64
	// Filename is a safe attachment name; ContentType the archive's.
	Filename    string
	ContentType string
}

// Download opens a completed backup's archive.
func (s *Service) Download(ctx context.Context, srv *store.Server, backupID string) (*Download, error) {
	b, err := s.store.BackupByID(ctx, srv.ID, backupID)
	if err != nil {
		return nil, err
	}
	if b.Status != store.BackupCompleted {
		return nil, &StatusError{Action: "download", Status: b.Status}
	}
	agent, err := s.agents.Agent(b.NodeID)
	if err != nil {
		return nil, err
	}
	resp, err := agent.BackupObject(ctx, b.ServerID, b.Store, b.Key)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength != b.Size {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: store %s holds %d bytes under %s, the backup recorded %d", ErrObjectMismatch, b.Store, resp.ContentLength, b.Key, b.Size)
	}
	return &Download{Backup: b, Body: resp.Body, Size: b.Size, Filename: Filename(srv.Name, b), ContentType: contentType(b.Compression)}, nil
}

// DeleteAll deletes every backup of srv, which is about to be deleted: an
// operation under way is abandoned, the objects are deleted as far as
// their nodes answer (failures are logged), then the records.
func (s *Service) DeleteAll(ctx context.Context, srv *store.Server) error {
	o, err := s.takeOver(ctx, srv.ID)
	if err != nil {
		return err
	}
	defer o.end()
	bs, err := s.store.ListBackups(ctx, srv.ID)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b.Status != store.BackupFailed {
			if err := s.deleteObject(ctx, b); err != nil {
				s.log.Warn("backup object of a deleted server left in its store", "server", srv.ID, "backup", b.ID,
					"node", b.NodeID, "store", b.Store, "key", b.Key, "error", err)
			}
		}
		if err := s.store.DeleteBackup(ctx, b.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if len(bs) > 0 {
		s.log.Info("backups of a deleted server deleted", "server", srv.ID, "count", len(bs))
	}
	return nil
}

// View is a backup as users see it.
type View struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	// Error says why a failed backup failed.
	Error string `json:"error"`
	Store string `json:"store"`
	// Size and SHA256 are the archive's (compressed); Files and Bytes
	// count the regular files in it and their bytes.
	Size        int64      `json:"size"`
	SHA256      string     `json:"sha256"`
	Files       int64      `json:"files"`
	Bytes       int64      `json:"bytes"`
	Compression string     `json:"compression"`
	Locked      bool       `json:"locked"`
	CreatedAt   time.Time  `json:"created_at"`
	CompletedAt *time.Time `json:"completed_at"`
}

// ViewOf is b's view.
func ViewOf(b *store.Backup) View {
	return View{ID: b.ID, Name: b.Name, Status: b.Status, Error: b.Error, Store: b.Store, Size: b.Size,
		SHA256: b.SHA256, Files: b.Files, Bytes: b.Bytes, Compression: b.Compression, Locked: b.Locked,
		CreatedAt: b.CreatedAt, CompletedAt: b.CompletedAt}
}
