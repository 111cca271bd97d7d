package servers

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/wire"
)

// events is a Publisher that keeps console events in order.
type events struct {
	mu  sync.Mutex
	all []any
}

func (e *events) Publish(typ string, data any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, data)
}

func (e *events) snapshot() []any {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.all)
}

// batches returns the console output events' line batches.
func (e *events) batches() [][]string {
	var out [][]string
	for _, ev := range e.snapshot() {
		if co, ok := ev.(wire.ConsoleOutput); ok {
			out = append(out, co.Lines)
		}
	}
	return out
}

func newTestOutput(t *testing.T, dir string, opts Options) (*output, *events) {
	t.Helper()
	opts = opts.withDefaults()
	pub := &events{}
	log := hclog.NewNullLogger()
	file := newConsoleLog(filepath.Join(dir, "srv.log"), opts.LogMaxBytes, opts.LogFiles, log)
	o := newOutput("srv", pub, log, opts, file)
	t.Cleanup(o.close)
	return o, pub
}

func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func numberedLines(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, "line "+strconv.Itoa(i))
	}
	return out
}

func TestConsolePublishesEachReadAsItEnds(t *testing.T) {
	o, pub := newTestOutput(t, t.TempDir(), Options{ThrottleLines: -1})
	c := newConsole(o, func(string) {})
	c.Write([]byte("a\nb\npartial"))
	if got := pub.batches(); len(got) != 1 || !slices.Equal(got[0], []string{"a", "b"}) {
		t.Fatalf("after one read: %q, want one batch [a b] at once", got)
	}
	c.Write([]byte(" line\n" + numbered(1, 250)))
	got := pub.batches()
	var sizes []int
	var all []string
	for _, b := range got {
		sizes = append(sizes, len(b))
		all = append(all, b...)
	}
	if !slices.Equal(sizes, []int{2, batchLines, batchLines, 51}) {
		t.Errorf("batch sizes %v, want [2 %d %d 51]", sizes, batchLines, batchLines)
	}
	want := append([]string{"a", "b", "partial line"}, numberedLines(1, 250)...)
	if !slices.Equal(all, want) {
		t.Errorf("lines out of order or lost:\n%q", all)
	}
	c.Write([]byte("no newline yet"))
	c.close()
	if got := pub.batches(); !slices.Equal(got[len(got)-1], []string{"no newline yet"}) {
		t.Errorf("close did not publish the unfinished line: %q", got[len(got)-1])
	}
}

func TestThrottleDropsAndReports(t *testing.T) {
	tests := []struct {
		name string
		// endPeriod makes the period with drops end, and reports whether
		// the notice is expected to come from the next write.
		endPeriod func(o *output)
	}{
		{"the next write after the period reports", func(o *output) {
			o.mu.Lock()
			o.periodEnd = time.Now().Add(-time.Millisecond)
			o.mu.Unlock()
		}},
		{"a server gone quiet is reported when the period ends", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			period := time.Hour
			if tt.endPeriod == nil {
				period = 20 * time.Millisecond
			}
			o, pub := newTestOutput(t, t.TempDir(), Options{ThrottleLines: 5, ThrottlePeriod: period})
			c := newConsole(o, func(string) {})
			c.Write([]byte(numbered(1, 12)))
			if tt.endPeriod != nil {
				tt.endPeriod(o)
				c.Write([]byte("after\n"))
			}
			deadline := time.Now().Add(10 * time.Second)
			for !slices.ContainsFunc(pub.snapshot(), func(e any) bool { _, ok := e.(wire.ConsoleThrottled); return ok }) {
				if time.Now().After(deadline) {
					t.Fatalf("no throttle notice; events %v", pub.snapshot())
				}
				time.Sleep(5 * time.Millisecond)
			}
			if tt.endPeriod == nil {
				c.Write([]byte("after\n"))
			}
			want := []any{
				wire.ConsoleOutput{ServerID: "srv", Lines: numberedLines(1, 5)},
				wire.ConsoleThrottled{ServerID: "srv", Dropped: 7},
				wire.ConsoleOutput{ServerID: "srv", Lines: []string{"after"}},
			}
			if got := pub.snapshot(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("events\n%v\nwant\n%v", got, want)
			}
			// Throttled lines are still history.
			if got := o.lines(100); !slices.Equal(got, append(numberedLines(1, 12), "after")) {
				t.Errorf("history %q", got)
			}
		})
	}
}

func TestConsoleLogRotationKeepsTheCap(t *testing.T) {
	dir := t.TempDir()
	const maxBytes, files = 4096, 3
	l := newConsoleLog(filepath.Join(dir, "srv.log"), maxBytes, files, hclog.NewNullLogger())
	now := time.Now()
	for i := 1; i <= 5000; i++ {
		l.begin(now)
		l.writeLine("line " + strconv.Itoa(i))
		if i%7 == 0 {
			l.flush()
		}
	}
	l.flush()
	names, _ := filepath.Glob(filepath.Join(dir, "srv.log*"))
	slices.Sort(names)
	want := []string{filepath.Join(dir, "srv.log"), filepath.Join(dir, "srv.log.1"), filepath.Join(dir, "srv.log.2")}
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	for _, n := range names {
		st, err := os.Stat(n)
		// A file is rotated once a line takes it to the cap or past it.
		if err != nil || st.Size() >= maxBytes+int64(len("line 5000\n")) {
			t.Errorf("%s: %v, size %d over the cap %d", n, err, st.Size(), maxBytes)
		}
	}
	// What is kept is the newest lines, in order, across the files.
	got, err := l.snapshot().tail(wire.MaxLogLines)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 2*maxBytes/len("line 5000\n") || got[len(got)-1] != "line 5000" {
		t.Fatalf("tail has %d lines ending %q", len(got), got[len(got)-1])
	}
	first, _ := strconv.Atoi(strings.TrimPrefix(got[0], "line "))
	if !slices.Equal(got, numberedLines(first, 5000)) {
		t.Errorf("tail is not the consecutive newest lines")
	}
	l.close()
	if err := removeLogs(filepath.Join(dir, "srv.log")); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("removeLogs left %v", left)
	}
}

func TestTailLines(t *testing.T) {
	// Long enough to span several of tailLines' read chunks.
	var b strings.Builder
	var lines []string
	for i := range 20000 {
		l := strings.Repeat("x", i%50)
		if i%1000 == 0 {
			l = "" // empty lines are lines
		}
		lines = append(lines, l)
		b.WriteString(l + "\n")
	}
	big := b.String()
	tests := []struct {
		name    string
		content string
		n       int
		want    []string
	}{
		{"empty file", "", 5, nil},
		{"fewer lines than asked", "a\nb\n", 5, []string{"a", "b"}},
		{"the newest n", "a\nb\nc\n", 2, []string{"b", "c"}},
		{"unfinished last line", "a\nb", 1, []string{"b"}},
		{"one empty line", "\n", 3, []string{""}},
		{"across chunks", big, 15000, lines[5000:]},
		{"all of a big file", big, 30000, lines},
		{"a few of a big file", big, 3, lines[len(lines)-3:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tailLines(strings.NewReader(tt.content), int64(len(tt.content)), tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %d lines, want %d (first %q)", len(got), len(tt.want), got[:min(3, len(got))])
			}
		})
	}
}

func TestHistoryBeyondMemoryComesFromTheLog(t *testing.T) {
	dir := t.TempDir()
	o, _ := newTestOutput(t, dir, Options{ThrottleLines: -1, HistoryLines: 10})
	c := newConsole(o, func(string) {})
	for i := 1; i <= 300; i += 10 {
		c.Write([]byte(numbered(i, i+9)))
	}
	for _, n := range []int{5, 10, 50, 300, 1000} {
		want := numberedLines(max(301-n, 1), 300)
		if got := o.lines(n); !slices.Equal(got, want) {
			t.Errorf("lines(%d): %d lines, want %d", n, len(got), len(want))
		}
	}
	o.close()

	// A new agent's output on the same log starts with its history.
	again, _ := newTestOutput(t, dir, Options{ThrottleLines: -1, HistoryLines: 10})
	if got := again.hist.last(100); !slices.Equal(got, numberedLines(291, 300)) {
		t.Errorf("history after a restart: %q", got)
	}
	newConsole(again, func(string) {}).Write([]byte("line 301\n"))
	if got := again.lines(200); !slices.Equal(got, numberedLines(102, 301)) {
		t.Errorf("lines(200) after a restart: %d lines starting %q", len(got), got[0])
	}
}

func TestBrokenLogDoesNotStopTheConsole(t *testing.T) {
	dir := t.TempDir()
	opts := Options{ThrottleLines: -1}.withDefaults()
	pub := &events{}
	file := newConsoleLog(filepath.Join(dir, "missing-dir", "srv.log"), opts.LogMaxBytes, opts.LogFiles, hclog.NewNullLogger())
	o := newOutput("srv", pub, hclog.NewNullLogger(), opts, file)
	defer o.close()
	c := newConsole(o, func(string) {})
	if n, err := c.Write([]byte("a\nb\n")); n != 4 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got := pub.batches(); len(got) != 1 || !slices.Equal(got[0], []string{"a", "b"}) {
		t.Errorf("published %q", got)
	}
	if got := o.lines(10); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("history %q", got)
	}
}
