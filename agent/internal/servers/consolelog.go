package servers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
)

// A failing console log is retried this long after a failure, and its
// errors are logged at most once per logErrorEvery: the console goes on
// without it meanwhile.
const (
	logRetryAfter = 10 * time.Second
	logErrorEvery = time.Minute
)

// consoleLog is a server's console log on disk, one line per console line:
// <data_dir>/logs/<id>.log, renamed .log.1 (older ones shifting to .2 …)
// once it reaches maxBytes, files files in all. Writes are buffered and
// flushed at the end of each read from the process; they never fail the
// console. Page-cache writes do not stall it in practice, so they happen
// in line rather than through a goroutine per server.
//
// It is not safe for concurrent use (output.mu guards it).
type consoleLog struct {
	path     string
	maxBytes int64
	files    int
	log      hclog.Logger

	f      *os.File
	w      *bufio.Writer
	size   int64
	closed bool
	// After a failure the file is closed and reopened at retryAt; errors
	// are logged at most once per logErrorEvery (lastLogged).
	retryAt    time.Time
	lastLogged time.Time
	suppressed int
}

func newConsoleLog(path string, maxBytes int64, files int, log hclog.Logger) *consoleLog {
	return &consoleLog{path: path, maxBytes: maxBytes, files: files, log: log}
}

// name is the path of file i: 0 the current one, 1 the one before, …
func (l *consoleLog) name(i int) string {
	if i == 0 {
		return l.path
	}
	return fmt.Sprintf("%s.%d", l.path, i)
}

// begin opens the file if it is not open (first write, or retrying after
// a failure).
func (l *consoleLog) begin(now time.Time) {
	if l.f != nil || l.closed || now.Before(l.retryAt) {
		return
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		l.fail(now, err)
		return
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		l.fail(now, err)
		return
	}
	l.f, l.size = f, st.Size()
	if l.w == nil {
		l.w = bufio.NewWriterSize(f, 64<<10)
	}
	l.w.Reset(f)
}

func (l *consoleLog) writeLine(line string) {
	if l.f == nil {
		return
	}
	// bufio's errors stick; flush reports them.
	l.w.WriteString(line)
	l.w.WriteByte('\n')
	l.size += int64(len(line)) + 1
	if l.size >= l.maxBytes {
		l.rotate()
	}
}

// flush writes out what is buffered.
func (l *consoleLog) flush() {
	if l.f == nil {
		return
	}
	if err := l.w.Flush(); err != nil {
		l.fail(time.Now(), err)
	}
}

// rotate starts a new file, shifting the old ones up and dropping the
// oldest.
func (l *consoleLog) rotate() {
	l.flush()
	if l.f == nil {
		return
	}
	l.f.Close()
	l.f = nil
	var err error
	for i := l.files - 1; i >= 1 && err == nil; i-- {
		if rerr := os.Rename(l.name(i-1), l.name(i)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = rerr
		}
	}
	if l.files == 1 {
		err = os.Remove(l.path)
	}
	if err != nil {
		l.fail(time.Now(), fmt.Errorf("rotate: %w", err))
		return
	}
	l.begin(time.Now())
}

// fail closes the file after an error and logs it, rate-limited.
func (l *consoleLog) fail(now time.Time, err error) {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	l.retryAt = now.Add(logRetryAfter)
	if now.Sub(l.lastLogged) < logErrorEvery {
		l.suppressed++
		return
	}
	l.log.Error("console log failed; the console goes on without it for now", "file", l.path, "error", err,
		"errors_not_logged", l.suppressed)
	l.lastLogged, l.suppressed = now, 0
}

func (l *consoleLog) close() {
	l.flush()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	l.closed = true
}

// snapshot opens the log's files, newest first, as they are now: their
// contents up to the noted sizes stay readable however the files are
// rotated afterwards.
func (l *consoleLog) snapshot() logSnapshot {
	var snap logSnapshot
	for i := range l.files {
		f, err := os.Open(l.name(i))
		if err != nil {
			// Missing: not written yet, or a rotation failed half-way.
			continue
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			continue
		}
		snap = append(snap, logPart{f, st.Size()})
	}
	return snap
}

// removeLogs removes a server's console log files, those of an older
// log_files setting included.
func removeLogs(path string) error {
	more, err := filepath.Glob(path + ".*")
	if err != nil {
		return err
	}
	for _, p := range append([]string{path}, more...) {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

type logPart struct {
	f    *os.File
	size int64
}

// logSnapshot is a console log's files, newest first.
type logSnapshot []logPart

// tail returns up to n of the newest lines, oldest first, and closes the
// files.
func (s logSnapshot) tail(n int) ([]string, error) {
	defer func() {
		for _, p := range s {
			p.f.Close()
		}
	}()
	var out []string
	for _, p := range s {
		if len(out) >= n {
			break
		}
		lines, err := tailLines(p.f, p.size, n-len(out))
		if err != nil {
			return out, fmt.Errorf("read %s: %w", p.f.Name(), err)
		}
		out = append(lines, out...)
	}
	return out, nil
}

// tailLines returns up to n of the last lines of the first size bytes of
// r, oldest first. It reads backwards in chunks and stops once it has n
// whole lines, so that memory stays bounded by what it returns.
func tailLines(r io.ReaderAt, size int64, n int) ([]string, error) {
	if n <= 0 || size <= 0 {
		return nil, nil
	}
	const chunk = 64 << 10
	var chunks [][]byte // newest first
	newlines, pos := 0, size
	// A final newline ends the last line rather than starting another.
	trailing := 0
	for pos > 0 {
		start := max(pos-chunk, 0)
		b := make([]byte, pos-start)
		if _, err := r.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if pos == size && b[len(b)-1] == '\n' {
			trailing = 1
		}
		chunks = append(chunks, b)
		newlines += bytes.Count(b, []byte{'\n'})
		pos = start
		// n line ends (the final one aside) after pos: n whole lines.
		if newlines-trailing >= n {
			break
		}
	}
	data := make([]byte, 0, size-pos)
	for i := len(chunks) - 1; i >= 0; i-- {
		data = append(data, chunks[i]...)
	}
	data = data[:len(data)-trailing]
	parts := bytes.Split(data, []byte{'\n'})
	if pos > 0 {
		parts = parts[1:] // cut at the chunk boundary: not a whole line
	}
	parts = parts[max(len(parts)-n, 0):]
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out, nil
}
