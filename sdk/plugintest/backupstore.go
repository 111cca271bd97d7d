package plugintest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"catalyst.dev/sdk/plugin"
)

// BackupStoreOptions tune the backup store suite.
type BackupStoreOptions struct {
	// Config is the plugin's configuration, as the config block's keys.
	Config map[string]any
	// LargeSize is the size of the large round trip, 100 MiB when zero.
	// It is skipped under `go test -short`.
	LargeSize int64
}

// BackupStore checks a backup store plugin: round trips at the sizes where
// chunking can go wrong, missing keys, cancelled uploads leaving nothing
// behind, concurrent uploads, listing by prefix, idempotent deletes and its
// configuration schema. Objects are written under a fresh prefix and
// deleted afterwards, so the suite can run against a shared bucket.
func BackupStore(t *testing.T, target Target, opts BackupStoreOptions) {
	cfg := encodeConfig(t, opts.Config)
	store := target.open(t, plugin.KindBackupStore, cfg).(plugin.BackupStore)
	info, err := store.Info(context.Background())
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if info.Kind != plugin.KindBackupStore {
		t.Fatalf("Info reports kind %q", info.Kind)
	}
	prefix := fmt.Sprintf("plugintest-%d-%x/", time.Now().UnixNano(), rand.Uint32())
	s := &backupSuite{store: store, prefix: prefix}
	t.Cleanup(s.cleanup(t))

	large := opts.LargeSize
	if large == 0 {
		large = 100 << 20
	}
	t.Run("round trip", func(t *testing.T) {
		sizes := []struct {
			name string
			n    int64
		}{
			{"0 B", 0},
			{"1 B", 1},
			{"chunk-1", plugin.ChunkSize - 1},
			{"chunk", plugin.ChunkSize},
			{"chunk+1", plugin.ChunkSize + 1},
			{fmt.Sprintf("%d MiB", large>>20), large},
		}
		for i, sz := range sizes {
			t.Run(sz.name, func(t *testing.T) {
				if sz.n == large && testing.Short() {
					t.Skip("large round trip skipped in -short mode")
				}
				s.roundTrip(t, fmt.Sprintf("roundtrip/%d", i), uint64(i+1), sz.n)
			})
		}
	})
	t.Run("overwrite replaces", s.overwrite)
	t.Run("missing key is ErrNotFound", s.missing)
	t.Run("cancelled put leaves no object", s.cancelledPut)
	t.Run("failed source leaves no object", s.failedSource)
	t.Run("early close of a download", s.earlyClose)
	t.Run("concurrent puts", s.concurrentPuts)
	t.Run("list by prefix", s.listByPrefix)
	t.Run("delete is idempotent", s.idempotentDelete)
	t.Run("config schema", func(t *testing.T) { checkSchema(t, store, opts.Config) })
}

type backupSuite struct {
	store  plugin.BackupStore
	prefix string
}

func (s *backupSuite) cleanup(t *testing.T) func() {
	return func() {
		ctx := context.Background()
		objs, err := s.store.List(ctx, s.prefix)
		if err != nil {
			t.Logf("cleanup: list: %v", err)
			return
		}
		for _, o := range objs {
			if err := s.store.Delete(ctx, o.Key); err != nil {
				t.Logf("cleanup: delete %s: %v", o.Key, err)
			}
		}
	}
}

func (s *backupSuite) roundTrip(t *testing.T, name string, seed uint64, n int64) {
	ctx := context.Background()
	key := s.prefix + name
	meta := map[string]string{"server": "plugintest", "size": fmt.Sprint(n)}
	src := newPattern(seed, n)
	if err := s.store.Put(ctx, key, src, meta); err != nil {
		t.Fatalf("Put %d bytes: %v", n, err)
	}
	want := src.digest()

	st, err := s.store.Stat(ctx, key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if st.Key != key || st.Size != n {
		t.Errorf("Stat = key %q size %d, want %q %d", st.Key, st.Size, key, n)
	}
	if st.Metadata["server"] != "plugintest" || st.Metadata["size"] != fmt.Sprint(n) {
		t.Errorf("Stat metadata = %v, want %v", st.Metadata, meta)
	}

	rc, info, err := s.store.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	defer rc.Close()
	if info.Size != n {
		t.Errorf("Get info size %d, want %d", info.Size, n)
	}
	got, sum, err := hashAll(rc)
	if err != nil {
		t.Fatalf("read object: %v", err)
	}
	if got != n || sum != want {
		t.Fatalf("read back %d bytes (sha256 %x), want %d bytes (sha256 %x)", got, sum[:6], n, want[:6])
	}
}

func (s *backupSuite) overwrite(t *testing.T) {
	ctx := context.Background()
	key := s.prefix + "overwrite"
	for _, v := range []string{"first version, longer", "second"} {
		if err := s.store.Put(ctx, key, strings.NewReader(v), nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.read(t, key); got != "second" {
		t.Fatalf("after overwrite read %q", got)
	}
}

func (s *backupSuite) read(t *testing.T, key string) string {
	t.Helper()
	rc, _, err := s.store.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return string(b)
}

func (s *backupSuite) missing(t *testing.T) {
	ctx := context.Background()
	key := s.prefix + "does/not/exist"
	if _, _, err := s.store.Get(ctx, key); !errors.Is(err, plugin.ErrNotFound) {
		t.Errorf("Get: want ErrNotFound, got %s", describe(err))
	}
	if _, err := s.store.Stat(ctx, key); !errors.Is(err, plugin.ErrNotFound) {
		t.Errorf("Stat: want ErrNotFound, got %s", describe(err))
	}
}

// assertAbsent checks, a few times over half a second (the plugin may
// still be unwinding the failed upload), that key never appears.
func (s *backupSuite) assertAbsent(t *testing.T, key string) {
	t.Helper()
	ctx := context.Background()
	for range 5 {
		if _, err := s.store.Stat(ctx, key); !errors.Is(err, plugin.ErrNotFound) {
			t.Fatalf("Stat after a failed put: want ErrNotFound, got %s", describe(err))
		}
		objs, err := s.store.List(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(objs, func(o plugin.ObjectInfo) bool { return o.Key == key }) {
			t.Fatalf("List shows %s after a failed put", key)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *backupSuite) cancelledPut(t *testing.T) {
	key := s.prefix + "cancelled"
	ctx, cancel := context.WithCancel(context.Background())
	src := &stallingReader{r: newPattern(7, 10<<20), stallAfter: 3 * plugin.ChunkSize, stalled: make(chan struct{}), ctx: ctx}
	errc := make(chan error, 1)
	go func() { errc <- s.store.Put(ctx, key, src, nil) }()
	select {
	case <-src.stalled:
	case err := <-errc:
		t.Fatalf("Put returned before the source stalled: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Put never read 3 chunks")
	}
	cancel()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("cancelled Put reported success")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("cancelled Put did not return")
	}
	s.assertAbsent(t, key)
}

func (s *backupSuite) failedSource(t *testing.T) {
	key := s.prefix + "failed-source"
	boom := errors.New("disk read error")
	src := io.MultiReader(newPattern(8, 2*plugin.ChunkSize+5), iotest.ErrReader(boom))
	if err := s.store.Put(context.Background(), key, src, nil); err == nil {
		t.Fatal("Put of a failing source reported success")
	}
	s.assertAbsent(t, key)
}

func (s *backupSuite) earlyClose(t *testing.T) {
	ctx := context.Background()
	key := s.prefix + "early-close"
	if err := s.store.Put(ctx, key, newPattern(9, 4*plugin.ChunkSize), nil); err != nil {
		t.Fatal(err)
	}
	rc, _, err := s.store.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rc, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if err := rc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// The store must still serve calls after an abandoned download.
	if _, err := s.store.Stat(ctx, key); err != nil {
		t.Fatalf("Stat after an abandoned download: %v", err)
	}
}

func (s *backupSuite) concurrentPuts(t *testing.T) {
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	sums := make([][32]byte, n)
	for i := range n {
		wg.Go(func() {
			src := newPattern(uint64(100+i), int64(i+1)*300<<10)
			errs[i] = s.store.Put(ctx, fmt.Sprintf("%sconcurrent/%d", s.prefix, i), src, nil)
			sums[i] = src.digest()
		})
	}
	// Writers racing on one key: the survivor must be one whole version.
	same := s.prefix + "concurrent/same"
	sameSums := make([][32]byte, 4)
	sameErrs := make([]error, 4)
	for i := range 4 {
		wg.Go(func() {
			src := newPattern(uint64(200+i), plugin.ChunkSize+int64(i)*1000)
			sameErrs[i] = s.store.Put(ctx, same, src, nil)
			sameSums[i] = src.digest()
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("put %d: %v", i, errs[i])
		}
		rc, _, err := s.store.Get(ctx, fmt.Sprintf("%sconcurrent/%d", s.prefix, i))
		if err != nil {
			t.Fatal(err)
		}
		size, sum, err := hashAll(rc)
		rc.Close()
		if err != nil || size != int64(i+1)*300<<10 || sum != sums[i] {
			t.Fatalf("object %d: %d bytes, err %v, content mismatch %v", i, size, err, sum != sums[i])
		}
	}
	for i, err := range sameErrs {
		if err != nil {
			t.Fatalf("racing put %d: %v", i, err)
		}
	}
	rc, _, err := s.store.Get(ctx, same)
	if err != nil {
		t.Fatal(err)
	}
	_, sum, err := hashAll(rc)
	rc.Close()
	if err != nil || !slices.Contains(sameSums, sum) {
		t.Fatalf("racing puts left an object that is none of the versions written (err %v)", err)
	}
}

func (s *backupSuite) listByPrefix(t *testing.T) {
	ctx := context.Background()
	base := s.prefix + "list/"
	keys := []string{"a/1", "a/2", "ab/3", "b/4"}
	for i, k := range keys {
		if err := s.store.Put(ctx, base+k, strings.NewReader(strings.Repeat("x", i+1)), nil); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"a/", []string{"a/1", "a/2"}},
		{"a", []string{"a/1", "a/2", "ab/3"}},
		{"", keys},
		{"c", nil},
	}
	for _, tt := range tests {
		objs, err := s.store.List(ctx, base+tt.prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", tt.prefix, err)
		}
		var got []string
		for _, o := range objs {
			got = append(got, strings.TrimPrefix(o.Key, base))
			if want := int64(slices.Index(keys, strings.TrimPrefix(o.Key, base)) + 1); o.Size != want {
				t.Errorf("List(%q): %s has size %d, want %d", tt.prefix, o.Key, o.Size, want)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("List(%q) = %v, want %v (sorted by key)", tt.prefix, got, tt.want)
		}
	}
}

func (s *backupSuite) idempotentDelete(t *testing.T) {
	ctx := context.Background()
	key := s.prefix + "delete-me"
	if err := s.store.Put(ctx, key, strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := s.store.Delete(ctx, key); err != nil {
			t.Fatalf("delete #%d: %v", i+1, err)
		}
	}
	if _, err := s.store.Stat(ctx, key); !errors.Is(err, plugin.ErrNotFound) {
		t.Fatalf("Stat after delete: want ErrNotFound, got %s", describe(err))
	}
	if err := s.store.Delete(ctx, s.prefix+"never-existed"); err != nil {
		t.Fatalf("delete of a missing key: %v", err)
	}
}

// stallingReader reads normally up to stallAfter bytes, then blocks until
// ctx ends: an upload the host abandons halfway.
type stallingReader struct {
	r          io.Reader
	read       int
	stallAfter int
	stalled    chan struct{}
	once       sync.Once
	ctx        context.Context
}

func (s *stallingReader) Read(p []byte) (int, error) {
	if s.read >= s.stallAfter {
		s.once.Do(func() { close(s.stalled) })
		<-s.ctx.Done()
		return 0, s.ctx.Err()
	}
	p = p[:min(len(p), s.stallAfter-s.read)]
	n, err := s.r.Read(p)
	s.read += n
	return n, err
}
