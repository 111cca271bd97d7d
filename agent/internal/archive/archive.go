// Package archive makes and restores the archives of server volumes that
// backups and transfers move: a tar stream, compressed on the fly, hashed
// as it is written, never staged on disk; and its reverse, extracted into a
// staging directory and swapped in only once the whole stream has checked
// out.
package archive

import (
	"context"
	"errors"
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
	// Workers is how many goroutines compress, 0 for GOMAXPROCS.
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
// follow symlinks and never leaves dir.
func Create(ctx context.Context, dir string, w io.Writer, opts CreateOptions) (Result, error) {
	return Result{}, errors.New("archive: not implemented")
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
	// UID and GID own every restored file.
	UID, GID int
	// Progress is called at most every ProgressEvery and once at the end.
	Progress func(Progress)
}

// ExpectSHA256 is a Verify that wants the digest want (hex).
func ExpectSHA256(want string) func(string) error {
	return func(got string) error {
		if got != want {
			return ErrChecksum
		}
		return nil
	}
}

// Restore extracts the archive read from r (any Compression, told apart
// by its magic bytes) into a staging directory beside dir, checks it with
// opts.Verify, and swaps it in for dir atomically. dir need not exist. On
// any error dir is as it was and the staging directory is gone.
func Restore(ctx context.Context, dir string, r io.Reader, opts RestoreOptions) (Result, error) {
	return Result{}, errors.New("archive: not implemented")
}

// Recover tidies the directory that holds volumes after a crash: staging
// directories of restores that never finished are removed. The agent calls
// it at start.
func Recover(parent string) error { return nil }
