package servers

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/wire"
)

// Console batching: the lines of one read from the process's pipe are
// published together, in batches of at most this many lines and bytes. No
// timer holds a line back: at low rates each line leaves at once, under
// load the reads (and so the batches) are big. The byte cap keeps every
// event well under wire.MaxEventBytes.
const (
	batchLines = 100
	batchBytes = 256 << 10
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
		if len(l.buf) > 0 {
			l.buf = append(l.buf, p[:i]...)
			l.emitLine(l.buf)
			l.buf = l.buf[:0]
		} else {
			// The common case, a whole line in p: one copy, into its string.
			l.emitLine(p[:i])
		}
		p = p[i+1:]
	}
	return n, nil
}

// Flush emits what is left of an unfinished last line.
func (l *lineSplitter) Flush() {
	if len(l.buf) > 0 {
		l.emitLine(l.buf)
		l.buf = l.buf[:0]
	}
}

func (l *lineSplitter) emitLine(line []byte) {
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	for len(line) > maxLineBytes {
		l.emit(string(line[:maxLineBytes]))
		line = line[maxLineBytes:]
	}
	l.emit(string(line))
}

// output is where a server's console lines go, across its processes and
// for as long as the agent knows the server: the in-memory history, the
// log file, and (throttled) the live console. Its mutex is taken once per
// read from the process's pipe, not once per line.
type output struct {
	id  string
	pub Publisher
	log hclog.Logger
	// throttle lines per period are published live; throttle <= 0: all.
	throttle int
	period   time.Duration

	mu   sync.Mutex
	hist *history
	file *consoleLog
	// The batch being gathered; expect is how many more lines the current
	// read holds, to size the next batch.
	batch      []string
	batchBytes int
	expect     int
	// The throttle's current period ends at periodEnd; sent lines were
	// published in it and dropped were not. timer publishes the notice of
	// a period that ended with drops when no write comes to do it.
	periodEnd time.Time
	sent      int
	dropped   int
	timer     *time.Timer
	closed    bool
}

func newOutput(id string, pub Publisher, log hclog.Logger, opts Options, file *consoleLog) *output {
	o := &output{
		id:       id,
		pub:      pub,
		log:      log,
		throttle: opts.ThrottleLines,
		period:   opts.ThrottlePeriod,
		hist:     newHistory(opts.HistoryLines),
		file:     file,
	}
	// Refill the history from the log, so that it survives the agent
	// restarting.
	lines, err := file.snapshot().tail(opts.HistoryLines)
	if err != nil {
		log.Warn("could not read the console history back from the log", "server", id, "error", err)
	}
	for _, l := range lines {
		o.hist.add(l)
	}
	return o
}

// beginLocked starts a write of a read holding about lines lines.
func (o *output) beginLocked(now time.Time, lines int) {
	o.expect = lines
	o.file.begin(now)
	if o.throttle <= 0 || now.Before(o.periodEnd) {
		return
	}
	o.noticeLocked()
	o.periodEnd, o.sent = now.Add(o.period), 0
}

// lineLocked takes one line: history, log, and live unless throttled.
func (o *output) lineLocked(line string) {
	o.hist.add(line)
	o.file.writeLine(line)
	if o.throttle > 0 {
		if o.sent >= o.throttle {
			o.dropped++
			if o.dropped == 1 {
				o.armLocked()
			}
			return
		}
		o.sent++
	}
	if o.batch == nil {
		o.batch = make([]string, 0, min(max(o.expect, 1), batchLines))
	}
	o.batch = append(o.batch, line)
	o.batchBytes += len(line)
	o.expect--
	if len(o.batch) >= batchLines || o.batchBytes >= batchBytes {
		o.publishLocked()
	}
}

// publishLocked publishes the lines gathered so far. Publish does not
// block; calling it under the lock keeps batches in order.
func (o *output) publishLocked() {
	if len(o.batch) == 0 {
		return
	}
	o.pub.Publish(wire.EventConsoleOutput, wire.ConsoleOutput{ServerID: o.id, Lines: o.batch})
	o.batch, o.batchBytes = nil, 0
}

// endLocked ends a write: what gathered is published and the log flushed.
func (o *output) endLocked() {
	o.publishLocked()
	o.file.flush()
}

// noticeLocked publishes how many lines the period that ended dropped.
func (o *output) noticeLocked() {
	if o.dropped == 0 {
		return
	}
	o.pub.Publish(wire.EventConsoleThrottled, wire.ConsoleThrottled{ServerID: o.id, Dropped: o.dropped})
	o.dropped = 0
}

// armLocked makes sure the current period's notice goes out when it ends,
// even if the server writes nothing more. One timer per server, made on
// first use; it runs no goroutine while it waits.
func (o *output) armLocked() {
	d := time.Until(o.periodEnd)
	if o.timer == nil {
		o.timer = time.AfterFunc(d, o.periodEnded)
		return
	}
	o.timer.Reset(d)
}

func (o *output) periodEnded() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	if time.Now().Before(o.periodEnd) {
		// Rearmed for a later period since it fired.
		return
	}
	o.noticeLocked()
}

// lines returns up to n of the newest lines, oldest first: from memory
// when it holds enough (or everything there is), otherwise from the log
// files, read without holding up the console.
func (o *output) lines(n int) []string {
	n = min(max(n, 0), wire.MaxLogLines)
	o.mu.Lock()
	if n <= o.hist.len() || !o.hist.full {
		defer o.mu.Unlock()
		return o.hist.last(n)
	}
	snap := o.file.snapshot()
	ring := o.hist.last(n)
	o.mu.Unlock()
	lines, err := snap.tail(n)
	if err != nil {
		o.log.Warn("could not read the console log", "server", o.id, "error", err)
	}
	if len(lines) < len(ring) {
		// The log lost lines (a write failed): memory has more.
		return ring
	}
	return lines
}

// close stops the throttle timer and closes the log file.
func (o *output) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	if o.timer != nil {
		o.timer.Stop()
	}
	o.file.close()
}

// console is what one process's output is written to (its attachment's
// out): it splits it into lines for the server's output and passes each
// to onLine.
type console struct {
	out    *output
	onLine func(line string)
	split  lineSplitter // guarded by out.mu
	last   atomic.Int64 // unix nanoseconds of the last write
}

func newConsole(out *output, onLine func(string)) *console {
	c := &console{out: out, onLine: onLine}
	c.split.emit = func(line string) {
		c.out.lineLocked(line)
		c.onLine(line)
	}
	c.last.Store(time.Now().UnixNano())
	return c
}

// Write takes one read from the process's pipe: its lines are published
// as it returns.
func (c *console) Write(p []byte) (int, error) {
	now := time.Now()
	c.last.Store(now.UnixNano())
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	c.out.beginLocked(now, bytes.Count(p, []byte{'\n'}))
	n, err := c.split.Write(p)
	c.out.endLocked()
	return n, err
}

// close publishes what is left, an unfinished last line included.
func (c *console) close() {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	c.out.beginLocked(time.Now(), 1)
	c.split.Flush()
	c.out.endLocked()
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

// history is a server's recent console lines: a ring that overwrites the
// oldest once full. It is not safe for concurrent use (output.mu guards
// it).
type history struct {
	lines []string
	next  int
	full  bool
}

func newHistory(n int) *history { return &history{lines: make([]string, n)} }

func (h *history) add(line string) {
	h.lines[h.next] = line
	h.next++
	if h.next == len(h.lines) {
		h.next, h.full = 0, true
	}
}

// len is how many lines the history holds.
func (h *history) len() int {
	if h.full {
		return len(h.lines)
	}
	return h.next
}

// last returns up to n of the newest lines, oldest first.
func (h *history) last(n int) []string {
	n = min(max(n, 0), h.len())
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, h.lines[(h.next-n+i+len(h.lines))%len(h.lines)])
	}
	return out
}
