package archive

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"catalyst.dev/agent/testkit/mixedtree"
)

// benchTreeSize is the mixed tree the benchmarks archive: big enough
// that per-file and per-byte costs both show; -short takes a smaller one.
func benchTreeSize() int64 {
	if testing.Short() {
		return 32 << 20
	}
	return 256 << 20
}

// benchTree generates the benchmarks' tree in a fresh directory.
func benchTree(b *testing.B) (dir string, st mixedtree.Stats) {
	b.Helper()
	dir = filepath.Join(b.TempDir(), "tree")
	st, err := mixedtree.Generate(dir, benchTreeSize(), 1)
	if err != nil {
		b.Fatal(err)
	}
	unix.Sync() // no figure pays for writing back the tree
	return dir, st
}

// peakHeap samples the heap in use while it runs, for the benchmarks'
// peak-heap-MB figure.
type peakHeap struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

func startPeakHeap() *peakHeap {
	runtime.GC()
	p := &peakHeap{stop: make(chan struct{})}
	p.done.Go(func() {
		var m runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			p.peak = max(p.peak, m.HeapInuse)
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	})
	return p
}

func (p *peakHeap) report(b *testing.B) {
	close(p.stop)
	p.done.Wait()
	b.ReportMetric(float64(p.peak)/(1<<20), "peak-heap-MB")
}

// tarBaseline runs GNU tar, skipping only when tar is missing.
func tarBaseline(b *testing.B) string {
	tar, err := exec.LookPath("tar")
	if err != nil {
		b.Skip("GNU tar is not installed (Debian: apt-get install tar gzip)")
	}
	return tar
}

func BenchmarkCreate(b *testing.B) {
	dir, st := benchTree(b)
	for _, c := range []Compression{Zstd, Gzip} {
		b.Run(string(c), func(b *testing.B) {
			b.SetBytes(st.Bytes)
			p := startPeakHeap()
			var res Result
			for b.Loop() {
				var err error
				if res, err = Create(context.Background(), dir, io.Discard, CreateOptions{Compression: c}); err != nil {
					b.Fatal(err)
				}
			}
			p.report(b)
			b.ReportMetric(float64(res.Size)/float64(st.Bytes), "ratio")
		})
	}
	b.Run("baseline-tar-czf", func(b *testing.B) {
		tar := tarBaseline(b)
		b.SetBytes(st.Bytes)
		for b.Loop() {
			// To stdout, not a file: GNU tar skips reading the files when
			// its archive is /dev/null.
			var stderr strings.Builder
			cmd := exec.Command(tar, "-czf", "-", "-C", dir, ".")
			cmd.Stdout, cmd.Stderr = io.Discard, &stderr
			if err := cmd.Run(); err != nil {
				b.Fatalf("tar: %v: %s", err, stderr.String())
			}
		}
	})
}

func BenchmarkRestore(b *testing.B) {
	src, st := benchTree(b)
	work := b.TempDir()
	archives := map[Compression]string{}
	arch := filepath.Join(work, "archive.tgz")
	if tar, err := exec.LookPath("tar"); err == nil {
		if out, err := exec.Command(tar, "-czf", arch, "-C", src, ".").CombinedOutput(); err != nil {
			b.Fatalf("tar: %v: %s", err, out)
		}
	}
	for _, c := range []Compression{Zstd, Gzip} {
		p := filepath.Join(work, "archive."+string(c))
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Create(context.Background(), src, f, CreateOptions{Compression: c}); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		archives[c] = p
	}
	// Each restore goes to a new directory, the last one removed
	// outside the timer.
	n := 0
	next := func(b *testing.B) string {
		b.StopTimer()
		if n > 0 {
			if err := os.RemoveAll(filepath.Join(work, fmt.Sprint("out", n-1))); err != nil {
				b.Fatal(err)
			}
		}
		d := filepath.Join(work, fmt.Sprint("out", n))
		n++
		// Each run starts with nothing to write back: whichever runs
		// after another pays for none of its writes.
		unix.Sync()
		b.StartTimer()
		return d
	}
	for _, c := range []Compression{Zstd, Gzip} {
		b.Run(string(c), func(b *testing.B) {
			b.SetBytes(st.Bytes)
			p := startPeakHeap()
			for b.Loop() {
				dst := next(b)
				f, err := os.Open(archives[c])
				if err != nil {
					b.Fatal(err)
				}
				_, err = Restore(context.Background(), dst, f, RestoreOptions{UID: os.Getuid(), GID: os.Getgid()})
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
			p.report(b)
		})
	}
	b.Run("baseline-tar-xzf", func(b *testing.B) {
		tar := tarBaseline(b)
		b.SetBytes(st.Bytes)
		for b.Loop() {
			dst := next(b)
			if err := os.Mkdir(dst, 0o755); err != nil {
				b.Fatal(err)
			}
			if out, err := exec.Command(tar, "-xzf", arch, "-C", dst).CombinedOutput(); err != nil {
				b.Fatalf("tar: %v: %s", err, out)
			}
		}
	})
}
