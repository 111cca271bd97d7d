package archive

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
	"golang.org/x/sys/unix"
)

// Sizes of the pipeline's buffers.
const (
	// readChunk is the most read from a file, and the tar stream's
	// buffer before the compressor.
	readChunk = 1 << 20
	// maxIgnoreFile bounds the IgnoreFile read.
	maxIgnoreFile = 1 << 20
	// zstdWindow bounds the back-references of zstd, and with it the
	// encoders' memory: each parallel job is 4 windows, and several are
	// in flight a worker. Measured on a mixed tree, 256 KiB compresses as
	// well as 8 MiB, a tar's files being mostly smaller or incompressible,
	// at a ninth of the memory (about 20 MiB + 8 MiB a worker).
	zstdWindow = 256 << 10
	// gzipBlock is the input of each parallel gzip block (about 10 MiB +
	// 2 MiB a worker).
	gzipBlock = 512 << 10
)

// creator writes one archive.
type creator struct {
	opts   CreateOptions
	clock  clock
	ignore ignoreList
	lim    *limiter
	rep    *reporter
	tw     *tar.Writer
	out    *hashWriter
	buf    []byte
	prog   Progress

	// Test hooks, nil outside tests: beforeDir runs before a directory
	// below the top is opened, beforeCopy once a file is open and its
	// size read.
	beforeDir  func(rel string)
	beforeCopy func(rel string)
}

func newCreator(opts CreateOptions, c clock) *creator {
	return &creator{opts: opts, clock: c}
}

// checkCreateOptions refuses options no compressor takes, before
// anything is written; it fills in the defaults.
func checkCreateOptions(o *CreateOptions) error {
	if o.Compression == "" {
		o.Compression = Zstd
	}
	switch o.Compression {
	case Zstd:
		if o.Level < 0 || o.Level > 22 {
			return fmt.Errorf("zstd level %d: want 1 (fastest) to 22, or 0 for the default", o.Level)
		}
	case Gzip:
		if o.Level < 0 || o.Level > 9 {
			return fmt.Errorf("gzip level %d: want 1 (fastest) to 9, or 0 for the default", o.Level)
		}
	case None:
		if o.Level != 0 {
			return fmt.Errorf("level %d: an uncompressed archive takes no level", o.Level)
		}
	default:
		return fmt.Errorf("unknown compression %q: want %q, %q or %q", o.Compression, Zstd, Gzip, None)
	}
	if o.Workers < 0 {
		return fmt.Errorf("negative workers %d", o.Workers)
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.RateLimit < 0 {
		return fmt.Errorf("negative rate limit %d", o.RateLimit)
	}
	return nil
}

func (c *creator) create(ctx context.Context, dir string, w io.Writer) (Result, error) {
	if err := checkCreateOptions(&c.opts); err != nil {
		return Result{}, err
	}
	top, err := openTop(dir)
	if err != nil {
		return Result{}, err
	}
	defer top.Close()
	if err := c.loadIgnores(top); err != nil {
		return Result{}, err
	}
	if c.opts.Progress != nil {
		// On a descriptor of its own: reading a directory moves its
		// offset, and walk reads the top again.
		again, ok, err := openDir(top, ".")
		if err == nil && !ok {
			err = unix.ENOENT
		}
		if err != nil {
			return Result{}, &os.PathError{Op: "open", Path: dir, Err: err}
		}
		c.prog.Total, err = c.measure(ctx, again, "")
		again.Close()
		if err != nil {
			return Result{}, err
		}
	}
	c.lim = newLimiter(c.clock, c.opts.RateLimit)
	c.rep = newReporter(c.clock, c.opts.Progress)
	c.buf = make([]byte, readChunk)

	c.out = newHashWriter(w)
	comp, err := newCompressor(c.opts, c.out)
	if err != nil {
		return Result{}, err
	}
	bw := bufio.NewWriterSize(comp, readChunk)
	c.tw = tar.NewWriter(bw)

	err = c.walk(ctx, top, "")
	if err == nil {
		err = c.tw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		// Stop the compressor's goroutines without sending w more.
		c.out.abort()
		comp.Close()
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return Result{}, err
	}
	if err := comp.Close(); err != nil {
		return Result{}, err
	}
	c.prog.Written = c.out.n.Load()
	c.rep.report(c.prog)
	return Result{
		Files:       c.prog.Files,
		Bytes:       c.prog.Bytes,
		Size:        c.out.n.Load(),
		SHA256:      hex.EncodeToString(c.out.h.Sum(nil)),
		Compression: c.opts.Compression,
	}, nil
}

// openTop opens the directory to archive. It may be a symlink: the
// agent, not the volume's user, names it.
func openTop(dir string) (*os.File, error) {
	fd, err := ignoringEINTR(func() (int, error) {
		return unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return dirFile(fd), nil
}

// dirFile wraps a directory's descriptor. Its name leads to it through
// /proc: where the filesystem gives no entry types, ReadDir lstats
// name/entry, which must be that directory's entry whatever its path.
func dirFile(fd int) *os.File {
	return os.NewFile(uintptr(fd), "/proc/self/fd/"+strconv.Itoa(fd))
}

// loadIgnores reads the volume's IgnoreFile, then the options' patterns.
func (c *creator) loadIgnores(top *os.File) error {
	fd, err := ignoringEINTR(func() (int, error) {
		return unix.Openat(int(top.Fd()), IgnoreFile, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	})
	switch {
	case errors.Is(err, unix.ENOENT):
	case errors.Is(err, unix.ELOOP):
		return fmt.Errorf("%s is a symlink; it must be a regular file", IgnoreFile)
	case err != nil:
		return &os.PathError{Op: "open", Path: IgnoreFile, Err: err}
	default:
		b, err := readSmallFile(fd, maxIgnoreFile)
		if err != nil {
			return fmt.Errorf("%s: %w", IgnoreFile, err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if err := c.ignore.add(line); err != nil {
				return fmt.Errorf("%s line %d: %w", IgnoreFile, i+1, err)
			}
		}
	}
	for i, p := range c.opts.Ignore {
		if err := c.ignore.add(p); err != nil {
			return fmt.Errorf("ignore pattern %d: %w", i+1, err)
		}
	}
	return nil
}

// readSmallFile reads a regular file of at most limit bytes and closes
// fd.
func readSmallFile(fd, limit int) ([]byte, error) {
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, errors.New("not a regular file")
	}
	if st.Size > int64(limit) {
		return nil, fmt.Errorf("%d bytes, more than the %d allowed", st.Size, limit)
	}
	b := make([]byte, st.Size)
	n, err := readFull(fd, b)
	return b[:n], err
}

// entries lists a directory sorted by name, so an unchanged tree always
// makes the same archive.
func entries(d *os.File) ([]fs.DirEntry, error) {
	es, err := d.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(es, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return es, nil
}

// openDir opens a directory below d, never through a symlink. ok is
// false when name is no longer a directory (the tree changed meanwhile).
func openDir(d *os.File, name string) (f *os.File, ok bool, err error) {
	fd, err := ignoringEINTR(func() (int, error) {
		return unix.Openat(int(d.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	})
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.ELOOP):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return dirFile(fd), true, nil
}

func join(rel, name string) string {
	if rel == "" {
		return name
	}
	return rel + "/" + name
}

// measure sums the sizes of the regular files that walk will archive.
func (c *creator) measure(ctx context.Context, d *os.File, rel string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	es, err := entries(d)
	if err != nil {
		return 0, &os.PathError{Op: "readdir", Path: rel, Err: err}
	}
	var total int64
	for _, e := range es {
		child := join(rel, e.Name())
		switch t := e.Type(); {
		case c.ignore.ignored(child, t.IsDir()):
		case t.IsDir():
			if c.beforeDir != nil {
				c.beforeDir(child)
			}
			sub, ok, err := openDir(d, e.Name())
			if err != nil {
				return 0, &os.PathError{Op: "open", Path: child, Err: err}
			}
			if !ok {
				continue
			}
			n, err := c.measure(ctx, sub, child)
			sub.Close()
			if err != nil {
				return 0, err
			}
			total += n
		case t.IsRegular():
			var st unix.Stat_t
			if err := unix.Fstatat(int(d.Fd()), e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
				total += st.Size
			}
		}
	}
	return total, nil
}

func tarHeader(name string, st *unix.Stat_t) *tar.Header {
	return &tar.Header{
		Name:    name,
		Mode:    int64(st.Mode & 0o777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: time.Unix(st.Mtim.Sec, 0), // whole seconds: no PAX record for every entry
	}
}

// walk archives what directory d (rel below the top) holds.
func (c *creator) walk(ctx context.Context, d *os.File, rel string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(d.Fd()), &st); err != nil {
		return &os.PathError{Op: "stat", Path: rel, Err: err}
	}
	h := tarHeader(rel+"/", &st)
	if rel == "" {
		h.Name = "./"
	}
	h.Typeflag = tar.TypeDir
	if err := c.tw.WriteHeader(h); err != nil {
		return err
	}
	es, err := entries(d)
	if err != nil {
		return &os.PathError{Op: "readdir", Path: rel, Err: err}
	}
	for _, e := range es {
		child := join(rel, e.Name())
		t := e.Type()
		if c.ignore.ignored(child, t.IsDir()) {
			continue
		}
		switch {
		case t.IsDir():
			if c.beforeDir != nil {
				c.beforeDir(child)
			}
			sub, ok, err := openDir(d, e.Name())
			if err != nil {
				return &os.PathError{Op: "open", Path: child, Err: err}
			}
			if !ok {
				continue // replaced meanwhile: never followed
			}
			err = c.walk(ctx, sub, child)
			sub.Close()
			if err != nil {
				return err
			}
		case t.IsRegular():
			if err := c.file(ctx, d, e.Name(), child); err != nil {
				return err
			}
		case t&fs.ModeSymlink != 0:
			if err := c.symlink(d, e.Name(), child); err != nil {
				return err
			}
		}
		// Sockets, devices and FIFOs: nothing a server needs back.
	}
	return nil
}

func (c *creator) symlink(d *os.File, name, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(int(d.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return &os.PathError{Op: "lstat", Path: rel, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return nil // replaced meanwhile
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(int(d.Fd()), name, buf)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL) {
			return nil
		}
		return &os.PathError{Op: "readlink", Path: rel, Err: err}
	}
	h := tarHeader(rel, &st)
	h.Typeflag, h.Linkname = tar.TypeSymlink, string(buf[:n])
	return c.tw.WriteHeader(h)
}

// file archives a regular file with the size it has when opened.
func (c *creator) file(ctx context.Context, d *os.File, name, rel string) error {
	// O_NONBLOCK: should a FIFO have taken the file's place, opening it
	// must not wait for a writer.
	fd, err := ignoringEINTR(func() (int, error) {
		return unix.Openat(int(d.Fd()), name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	})
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ELOOP):
		return nil // gone, or a symlink now: never followed
	case err != nil:
		return &os.PathError{Op: "open", Path: rel, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: rel, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	if c.beforeCopy != nil {
		c.beforeCopy(rel)
	}
	h := tarHeader(rel, &st)
	h.Typeflag, h.Size = tar.TypeReg, st.Size
	if err := c.tw.WriteHeader(h); err != nil {
		return err
	}
	if err := c.copyFile(ctx, fd, rel, st.Size); err != nil {
		return err
	}
	c.prog.Files++
	return nil
}

// copyFile copies exactly size bytes of the file to the archive, zeros
// for what it no longer holds.
func (c *creator) copyFile(ctx context.Context, fd int, rel string, size int64) error {
	ended := false
	for left := size; left > 0; {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := c.buf[:min(left, int64(len(c.buf)))]
		n := 0
		if !ended {
			var err error
			if n, err = readFull(fd, b); err != nil {
				return &os.PathError{Op: "read", Path: rel, Err: err}
			}
			ended = n < len(b)
		}
		clear(b[n:]) // it shrank: zeros for the rest
		if _, err := c.tw.Write(b); err != nil {
			return err
		}
		left -= int64(len(b))
		c.prog.Bytes += int64(len(b))
		if err := c.lim.take(ctx, n); err != nil {
			return err
		}
		if c.rep.due() {
			c.prog.Written = c.out.n.Load()
			c.rep.report(c.prog)
		}
	}
	return nil
}

// readFull reads until b is full or the file ends.
func readFull(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Read(fd, b[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}

func ignoringEINTR(f func() (int, error)) (int, error) {
	for {
		fd, err := f()
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// hashWriter hashes and counts what goes to w. Once aborted it drops
// everything, so a failed archive's compressor can be shut down without
// writing on.
type hashWriter struct {
	w       io.Writer
	h       hash.Hash
	n       atomic.Int64 // read by Progress while a compressor writes
	aborted atomic.Bool
}

func newHashWriter(w io.Writer) *hashWriter { return &hashWriter{w: w, h: sha256.New()} }

func (hw *hashWriter) Write(p []byte) (int, error) {
	if hw.aborted.Load() {
		return len(p), nil
	}
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n.Add(int64(n))
	return n, err
}

func (hw *hashWriter) abort() { hw.aborted.Store(true) }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// newCompressor starts the compression opts asks for, writing to w.
// Both compressors work on bounded blocks in parallel: memory is a few
// MiB a worker whatever the tree.
func newCompressor(opts CreateOptions, w io.Writer) (io.WriteCloser, error) {
	switch opts.Compression {
	case Zstd:
		level := zstd.SpeedDefault
		if opts.Level > 0 {
			level = zstd.EncoderLevelFromZstd(opts.Level)
		}
		return zstd.NewWriter(w,
			zstd.WithEncoderLevel(level),
			zstd.WithEncoderConcurrency(opts.Workers),
			zstd.WithConcurrentBlocks(opts.Workers > 1),
			zstd.WithWindowSize(zstdWindow),
		)
	case Gzip:
		level := pgzip.DefaultCompression
		if opts.Level > 0 {
			level = opts.Level
		}
		zw, err := pgzip.NewWriterLevel(w, level)
		if err != nil {
			return nil, err
		}
		if err := zw.SetConcurrency(gzipBlock, opts.Workers); err != nil {
			return nil, err
		}
		return zw, nil
	}
	return nopCloser{w}, nil
}
