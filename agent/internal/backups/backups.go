// Package backups makes, restores and moves the archives of server
// volumes: backups stream from the volume straight into a backup store
// plugin and back, and a transfer's archive streams to or from the core.
// The core keeps the record of every backup; the agent does the work.
package backups

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/agent/internal/archive"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/wire"
)

// Errors callers branch on (the API maps them to codes).
var (
	// ErrBusy: the server already has a backup, restore or transfer under
	// way.
	ErrBusy = errors.New("busy")
	// ErrNoStore: no backup store of that name runs on this agent.
	ErrNoStore = errors.New("no such backup store")
	// ErrInvalid: a malformed request (a key that is not the server's).
	ErrInvalid = errors.New("invalid request")
	// ErrChecksum: the archive is not the one recorded.
	ErrChecksum = archive.ErrChecksum
	// ErrCorrupt: the archive cannot be read or holds refused entries.
	ErrCorrupt = archive.ErrCorrupt
)

// Stores finds the backup store plugins (*host.Host).
type Stores interface {
	BackupStore(name string) (plugin.BackupStore, error)
}

// Volumes finds server volumes (*servers.Manager).
type Volumes interface {
	// Volume is the volume of a configured server, which may run.
	Volume(id string) (string, wire.ServerConfig, error)
	// Hold keeps a stopped server stopped until release.
	Hold(id string) (path string, release func(), err error)
}

// Publisher sends events to the core without blocking.
type Publisher interface {
	Publish(typ string, data any)
}

// Options tune the archives; see config.Backups.
type Options struct {
	Compression archive.Compression
	Level       int
	Workers     int
	// RateLimit caps the file bytes a backup reads per second (0: none).
	// Transfers are not capped: the server is down while they run.
	RateLimit int64
	// UID and GID own restored files.
	UID, GID int
}

// Service runs backups, restores and transfer archives, one at a time per
// server.
type Service struct {
	stores Stores
	names  []string
	vols   Volumes
	pub    Publisher
	log    hclog.Logger
	opts   Options

	mu   sync.Mutex
	busy map[string]string // server ID → what runs on it
}

// New returns the service; names are the stores Stores offers.
func New(stores Stores, names []string, vols Volumes, pub Publisher, log hclog.Logger, opts Options) *Service {
	if opts.Compression == "" {
		opts.Compression = archive.Zstd
	}
	return &Service{stores: stores, names: names, vols: vols, pub: pub, log: log, opts: opts, busy: map[string]string{}}
}

// Stores names the backup stores.
func (s *Service) Stores() []string { return s.names }

// begin marks server id busy with op until the returned func is called.
func (s *Service) begin(id, op string) (func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.busy[id]; ok {
		return nil, fmt.Errorf("%w: server %s already has a %s under way", ErrBusy, id, cur)
	}
	s.busy[id] = op
	return func() {
		s.mu.Lock()
		delete(s.busy, id)
		s.mu.Unlock()
	}, nil
}

// beginHeld begins op on server id (as begin) and holds the server
// stopped for it; done ends both.
func (s *Service) beginHeld(id, op string) (dir string, done func(), err error) {
	end, err := s.begin(id, op)
	if err != nil {
		return "", nil, err
	}
	dir, release, err := s.vols.Hold(id)
	if err != nil {
		end()
		return "", nil, err
	}
	return dir, func() {
		release()
		end()
	}, nil
}

func (s *Service) store(name string) (plugin.BackupStore, error) {
	for _, n := range s.names {
		if n == name {
			return s.stores.BackupStore(name)
		}
	}
	return nil, fmt.Errorf("%w: %q (this node has %q; declare stores as plugin blocks in agent.hcl)", ErrNoStore, name, s.names)
}

// progress publishes an operation's progress events.
func (s *Service) progress(serverID, backupID, op string) func(archive.Progress) {
	return func(p archive.Progress) {
		s.pub.Publish(wire.EventBackupProgress, wire.BackupProgress{
			ServerID: serverID, BackupID: backupID, Op: op,
			Bytes: p.Bytes, Total: p.Total, Files: p.Files, Written: p.Written,
		})
	}
}

func (s *Service) createOptions(serverID, backupID, op string, ignore []string, rate int64) archive.CreateOptions {
	return archive.CreateOptions{
		Compression: s.opts.Compression,
		Level:       s.opts.Level,
		Workers:     s.opts.Workers,
		RateLimit:   rate,
		Ignore:      ignore,
		Progress:    s.progress(serverID, backupID, op),
	}
}

func result(r archive.Result) wire.ArchiveResult {
	return wire.ArchiveResult{Size: r.Size, SHA256: r.SHA256, Files: r.Files, Bytes: r.Bytes, Compression: string(r.Compression)}
}

// Backup streams server id's volume into the store as a compressed tar:
// no archive is staged on disk. The server may run (files written
// meanwhile may be caught mid-write). If anything fails, or ctx ends, the
// store is left without the object.
func (s *Service) Backup(ctx context.Context, id string, req wire.BackupRequest) (wire.BackupResult, error) {
	if req.BackupID == "" {
		return wire.BackupResult{}, fmt.Errorf("%w: backup_id is empty", ErrInvalid)
	}
	key := wire.BackupKey(id, req.BackupID)
	if err := wire.CheckBackupKey(id, key); err != nil {
		return wire.BackupResult{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	store, err := s.store(req.Store)
	if err != nil {
		return wire.BackupResult{}, err
	}
	dir, _, err := s.vols.Volume(id)
	if err != nil {
		return wire.BackupResult{}, err
	}
	done, err := s.begin(id, "backup")
	if err != nil {
		return wire.BackupResult{}, err
	}
	defer done()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	type created struct {
		res archive.Result
		err error
	}
	ch := make(chan created, 1)
	go func() {
		res, err := archive.Create(ctx, dir, pw, s.createOptions(id, req.BackupID, wire.OpBackup, req.Ignore, s.opts.RateLimit))
		pw.CloseWithError(err) // nil: the store reads EOF
		ch <- created{res, err}
	}()
	meta := map[string]string{"server": id, "backup": req.BackupID, "compression": string(s.opts.Compression)}
	putErr := store.Put(ctx, key, pr, meta)
	// Unblock the archive if the store stopped reading early.
	pr.CloseWithError(fmt.Errorf("the backup store stopped reading: %w", errors.Join(putErr, io.ErrClosedPipe)))
	c := <-ch
	switch {
	case c.err != nil && putErr == nil:
		// A store that returned before the end has an object it should
		// not: remove it.
		if derr := store.Delete(context.WithoutCancel(ctx), key); derr != nil {
			s.log.Error("remove the object of a failed backup", "server", id, "key", key, "error", derr)
		}
		return wire.BackupResult{}, fmt.Errorf("backup of server %s: %w", id, c.err)
	case c.err != nil && !errors.Is(c.err, io.ErrClosedPipe):
		return wire.BackupResult{}, fmt.Errorf("backup of server %s: %w", id, c.err)
	case putErr != nil:
		return wire.BackupResult{}, fmt.Errorf("backup of server %s: store %q: %w", id, req.Store, putErr)
	}
	s.log.Info("backup stored", "server", id, "backup", req.BackupID, "store", req.Store, "size", c.res.Size, "files", c.res.Files)
	return wire.BackupResult{Key: key, ArchiveResult: result(c.res)}, nil
}

// Restore replaces server id's files with a backup's, checking the
// archive's sha256 as it goes; a corrupt archive or any failure leaves the
// volume as it was. The server must be stopped, and stays so meanwhile.
func (s *Service) Restore(ctx context.Context, id string, req wire.RestoreRequest) (wire.ArchiveResult, error) {
	if req.SHA256 == "" {
		return wire.ArchiveResult{}, fmt.Errorf("%w: sha256 is empty: a backup is restored only against its recorded digest", ErrInvalid)
	}
	store, err := s.objectStore(id, req.Store, req.Key)
	if err != nil {
		return wire.ArchiveResult{}, err
	}
	rc, _, err := store.Get(ctx, req.Key)
	if err != nil {
		return wire.ArchiveResult{}, fmt.Errorf("backup %s in store %q: %w", req.Key, req.Store, err)
	}
	defer rc.Close()
	return s.Import(ctx, id, rc, ImportOptions{Verify: archive.ExpectSHA256(req.SHA256), Wipe: req.Wipe, BackupID: backupID(id, req.Key), Op: wire.OpRestore})
}

// backupID is the backup's ID as its key names it (for progress events).
func backupID(serverID, key string) string { return key[len(wire.BackupKeyPrefix(serverID)):] }

// objectStore checks that key is one of server id's objects and finds
// its store.
func (s *Service) objectStore(id, storeName, key string) (plugin.BackupStore, error) {
	if err := wire.CheckBackupKey(id, key); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return s.store(storeName)
}

// Object opens a backup object, for a download.
func (s *Service) Object(ctx context.Context, id, storeName, key string) (io.ReadCloser, plugin.ObjectInfo, error) {
	store, err := s.objectStore(id, storeName, key)
	if err != nil {
		return nil, plugin.ObjectInfo{}, err
	}
	return store.Get(ctx, key)
}

// DeleteObject removes a backup object; a missing one is no error.
func (s *Service) DeleteObject(ctx context.Context, id, storeName, key string) error {
	store, err := s.objectStore(id, storeName, key)
	if err != nil {
		return err
	}
	return store.Delete(ctx, key)
}

// Export writes server id's volume to w as an archive, the source side of
// a transfer. The server must be stopped and stays so meanwhile.
func (s *Service) Export(ctx context.Context, id string, w io.Writer) (wire.ArchiveResult, error) {
	dir, done, err := s.beginHeld(id, "transfer")
	if err != nil {
		return wire.ArchiveResult{}, err
	}
	defer done()
	res, err := archive.Create(ctx, dir, w, s.createOptions(id, "", wire.OpExport, nil, 0))
	if err != nil {
		return wire.ArchiveResult{}, fmt.Errorf("archive of server %s: %w", id, err)
	}
	return result(res), nil
}

// ImportOptions tune Import.
type ImportOptions struct {
	// Verify checks the archive's digest once read (archive.RestoreOptions).
	Verify func(sha256 string) error
	Wipe   bool
	// BackupID and Op label the progress events.
	BackupID string
	Op       string
}

// Import restores the archive read from r into server id's volume: a
// transfer's target, a restore. The server must be configured and
// stopped, and stays so meanwhile.
func (s *Service) Import(ctx context.Context, id string, r io.Reader, opts ImportOptions) (wire.ArchiveResult, error) {
	if opts.Verify == nil {
		return wire.ArchiveResult{}, fmt.Errorf("%w: an archive is restored only against a known sha256", ErrInvalid)
	}
	if opts.Op == "" {
		opts.Op = wire.OpImport
	}
	dir, done, err := s.beginHeld(id, opts.Op)
	if err != nil {
		return wire.ArchiveResult{}, err
	}
	defer done()
	res, err := archive.Restore(ctx, dir, r, archive.RestoreOptions{
		Verify:   opts.Verify,
		Wipe:     opts.Wipe,
		UID:      s.opts.UID,
		GID:      s.opts.GID,
		Progress: s.progress(id, opts.BackupID, opts.Op),
	})
	if err != nil {
		return wire.ArchiveResult{}, fmt.Errorf("restore into server %s: %w", id, err)
	}
	// The volume's own directory belongs to the game's user, as the
	// runtime made it.
	if err := os.Chown(dir, s.opts.UID, s.opts.GID); err != nil {
		return wire.ArchiveResult{}, fmt.Errorf("restore into server %s: %w", id, err)
	}
	s.log.Info("archive restored", "server", id, "op", opts.Op, "backup", opts.BackupID, "size", res.Size, "files", res.Files, "wipe", opts.Wipe)
	return result(res), nil
}
