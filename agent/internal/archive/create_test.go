package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeClock moves only when told: step at every Now, and by what Sleep
// is asked to wait.
type fakeClock struct {
	now   time.Time
	step  time.Duration
	slept time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.now = c.now.Add(c.step)
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.slept += d
	c.now = c.now.Add(d)
	return ctx.Err()
}

// tarContents reads an uncompressed archive into name → content (or
// link target).
func tarContents(t *testing.T, archive []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = string(b) + h.Linkname
	}
}

func TestFilesChangingDuringCreateKeepTheArchiveValid(t *testing.T) {
	dir := t.TempDir()
	grow, shrink, gone := strings.Repeat("g", 3000), randomText(readChunk+5000, 9), "soon gone"
	writeTree(t, dir, []fsEntry{{path: "grow.log", data: grow}, {path: "shrink.dat", data: shrink}, {path: "gone.txt", data: gone}})
	c := newCreator(CreateOptions{Compression: Zstd}, realClock{})
	// Once each file is open and its size read, the server writes on.
	c.beforeCopy = func(rel string) {
		p := filepath.Join(dir, rel)
		var err error
		switch rel {
		case "grow.log":
			var f *os.File
			if f, err = os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0); err == nil {
				_, err = f.WriteString(strings.Repeat("more ", 10_000))
				f.Close()
			}
		case "shrink.dat":
			err = os.Truncate(p, 100)
		case "gone.txt":
			err = os.Remove(p) // still open: read to its end
		}
		if err != nil {
			t.Error(err)
		}
	}
	var buf bytes.Buffer
	res, err := c.create(context.Background(), dir, &buf)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if res.Files != 3 {
		t.Errorf("Files = %d, want 3", res.Files)
	}
	out := filepath.Join(t.TempDir(), "out")
	if _, err := Restore(context.Background(), out, &buf, RestoreOptions{Verify: ExpectSHA256(res.SHA256), UID: -1, GID: -1}); err != nil {
		t.Fatalf("the archive does not restore: %v", err)
	}
	for name, want := range map[string]string{
		"grow.log":   grow,                                                 // the size it had when opened
		"shrink.dat": shrink[:100] + string(make([]byte, len(shrink)-100)), // padded with zeros
		"gone.txt":   gone,
	} {
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(b) != want {
			t.Errorf("%s: %d bytes (%v), want %d bytes as described", name, len(b), err, len(want))
		}
	}
}

func TestCreateNeverFollowsADirectorySwappedForASymlink(t *testing.T) {
	base := t.TempDir()
	dir, outside := filepath.Join(base, "vol"), filepath.Join(base, "outside")
	writeTree(t, dir, []fsEntry{{path: "victim/inside.txt", data: "inside"}, {path: "z.txt", data: "z"}})
	writeTree(t, outside, []fsEntry{{path: "secret", data: "OUTSIDE-SECRET"}})
	for _, target := range []string{outside, "../outside", "z.txt"} {
		c := newCreator(CreateOptions{Compression: None}, realClock{})
		c.beforeDir = func(rel string) {
			if rel != "victim" {
				return
			}
			v := filepath.Join(dir, "victim")
			if err := os.Rename(v, filepath.Join(base, "moved")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, v); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if _, err := c.create(context.Background(), dir, &buf); err != nil {
			t.Fatalf("Create: %v", err)
		}
		got := tarContents(t, buf.Bytes())
		for name := range got {
			if strings.HasPrefix(name, "victim") {
				t.Errorf("with victim -> %s, the archive holds %q", target, name)
			}
		}
		if got["z.txt"] != "z" {
			t.Errorf("the rest of the tree is missing: %q", slices.Collect(mapKeys(got)))
		}
		// Put victim back for the next target.
		os.Remove(filepath.Join(dir, "victim"))
		if err := os.Rename(filepath.Join(base, "moved"), filepath.Join(dir, "victim")); err != nil {
			t.Fatal(err)
		}
	}
}

// Best effort: a directory flipping to a symlink and back while Create
// runs, over and over; no archive may hold what lies outside.
func TestCreateRacingSymlinkSwapsStayInside(t *testing.T) {
	base := t.TempDir()
	dir, outside := filepath.Join(base, "vol"), filepath.Join(base, "outside")
	writeTree(t, dir, []fsEntry{{path: "a/inside.txt", data: "inside"}, {path: "a/b/c.txt", data: "c"}})
	writeTree(t, outside, []fsEntry{{path: "secret", data: "OUTSIDE-SECRET"}, {path: "b/c.txt", data: "OUTSIDE-SECRET"}})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		a, real, link := filepath.Join(dir, "a"), filepath.Join(base, "real-a"), filepath.Join(base, "link-a")
		if err := os.Symlink(outside, link); err != nil {
			t.Error(err)
			return
		}
		if err := os.Rename(a, real); err != nil {
			t.Error(err)
			return
		}
		for ctx.Err() == nil {
			// Swap the symlink and the directory in and out of place.
			unix.Renameat2(unix.AT_FDCWD, link, unix.AT_FDCWD, a, 0)
			unix.Renameat2(unix.AT_FDCWD, real, unix.AT_FDCWD, a, unix.RENAME_EXCHANGE)
			unix.Renameat2(unix.AT_FDCWD, real, unix.AT_FDCWD, a, unix.RENAME_EXCHANGE)
			unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, link, 0)
		}
	})
	rounds := 300
	if testing.Short() {
		rounds = 50
	}
	for range rounds {
		var buf bytes.Buffer
		if _, err := Create(context.Background(), dir, &buf, CreateOptions{Compression: None}); err != nil {
			t.Fatalf("Create: %v", err)
		}
		if bytes.Contains(buf.Bytes(), []byte("OUTSIDE-SECRET")) {
			t.Fatal("an archive holds a file from outside the volume")
		}
	}
	cancel()
	wg.Wait()
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestCreateLeavesOutSpecialFilesAndCopiesHardLinks(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, []fsEntry{{path: "a.txt", data: "shared content"}})
	if err := os.Link(filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")); err != nil {
		t.Fatal(err)
	}
	// A FIFO nobody writes to: opening it must not hang Create.
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A socket's inode, as a server's control socket leaves one.
	if err := unix.Mknod(filepath.Join(dir, "sock"), unix.S_IFSOCK|0o600, 0); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := unix.Mknod(filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
			t.Fatal(err)
		}
	}
	archive, res := createArchive(t, dir, CreateOptions{Compression: None})
	got := tarContents(t, archive)
	want := map[string]string{"./": "", "a.txt": "shared content", "b.txt": "shared content"}
	if len(got) != len(want) {
		t.Errorf("archived %q, want %q", slices.Collect(mapKeys(got)), slices.Collect(mapKeys(want)))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if res.Files != 2 {
		t.Errorf("Files = %d, want 2", res.Files)
	}
}

func TestCreateRefusesBadOptionsBeforeWriting(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, []fsEntry{{path: "a", data: "a"}})
	for _, tt := range []struct {
		opts CreateOptions
		want string
	}{
		{CreateOptions{Compression: "lz4"}, `unknown compression "lz4"`},
		{CreateOptions{Compression: Zstd, Level: 23}, "zstd level 23"},
		{CreateOptions{Compression: Gzip, Level: 10}, "gzip level 10"},
		{CreateOptions{Compression: Gzip, Level: -1}, "gzip level -1"},
		{CreateOptions{Compression: None, Level: 3}, "takes no level"},
		{CreateOptions{Workers: -1}, "negative workers"},
		{CreateOptions{RateLimit: -5}, "negative rate limit"},
	} {
		var buf bytes.Buffer
		_, err := Create(context.Background(), dir, &buf, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Create(%+v): %v, want an error saying %s", tt.opts, err, tt.want)
		}
		if buf.Len() > 0 {
			t.Errorf("Create(%+v) wrote %d bytes before failing", tt.opts, buf.Len())
		}
	}
	if _, err := Create(context.Background(), filepath.Join(dir, "missing"), io.Discard, CreateOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Create of a missing directory: %v, want ErrNotExist", err)
	}
}

func TestCreateLevelsAndWorkersMakeValidArchives(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	richTree(t, src)
	want := snapshot(t, src)
	for _, opts := range []CreateOptions{
		{Compression: Zstd, Level: 1, Workers: 1},
		{Compression: Zstd, Level: 19, Workers: 3},
		{Compression: Gzip, Level: 1, Workers: 1},
		{Compression: Gzip, Level: 9, Workers: 3},
	} {
		archive, res := createArchive(t, src, opts)
		dst := filepath.Join(t.TempDir(), "dst")
		if _, err := Restore(context.Background(), dst, bytes.NewReader(archive), RestoreOptions{Verify: ExpectSHA256(res.SHA256), UID: -1, GID: -1}); err != nil {
			t.Fatalf("%+v: Restore: %v", opts, err)
		}
		sameTree(t, snapshot(t, dst), want, false)
	}
}

// brokenWriter takes n bytes, then fails.
type brokenWriter struct {
	n   int
	err error
}

func (w *brokenWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, w.err
	}
	w.n -= len(p)
	return len(p), nil
}

func TestCreateStopsOnWriteErrorsAndCancel(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	richTree(t, src)
	for _, c := range []Compression{Zstd, Gzip, None} {
		t.Run(string(c)+"/the store fails", func(t *testing.T) {
			full := errors.New("store is full")
			_, err := Create(context.Background(), src, &brokenWriter{n: 1000, err: full}, CreateOptions{Compression: c})
			if !errors.Is(err, full) {
				t.Fatalf("Create: %v, want the writer's error", err)
			}
		})
		t.Run(string(c)+"/ctx is cancelled", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cr := newCreator(CreateOptions{Compression: c}, realClock{})
			copied := 0
			cr.beforeCopy = func(string) {
				if copied++; copied == 3 {
					cancel()
				}
			}
			_, err := cr.create(ctx, src, io.Discard)
			if err != context.Canceled {
				t.Fatalf("Create: %v, want context.Canceled", err)
			}
			if copied != 3 {
				t.Errorf("%d files opened, want Create to stop at the third", copied)
			}
		})
	}
}

func TestProgressIsThrottledAndEndsWithTheResult(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	var tree []fsEntry
	for i := range 40 {
		tree = append(tree, fsEntry{path: filepath.Join("d", string(rune('a'+i%26))+strings.Repeat("x", i)), data: randomText(readChunk/2+i, uint64(i))})
	}
	writeTree(t, src, tree)

	var calls []Progress
	var at []time.Time
	clock := &fakeClock{now: time.Unix(1e9, 0), step: 100 * time.Millisecond}
	c := newCreator(CreateOptions{Progress: func(p Progress) { calls = append(calls, p); at = append(at, clock.now) }}, clock)
	var buf bytes.Buffer
	res, err := c.create(context.Background(), src, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != int64(len(tree)) {
		t.Fatalf("with Progress set, Create archived %d files of %d", res.Files, len(tree))
	}
	checkProgress(t, "Create", calls, at, Progress{Files: res.Files, Bytes: res.Bytes, Total: res.Bytes, Written: res.Size})
	for _, p := range calls {
		if p.Total != res.Bytes {
			t.Fatalf("Total = %d in %+v, want the %d bytes measured up front", p.Total, p, res.Bytes)
		}
	}

	for _, comp := range []Compression{Zstd, Gzip} {
		archive, _ := createArchive(t, src, CreateOptions{Compression: comp})
		calls, at = nil, nil
		out := filepath.Join(t.TempDir(), "out")
		rres, err := restore(context.Background(), out, bytes.NewReader(archive), RestoreOptions{UID: -1, GID: -1,
			Progress: func(p Progress) { calls = append(calls, p); at = append(at, clock.now) }},
			restoreEnv{clock: clock, maxEntries: MaxEntries})
		if err != nil {
			t.Fatal(err)
		}
		if rres.Files != int64(len(tree)) {
			t.Fatalf("Restore wrote %d files of %d", rres.Files, len(tree))
		}
		checkProgress(t, "Restore of "+string(comp), calls, at, Progress{Files: rres.Files, Bytes: rres.Bytes, Written: rres.Size})
	}
}

// checkProgress wants several calls, ProgressEvery apart or more, counts
// that only grow, and a last call of final.
func checkProgress(t *testing.T, what string, calls []Progress, at []time.Time, final Progress) {
	t.Helper()
	if len(calls) < 3 {
		t.Fatalf("%s: %d Progress calls, want some along the way and one at the end", what, len(calls))
	}
	for i := 1; i < len(calls)-1; i++ {
		if d := at[i].Sub(at[i-1]); d < ProgressEvery {
			t.Errorf("%s: calls %d and %d only %v apart", what, i-1, i, d)
		}
		if p, q := calls[i-1], calls[i]; q.Files < p.Files || q.Bytes < p.Bytes || q.Written < p.Written {
			t.Errorf("%s: progress went back from %+v to %+v", what, p, q)
		}
	}
	if last := calls[len(calls)-1]; last != final {
		t.Errorf("%s: last Progress %+v, want %+v", what, last, final)
	}
}

func TestRateLimitPacesFileReads(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	const size = 10 << 20
	writeTree(t, src, []fsEntry{{path: "big", data: randomText(size, 4)}, {path: "small", data: "x"}})
	const rate = 1 << 20
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	c := newCreator(CreateOptions{RateLimit: rate}, clock)
	if _, err := c.create(context.Background(), src, io.Discard); err != nil {
		t.Fatal(err)
	}
	// The bucket starts with a tenth of a second's bytes.
	bytesRead, perSecond := float64(size+1), float64(rate)
	want := time.Duration((bytesRead - perSecond/10) / perSecond * float64(time.Second))
	if d := clock.slept - want; d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("slept %v for %d bytes at %d B/s, want %v", clock.slept, size+1, rate, want)
	}
}

func TestLimiterKeepsTheAverageWhateverTheChunks(t *testing.T) {
	for _, chunk := range []int{100, 64 << 10, 3 << 20} {
		clock := &fakeClock{now: time.Unix(1e9, 0)}
		l := newLimiter(clock, 1<<20)
		total := 0
		for total < 20<<20 {
			if err := l.take(context.Background(), chunk); err != nil {
				t.Fatal(err)
			}
			total += chunk
		}
		// Whatever the chunks, no more than the rate plus the bucket.
		if max := time.Duration(float64(total-(1<<20)/10) / (1 << 20) * float64(time.Second)); clock.slept < max-time.Millisecond {
			t.Errorf("chunks of %d: %d bytes in %v, faster than 1 MiB/s", chunk, total, clock.slept)
		}
		if clock.slept > time.Duration(float64(total)/(1<<20)*float64(time.Second)) {
			t.Errorf("chunks of %d: %d bytes in %v, slower than 1 MiB/s", chunk, total, clock.slept)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := newLimiter(realClock{}, 1).take(ctx, 1<<20); err != context.Canceled {
		t.Errorf("take with a cancelled ctx: %v, want context.Canceled", err)
	}
}
