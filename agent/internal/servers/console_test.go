package servers_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"catalyst.dev/agent/internal/servers"
	"catalyst.dev/agent/testkit/testimage"
	"catalyst.dev/sdk/wire"
)

// floodSeqs returns the sequence numbers of the "flood <seq> <unixnano>"
// lines among lines, in the order they appear.
func floodSeqs(lines []string) []int {
	var out []int
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 3 || f[0] != "flood" {
			continue
		}
		if n, err := strconv.Atoi(f[1]); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestConsoleDeliversEveryLineInOrder(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, nil, "", servers.Options{ThrottleLines: -1})
	cfg := h.started(h.config(nil))
	const n = 20000
	h.command(cfg.ID, "flood "+strconv.Itoa(n)+" 0")
	h.waitLine(cfg.ID, "flood done")
	h.pub.mu.Lock()
	got := floodSeqs(h.pub.lines[cfg.ID])
	h.pub.mu.Unlock()
	if !slices.Equal(got, seq(n)) {
		t.Fatalf("got %d flood lines, want 1..%d in order", len(got), n)
	}
}

func TestConsoleThrottleOnContainerd(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, nil, "", servers.Options{ThrottleLines: 100, ThrottlePeriod: 200 * time.Millisecond, HistoryLines: wire.MaxLogLines})
	cfg := h.started(h.config(nil))
	h.command(cfg.ID, "flood 3000 0")
	var history []string
	waitUntil(t, "the flood in the history", func() bool {
		var err error
		history, err = h.m.Logs(cfg.ID, wire.MaxLogLines)
		return err == nil && slices.Contains(history, "flood done")
	})
	// Every line is either published or counted in a throttle notice (the
	// last notice comes when its period ends).
	var published []string
	dropped := 0
	waitUntil(t, "every line published or reported dropped", func() bool {
		h.pub.mu.Lock()
		defer h.pub.mu.Unlock()
		published, dropped = slices.Clone(h.pub.lines[cfg.ID]), 0
		for _, e := range h.pub.events[cfg.ID] {
			if n, ok := e.(wire.ConsoleThrottled); ok {
				dropped += n.Dropped
			}
		}
		return len(published)+dropped == len(history)
	})
	if dropped == 0 {
		t.Fatalf("3000 lines at once with a throttle of 100 dropped none")
	}
	if !slices.Equal(floodSeqs(history), seq(3000)) {
		t.Errorf("the history lacks flood lines the throttle dropped")
	}
	// What was published is the history in order, with gaps.
	i := 0
	for _, l := range published {
		for i < len(history) && history[i] != l {
			i++
		}
		if i == len(history) {
			t.Fatalf("published line %q is out of order", l)
		}
		i++
	}
}

// A new agent on the same data directory answers history requests with
// what the server printed before, followed by what it prints after.
func TestHistorySurvivesAgentRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	first := newHarness(t, nil, dir)
	cfg := first.started(first.config(nil))
	first.command(cfg.ID, "before 1")
	first.command(cfg.ID, "before 2")
	first.waitLine(cfg.ID, "> echo: before 2")
	first.m.Close()

	rt, err := first.env.NewRuntime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	second := newHarness(t, rt, dir)
	if err := second.m.Restore(ctx); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	second.expectStates(cfg.ID, wire.StateRunning)
	second.command(cfg.ID, "after")
	second.waitLine(cfg.ID, "> echo: after")

	logs, err := second.m.Logs(cfg.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{testimage.BannerStart, testimage.BannerDone, "> echo: before 1", "> echo: before 2", "> echo: after"}
	i := 0
	for _, l := range logs {
		if i < len(want) && l == want[i] {
			i++
		}
	}
	if i < len(want) || logs[len(logs)-1] != "> echo: after" {
		t.Errorf("history %q, want %q in order, ending with the last", logs, want)
	}
}
