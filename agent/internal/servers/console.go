package servers

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"
)

// Console batching: lines are published together when this many have
// gathered, when they add up to this many bytes, or this long after the
// first of them, whichever comes first. The byte cap keeps every event
// well under wire.MaxEventBytes.
const (
	batchLines = 100
	batchBytes = 256 << 10
	batchDelay = 50 * time.Millisecond
	// maxLineBytes cuts a line that never ends (a progress bar drawn with
	// \r, binary output) into pieces rather than buffering it forever.
	maxLineBytes = 16 << 10
)

// lineSplitter cuts a byte stream into lines without their line endings.
// It is not safe for concurrent use.
type lineSplitter struct {
	buf  []byte
	emit func(line string)
}

func (l *lineSplitter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			l.buf = append(l.buf, p...)
			for len(l.buf) >= maxLineBytes {
				l.emit(string(l.buf[:maxLineBytes]))
				l.buf = append(l.buf[:0], l.buf[maxLineBytes:]...)
			}
			break
		}
		l.buf = append(l.buf, p[:i]...)
		p = p[i+1:]
		l.emitBuf()
	}
	return n, nil
}

// Flush emits what is left of an unfinished last line.
func (l *lineSplitter) Flush() {
	if len(l.buf) > 0 {
		l.emitBuf()
	}
}

func (l *lineSplitter) emitBuf() {
	line := l.buf
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	for len(line) > maxLineBytes {
		l.emit(string(line[:maxLineBytes]))
		line = line[maxLineBytes:]
	}
	l.emit(string(line))
	l.buf = l.buf[:0]
}

// batcher gathers lines and hands them on in batches (see batchLines).
type batcher struct {
	send func(lines []string)

	mu    sync.Mutex
	lines []string
	bytes int
	timer *time.Timer
}

func (b *batcher) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
	b.bytes += len(line)
	if len(b.lines) >= batchLines || b.bytes >= batchBytes {
		b.flushLocked()
		return
	}
	if b.timer == nil {
		b.timer = time.AfterFunc(batchDelay, b.flush)
	}
}

// flush hands on what has gathered now.
func (b *batcher) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *batcher) flushLocked() {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if len(b.lines) == 0 {
		return
	}
	// send is a non-blocking Publish; calling it under the lock keeps
	// batches in order.
	b.send(b.lines)
	b.lines, b.bytes = nil, 0
}

// console is what a running process's output is written to: it splits it
// into lines, passes each to onLine and publishes them in batches.
type console struct {
	onLine func(line string)

	mu    sync.Mutex
	split lineSplitter
	batch batcher
	last  atomic.Int64 // unix nanoseconds of the last write
}

func newConsole(send func([]string), onLine func(string)) *console {
	c := &console{onLine: onLine, batch: batcher{send: send}}
	c.split.emit = func(line string) {
		c.batch.add(line)
		c.onLine(line)
	}
	c.last.Store(time.Now().UnixNano())
	return c
}

func (c *console) Write(p []byte) (int, error) {
	c.last.Store(time.Now().UnixNano())
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.split.Write(p)
}

// close publishes what is left, an unfinished last line included.
func (c *console) close() {
	c.mu.Lock()
	c.split.Flush()
	c.mu.Unlock()
	c.batch.flush()
}

// settle waits, up to max, until no output has arrived for quiet: after
// the process exited, the last of its output may still be in the pipe.
func (c *console) settle(quiet, max time.Duration) {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		idle := time.Since(time.Unix(0, c.last.Load()))
		if idle >= quiet {
			return
		}
		time.Sleep(quiet - idle)
	}
}

// historyLines is how many console lines a server keeps in memory for
// GET /v1/servers/{id}/logs (a later issue adds the on-disk log).
const historyLines = 1000

// history is a server's recent console lines: a ring that overwrites the
// oldest once full. It survives the process restarting, not the agent.
type history struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

func newHistory(n int) *history { return &history{lines: make([]string, n)} }

func (h *history) add(line string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lines[h.next] = line
	h.next++
	if h.next == len(h.lines) {
		h.next, h.full = 0, true
	}
}

// last returns up to n of the newest lines, oldest first.
func (h *history) last(n int) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	size := h.next
	if h.full {
		size = len(h.lines)
	}
	n = min(max(n, 0), size)
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, h.lines[(h.next-n+i+len(h.lines))%len(h.lines)])
	}
	return out
}
