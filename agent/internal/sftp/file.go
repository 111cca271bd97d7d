package sftp

import (
	"fmt"
	"os"
	"sync"

	"catalyst.dev/agent/internal/files"
)

// file is an open file of a session. pkg/sftp calls ReadAt and WriteAt
// from several workers at once; they go straight to pread/pwrite.
type file struct {
	h   *handler
	f   *os.File
	rel string
	// fresh: the open created or truncated the file, so a failed upload
	// leaves nothing of the user's behind when it is removed.
	fresh bool

	mu sync.Mutex
	// size is the end of the file as far as this handle knows: writes
	// below it need no quota, as they grow nothing.
	size int64
	// quotaErr, once set, fails every later write, so an upload over
	// quota never leaves holes.
	quotaErr error
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.f.ReadAt(p, off)
	f.h.sess.read.Add(int64(n))
	return n, err
}

// WriteAt asks the quota for the bytes it adds past the end of the file,
// then writes. The disk walk measures apparent sizes, so growth is what
// counts, not bytes written: overwriting in place costs nothing.
func (f *file) WriteAt(p []byte, off int64) (int, error) {
	if err := f.reserve(off + int64(len(p))); err != nil {
		return 0, err
	}
	n, err := f.f.WriteAt(p, off)
	f.h.sess.written.Add(int64(n))
	return n, err
}

func (f *file) reserve(end int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.quotaErr != nil {
		return f.quotaErr
	}
	if end <= f.size {
		return nil
	}
	if err := f.h.vol.CheckWrite(uint64(end - f.size)); err != nil {
		f.quotaErr = fmt.Errorf("write %s: %w", files.Display(f.rel), err)
		return f.quotaErr
	}
	f.size = end
	return nil
}

// Close closes the file. A file this handle created or truncated and
// then failed to write for quota is removed: an upload that does not fit
// leaves nothing half-written. A file opened to resume or patch is kept.
func (f *file) Close() error {
	err := f.f.Close()
	f.mu.Lock()
	failed := f.quotaErr != nil
	f.mu.Unlock()
	if failed && f.fresh {
		if rerr := f.h.root.Remove(f.rel); rerr != nil {
			f.h.sess.log.Warn("sftp could not remove an upload that went over quota", "path", files.Display(f.rel), "error", rerr)
		} else {
			f.h.sess.log.Info("sftp upload over quota removed", "path", files.Display(f.rel))
		}
	}
	return err
}
