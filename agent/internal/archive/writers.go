package archive

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Small files are written by a few goroutines while the archive is read
// on: making a file costs the kernel more than its bytes do (an inode,
// a directory entry, owner, mode, times), and those costs overlap across
// CPUs and disk waits. Everything else (checks, directories, links,
// big files) stays in the reading goroutine, in archive order.
const (
	// smallFile is the largest file handed to a writer, read whole into
	// memory first.
	smallFile = 256 << 10
	// writerQueue bounds the files waiting for a writer: with smallFile,
	// a few MiB.
	writerQueue = 16
)

// numWriters is how many goroutines write small files.
func numWriters() int { return max(2, min(runtime.GOMAXPROCS(0), 4)) }

// dirRef is an open directory that queued files still need: the last
// to let go closes it.
type dirRef struct {
	f    *os.File
	refs atomic.Int32
}

func newDirRef(f *os.File) *dirRef {
	d := &dirRef{f: f}
	d.refs.Store(1)
	return d
}

func (d *dirRef) hold() *dirRef { d.refs.Add(1); return d }

func (d *dirRef) release() {
	if d.refs.Add(-1) == 0 {
		d.f.Close()
	}
}

// fileJob is one small file to make.
type fileJob struct {
	dir   *dirRef
	base  string // its name in dir: one element
	name  string // as the archive has it, for errors
	data  []byte
	mode  fs.FileMode
	mtime time.Time
}

// fileWriters runs the writer goroutines of one restore.
type fileWriters struct {
	ctx      context.Context
	uid, gid int
	jobs     chan fileJob
	pending  sync.WaitGroup // queued and unfinished jobs
	running  sync.WaitGroup // the goroutines

	mu  sync.Mutex
	err error // the first job's error
}

func startWriters(ctx context.Context, n, uid, gid int) *fileWriters {
	w := &fileWriters{ctx: ctx, uid: uid, gid: gid, jobs: make(chan fileJob, writerQueue)}
	for range n {
		w.running.Go(w.run)
	}
	return w
}

func (w *fileWriters) run() {
	for j := range w.jobs {
		if w.failed() == nil {
			if err := w.ctx.Err(); err != nil {
				w.fail(err)
			} else if err := writeSmallFile(j, w.uid, w.gid); err != nil {
				w.fail(err)
			}
		}
		j.dir.release()
		w.pending.Done()
	}
}

func (w *fileWriters) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

// failed is the first error a job met, if any.
func (w *fileWriters) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// queue hands a file to the writers; it holds j.dir until written.
func (w *fileWriters) queue(j fileJob) {
	w.pending.Add(1)
	w.jobs <- j
}

// wait waits until every queued file is written, and says how that went.
func (w *fileWriters) wait() error {
	w.pending.Wait()
	return w.failed()
}

// errStopped marks the jobs left when a restore gives up: not written.
var errStopped = errors.New("restore abandoned")

// stop ends the writers once they are done with what they hold; files
// still queued (a restore that failed) are not written.
func (w *fileWriters) stop() {
	w.fail(errStopped)
	close(w.jobs)
	w.running.Wait()
}

func writeSmallFile(j fileJob, uid, gid int) error {
	dfd := int(j.dir.f.Fd())
	open := func() (int, error) {
		return ignoringEINTR(func() (int, error) { return unix.Openat(dfd, j.base, createFlags, 0o600) })
	}
	fd, err := open()
	if err == unix.EEXIST {
		// A file of the name earlier in the archive (never a directory
		// or symlink: those are not queued): replaced, as with tar.
		if err := unix.Unlinkat(dfd, j.base, 0); err != nil {
			return &os.PathError{Op: "unlink", Path: j.name, Err: err}
		}
		fd, err = open()
	}
	if err != nil {
		return &os.PathError{Op: "create", Path: j.name, Err: err}
	}
	if err := writeAll(fd, j.data); err != nil {
		unix.Close(fd)
		return &os.PathError{Op: "write", Path: j.name, Err: err}
	}
	return finishFile(fd, j.name, uid, gid, j.mode, j.mtime)
}

// createFlags make a new file: O_EXCL never opens what is there already,
// a symlink least of all.
const createFlags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC

// finishFile gives a written file its owner, mode and mtime, and closes
// it.
func finishFile(fd int, name string, uid, gid int, mode fs.FileMode, mtime time.Time) error {
	err := func() error {
		if uid >= 0 || gid >= 0 {
			if err := unix.Fchown(fd, uid, gid); err != nil {
				return &os.PathError{Op: "chown", Path: name, Err: err}
			}
		}
		// Perm only: no setuid, setgid or sticky bit comes from an
		// archive.
		if err := unix.Fchmod(fd, uint32(mode.Perm())); err != nil {
			return &os.PathError{Op: "chmod", Path: name, Err: err}
		}
		// Archives hold whole seconds, which utimes keeps.
		tv := unix.NsecToTimeval(mtime.UnixNano())
		if err := unix.Futimes(fd, []unix.Timeval{tv, tv}); err != nil {
			return &os.PathError{Op: "utimes", Path: name, Err: err}
		}
		return nil
	}()
	if cerr := unix.Close(fd); err == nil && cerr != nil {
		err = &os.PathError{Op: "close", Path: name, Err: cerr}
	}
	return err
}
