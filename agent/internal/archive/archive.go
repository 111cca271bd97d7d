// Package archive makes and restores the archives of server volumes that
// backups and transfers move: a tar stream, compressed on the fly, hashed
// as it is written, never staged on disk; and its reverse, extracted into a
// staging directory and swapped in only once the whole stream has checked
// out.
package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Compression names a compression of the tar stream.
type Compression string

// Compressions.
const (
	Zstd Compression = "zstd"
	Gzip Compression = "gzip"
	None Compression = "none"
)

// IgnoreFile is the file at a volume's top whose patterns leave files out
// of its backups.
const IgnoreFile = ".catalystignore"

// ErrChecksum is an archive whose sha256 is not the one expected.
var ErrChecksum = errors.New("archive checksum mismatch")

// ErrCorrupt is an archive Restore cannot read (a bad compressed
// stream, a cut-short tar) or that holds an entry it refuses (a name
// leading out, a device, a hard link out of the archive).
var ErrCorrupt = errors.New("corrupt archive")

// Progress is how far an archive has got.
type Progress struct {
	// Files and Bytes count the regular files and file bytes handled.
	Files int64
	Bytes int64
	// Total is the bytes expected in all (0 when unknown).
	Total int64
	// Written is the archive bytes so far (compressed).
	Written int64
}

// Result describes a finished archive.
type Result struct {
	Files int64
	Bytes int64
	// Size and SHA256 (hex) are the archive's, compressed.
	Size        int64
	SHA256      string
	Compression Compression
}

// CreateOptions tune Create; zero fields take the defaults.
type CreateOptions struct {
	// Compression defaults to Zstd.
	Compression Compression
	// Level is the compression level, 0 for the compressor's default.
	Level int
	// Workers is how many goroutines compress, 0 for GOMAXPROCS. Memory
	// grows with them: about 20 MiB and 8 MiB a worker with zstd, 10 MiB
	// and 2 MiB a worker with gzip, whatever the tree.
	Workers int
	// RateLimit caps file bytes read per second; 0 is no cap.
	RateLimit int64
	// Ignore holds patterns of files to leave out, on top of the
	// volume's IgnoreFile.
	Ignore []string
	// Progress is called at most every ProgressEvery and once at the end.
	Progress func(Progress)
}

// Create writes the tree at dir to w as a compressed tar. It does not
// follow symlinks and never leaves dir, even should a directory be
// swapped for a symlink while it works. Directories, regular files and
// symlinks go in (hard links as separate files), with their permission
// bits, owner and mtime (whole seconds); sockets, devices and FIFOs are
// left out, as is what IgnoreFile and opts.Ignore name. Bad options or
// ignore patterns fail before anything is written.
//
// Consistency: the tree may change while Create reads it (a server left
// running). Each file is archived with the size it had when opened:
// bytes appended later are left out, and a file cut shorter meanwhile is
// padded with zeros, so the archive stays valid; but files are read one
// after another, not at one instant, and a file rewritten while read may
// hold parts of both versions. Stop the server first for a consistent
// snapshot.
//
// w is written by one goroutine at a time, not always the caller's, and
// never once Create has returned. When ctx is done Create stops and
// returns ctx.Err(); what it wrote to w so far is no archive.
func Create(ctx context.Context, dir string, w io.Writer, opts CreateOptions) (Result, error) {
	res, err := newCreator(opts, realClock{}).create(ctx, dir, w)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return Result{}, fmt.Errorf("archive: create: %w", err)
	}
	return res, nil
}

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Verify is called with the archive's hex sha256 once the stream has
	// been read to its end, before anything is swapped in; an error
	// abandons the restore. ExpectSHA256 is the usual Verify.
	Verify func(sha256 string) error
	// Wipe makes the restored tree replace dir; without it, files of dir
	// that the archive does not hold are kept.
	Wipe bool
	// UID and GID own every restored file (-1 leaves the agent's).
	UID, GID int
	// Progress is called at most every ProgressEvery and once at the
	// end. Its Total stays 0: a stream's size is not known up front.
	Progress func(Progress)
}

// ExpectSHA256 is a Verify that wants the digest want (hex); it fails
// with ErrChecksum.
func ExpectSHA256(want string) func(string) error {
	return func(got string) error {
		if got != want {
			return fmt.Errorf("%w: the stream's sha256 is %s, not %s", ErrChecksum, got, want)
		}
		return nil
	}
}

// Restore extracts the archive read from r (any Compression, told apart
// by its magic bytes) into a staging directory beside dir, checks it with
// opts.Verify, and swaps it in for dir atomically. dir need not exist. On
// any error dir is as it was and the staging directory is gone.
//
// r is read to its end, past the tar's end, so that the digest covers
// the whole stream. An archive that cannot be read or holds an entry
// Restore refuses fails with ErrCorrupt: names leading out of dir,
// devices and FIFOs, hard links to anything but a file extracted before
// them, entries below a symlink of the archive, more than MaxEntries
// entries. Modes keep their permission bits only (no setuid, setgid or
// sticky bit). When ctx is done Restore returns ctx.Err(); r should
// unblock then too, as request bodies and gRPC streams do.
func Restore(ctx context.Context, dir string, r io.Reader, opts RestoreOptions) (Result, error) {
	res, err := restore(ctx, dir, r, opts, restoreEnv{clock: realClock{}, maxEntries: MaxEntries})
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return Result{}, fmt.Errorf("archive: restore: %w", err)
	}
	return res, nil
}

// Recover tidies the directory that holds volumes after a crash: staging
// directories of restores that never finished are removed, and an old
// tree that a restore had moved aside (on a filesystem without
// RENAME_EXCHANGE) goes back where it was. The agent calls it at start,
// before any restore runs.
func Recover(parent string) error {
	if err := recoverDir(parent); err != nil {
		return fmt.Errorf("archive: recover %s: %w", parent, err)
	}
	return nil
}
