package localstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/sdk/plugin"
)

// helperEnv makes the test binary act as a process that is killed in the
// middle of a Put (see TestKilledPutLeftoversRemovedAtConfigure).
const helperEnv = "LOCALSTORE_TEST_KILLED_PUT_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		stallInPut(dir)
		return
	}
	os.Exit(m.Run())
}

func newStore(t *testing.T, cfg map[string]any) (*Store, string) {
	t.Helper()
	if cfg == nil {
		cfg = map[string]any{}
	}
	if _, ok := cfg["dir"]; !ok {
		cfg["dir"] = t.TempDir()
	}
	s := New(hclog.NewNullLogger())
	configure(t, s, cfg)
	return s, cfg["dir"].(string)
}

// configure applies cfg as the SDK does: schema defaults first.
func configure(t *testing.T, s *Store, cfg map[string]any) {
	t.Helper()
	if err := tryConfigure(s, cfg); err != nil {
		t.Fatalf("Configure: %v", err)
	}
}

func tryConfigure(s *Store, cfg map[string]any) error {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	schema, err := s.ConfigSchema(context.Background())
	if err != nil {
		return err
	}
	applied, err := schema.Apply(raw)
	if err != nil {
		return err
	}
	return s.Configure(context.Background(), applied)
}

// files lists every file and directory under root, relative, sorted.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == root {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestObjectsAreFilesAnOperatorCanBrowse(t *testing.T) {
	s, dir := newStore(t, nil)
	ctx := context.Background()
	key := "servers/6f1c/2026-11-21.tar.zst"
	meta := map[string]string{"Server-ID": "6f1c", "note": "ünïcode ✓"}
	if err := s.Put(ctx, key, strings.NewReader("archive bytes"), meta); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "servers", "6f1c", "2026-11-21.tar.zst"))
	if err != nil || string(got) != "archive bytes" {
		t.Fatalf("file on disk: %q, %v", got, err)
	}
	want := []string{"servers/", "servers/6f1c/", "servers/6f1c/.2026-11-21.tar.zst.meta", "servers/6f1c/2026-11-21.tar.zst"}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	info, err := s.Stat(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != 13 || info.Metadata["Server-ID"] != "6f1c" || info.Metadata["note"] != "ünïcode ✓" {
		t.Fatalf("Stat = %+v", info)
	}
	objs, err := s.List(ctx, "servers/")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].Key != key || objs[0].Metadata["note"] != "ünïcode ✓" {
		t.Fatalf("List = %+v", objs)
	}
}

// blockingReader hands out data, then blocks until released, then ends
// with err (nil: a clean end).
type blockingReader struct {
	data    []byte
	blocked chan struct{}
	release chan error
	once    sync.Once
}

func newBlockingReader(n int) *blockingReader {
	return &blockingReader{data: bytes.Repeat([]byte("x"), n), blocked: make(chan struct{}), release: make(chan error, 1)}
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if len(r.data) > 0 {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	r.once.Do(func() { close(r.blocked) })
	if err := <-r.release; err != nil {
		return 0, err
	}
	return 0, io.EOF
}

func TestUploadInProgressIsInvisible(t *testing.T) {
	s, dir := newStore(t, nil)
	ctx := context.Background()
	key := "servers/a/b.tar.zst"
	src := newBlockingReader(3 << 20)
	errc := make(chan error, 1)
	go func() { errc <- s.Put(ctx, key, src, map[string]string{"k": "v"}) }()
	<-src.blocked

	// Mid-upload: the data sits in a hidden temp file, and nothing shows.
	var temps []string
	for _, f := range files(t, dir) {
		if tempName.MatchString(filepath.Base(f)) {
			temps = append(temps, f)
		}
	}
	if len(temps) != 1 {
		t.Fatalf("want one temp file during the upload, have %v", files(t, dir))
	}
	if _, err := s.Stat(ctx, key); !errors.Is(err, plugin.ErrNotFound) {
		t.Fatalf("Stat during upload: want ErrNotFound, got %v", err)
	}
	if _, _, err := s.Get(ctx, key); !errors.Is(err, plugin.ErrNotFound) {
		t.Fatalf("Get during upload: want ErrNotFound, got %v", err)
	}
	if objs, err := s.List(ctx, ""); err != nil || len(objs) != 0 {
		t.Fatalf("List during upload = %v, %v; want nothing", objs, err)
	}

	src.release <- nil
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	want := []string{"servers/", "servers/a/", "servers/a/.b.tar.zst.meta", "servers/a/b.tar.zst"}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Fatalf("after the upload: files = %v, want %v", got, want)
	}
	if objs, err := s.List(ctx, ""); err != nil || len(objs) != 1 || objs[0].Size != 3<<20 {
		t.Fatalf("List after upload = %+v, %v", objs, err)
	}
}

func TestFailedPutLeavesNothing(t *testing.T) {
	boom := errors.New("disk read error")
	tests := []struct {
		name string
		// put runs a Put that must fail.
		put func(t *testing.T, s *Store, key string) error
	}{
		{"source fails midway", func(t *testing.T, s *Store, key string) error {
			src := io.MultiReader(bytes.NewReader(make([]byte, 5<<20)), iotest.ErrReader(boom))
			return s.Put(context.Background(), key, src, nil)
		}},
		{"context cancelled midway", func(t *testing.T, s *Store, key string) error {
			ctx, cancel := context.WithCancel(context.Background())
			src := newBlockingReader(2 << 20)
			errc := make(chan error, 1)
			go func() { errc <- s.Put(ctx, key, src, nil) }()
			<-src.blocked
			cancel()
			src.release <- nil // the source even ends cleanly: too late
			return <-errc
		}},
		{"fsync of the data fails", func(t *testing.T, s *Store, key string) error {
			s.syncFile = func(*os.File) error { return errors.New("EIO") }
			return s.Put(context.Background(), key, strings.NewReader("data"), nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dir := newStore(t, nil)
			key := "servers/u/backup.tar.zst"
			if err := tt.put(t, s, key); err == nil {
				t.Fatal("Put reported success")
			}
			if got := files(t, dir); len(got) != 0 {
				t.Fatalf("a failed Put left %v", got)
			}
			if _, err := s.Stat(context.Background(), key); !errors.Is(err, plugin.ErrNotFound) {
				t.Fatalf("Stat: want ErrNotFound, got %v", err)
			}
		})
	}
}

func TestFailedOverwriteKeepsTheOldObject(t *testing.T) {
	s, dir := newStore(t, nil)
	ctx := context.Background()
	key := "servers/u/b"
	if err := s.Put(ctx, key, strings.NewReader("old"), map[string]string{"v": "1"}); err != nil {
		t.Fatal(err)
	}
	src := io.MultiReader(strings.NewReader("new, half"), iotest.ErrReader(errors.New("broken")))
	if err := s.Put(ctx, key, src, map[string]string{"v": "2"}); err == nil {
		t.Fatal("Put of a failing source reported success")
	}
	rc, info, err := s.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	if string(b) != "old" || info.Metadata["v"] != "1" {
		t.Fatalf("after a failed overwrite: %q %v, want the old object", b, info.Metadata)
	}
	want := []string{"servers/", "servers/u/", "servers/u/.b.meta", "servers/u/b"}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
}

// syncLog records what syncFile was called on.
type syncLog struct {
	mu    sync.Mutex
	names []string
}

func (l *syncLog) sync(f *os.File) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names = append(l.names, f.Name())
	return f.Sync()
}

func TestFsync(t *testing.T) {
	t.Run("on: file and sidecar before the rename, then the directories", func(t *testing.T) {
		s, dir := newStore(t, map[string]any{"fsync": true})
		var log syncLog
		s.syncFile = log.sync
		if err := s.Put(context.Background(), "servers/u/b.tar", strings.NewReader("data"), nil); err != nil {
			t.Fatal(err)
		}
		if len(log.names) != 5 {
			t.Fatalf("synced %v; want data, sidecar and three directories", log.names)
		}
		// Files are synced under their temp names: before the rename.
		data, side := filepath.Base(log.names[0]), filepath.Base(log.names[1])
		if !tempName.MatchString(data) || !strings.HasPrefix(data, ".b.tar.tmp-") {
			t.Errorf("first sync %q: want the data temp file", data)
		}
		if !tempName.MatchString(side) || !strings.HasPrefix(side, ".b.tar.meta.tmp-") {
			t.Errorf("second sync %q: want the sidecar temp file", side)
		}
		// The object's directory holds the renames; dir and servers/ hold
		// the entries of the directories Put created.
		dirs := slices.Sorted(slices.Values(log.names[2:]))
		want := []string{dir, filepath.Join(dir, "servers"), filepath.Join(dir, "servers", "u")}
		if !slices.Equal(dirs, want) {
			t.Errorf("synced directories %v, want %v", dirs, want)
		}
	})
	t.Run("off: no sync at all", func(t *testing.T) {
		s, _ := newStore(t, map[string]any{"fsync": false})
		var log syncLog
		s.syncFile = log.sync
		ctx := context.Background()
		if err := s.Put(ctx, "a/b", strings.NewReader("data"), nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "a/b"); err != nil {
			t.Fatal(err)
		}
		if len(log.names) != 0 {
			t.Fatalf("fsync=false synced %v", log.names)
		}
	})
	t.Run("a failing directory sync fails the Put", func(t *testing.T) {
		s, _ := newStore(t, map[string]any{"fsync": true})
		s.syncFile = func(f *os.File) error {
			if fi, err := f.Stat(); err == nil && fi.IsDir() {
				return errors.New("EIO")
			}
			return nil
		}
		if err := s.Put(context.Background(), "a/b", strings.NewReader("data"), nil); err == nil || !strings.Contains(err.Error(), "sync directory") {
			t.Fatalf("Put = %v, want a sync directory error", err)
		}
	})
}

func TestConfigureRemovesStaleLeftovers(t *testing.T) {
	s, dir := newStore(t, nil)
	ctx := context.Background()
	if err := s.Put(ctx, "servers/u/kept", strings.NewReader("x"), map[string]string{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	write := func(rel string, mtime time.Time) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("leftover"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write("servers/u/.b.tar.tmp-0123456789abcdef", old)            // killed upload: data
	write("servers/u/.b.tar.meta.tmp-fedcba9876543210", old)       // killed upload: sidecar
	write("servers/v/.orphan.meta", old)                           // object gone, sidecar left
	write("servers/u/.young.tar.tmp-00112233445566aa", time.Now()) // may be in flight
	write("servers/u/.operator-notes", old)                        // not ours
	os.Chtimes(filepath.Join(dir, "servers/u/.kept.meta"), old, old)

	configure(t, s, map[string]any{"dir": dir, "partial_max_age": "1h"})
	want := []string{
		"servers/", "servers/u/", "servers/u/.kept.meta", "servers/u/.operator-notes",
		"servers/u/.young.tar.tmp-00112233445566aa", "servers/u/kept", "servers/v/",
	}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Fatalf("after Configure: %v\nwant %v", got, want)
	}
	if info, err := s.Stat(ctx, "servers/u/kept"); err != nil || info.Metadata["a"] != "b" {
		t.Fatalf("the live object's metadata: %+v, %v", info, err)
	}
}

// stallInPut is the helper process: it starts a Put whose source stalls
// after 1 MiB, says so on stdout, and waits to be killed.
func stallInPut(dir string) {
	s := New(hclog.NewNullLogger())
	if err := s.Configure(context.Background(), plugin.Config(fmt.Sprintf(`{"dir":%q,"fsync":true,"partial_max_age":"1h"}`, dir))); err != nil {
		fmt.Println("configure:", err)
		os.Exit(1)
	}
	src := newBlockingReader(1 << 20)
	go func() {
		<-src.blocked
		fmt.Println("stalled")
	}()
	err := s.Put(context.Background(), "servers/u/killed.tar.zst", src, nil)
	fmt.Println("put returned:", err)
	os.Exit(1)
}

func TestKilledPutLeftoversRemovedAtConfigure(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "stalled\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q", line)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	var temps []string
	for _, f := range files(t, dir) {
		if tempName.MatchString(filepath.Base(f)) {
			temps = append(temps, f)
		}
	}
	if len(temps) != 1 {
		t.Fatalf("the killed Put should have left one temp file: %v", files(t, dir))
	}
	s := New(hclog.NewNullLogger())
	configure(t, s, map[string]any{"dir": dir})
	if objs, err := s.List(context.Background(), ""); err != nil || len(objs) != 0 {
		t.Fatalf("List shows %v, %v after a killed Put", objs, err)
	}
	// Young leftovers stay (the writer might be alive); aged past
	// partial_max_age they go.
	if got := files(t, dir); !slices.Contains(got, temps[0]) {
		t.Fatalf("Configure removed a young temp file: %v", got)
	}
	old := time.Now().Add(-61 * time.Minute)
	if err := os.Chtimes(filepath.Join(dir, temps[0]), old, old); err != nil {
		t.Fatal(err)
	}
	configure(t, s, map[string]any{"dir": dir})
	if got := files(t, dir); slices.Contains(got, temps[0]) {
		t.Fatalf("Configure kept a stale temp file: %v", got)
	}
}

func TestKeyValidation(t *testing.T) {
	s, _ := newStore(t, nil)
	ctx := context.Background()
	tests := []struct {
		key string
		ok  bool
	}{
		{"servers/6f1c2a/0e3b.tar.zst", true},
		{"a", true},
		{"a b/ü-ñ_~!@#$%^&()+=,;'[]{}", true},
		{strings.Repeat("a", maxSegmentLen), true},
		{strings.Repeat("a/", 500) + "b", true},
		{"", false},
		{"/abs", false},
		{"a//b", false},
		{"a/", false},
		{"./a", false},
		{"a/./b", false},
		{"../escape", false},
		{"a/../../escape", false},
		{"a/..", false},
		{".hidden", false},
		{"a/.b.meta", false},
		{`a\b`, false},
		{"a\x00b", false},
		{"a\nb", false},
		{"a\x7fb", false},
		{"a\u0085b", false},
		{"bad\xffutf8", false},
		{strings.Repeat("a", maxSegmentLen+1), false},
		{strings.Repeat("a/", 512) + "b", false},
	}
	for _, tt := range tests {
		name := tt.key
		if len(name) > 40 {
			name = name[:40] + "…"
		}
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			putErr := s.Put(ctx, tt.key, strings.NewReader("x"), nil)
			_, statErr := s.Stat(ctx, tt.key)
			_, _, getErr := s.Get(ctx, tt.key)
			delErr := s.Delete(ctx, tt.key)
			if tt.ok {
				if putErr != nil || statErr != nil || getErr != nil || delErr != nil {
					t.Fatalf("valid key: put %v, stat %v, get %v, delete %v", putErr, statErr, getErr, delErr)
				}
				return
			}
			for op, err := range map[string]error{"Put": putErr, "Stat": statErr, "Get": getErr, "Delete": delErr} {
				if !errors.Is(err, plugin.ErrInvalidArgument) {
					t.Errorf("%s: want ErrInvalidArgument, got %v", op, err)
				}
			}
		})
	}
	for _, prefix := range []string{"/a", "../", "a/../b", `a\`, "a\x00", ".hidden/"} {
		if _, err := s.List(ctx, prefix); !errors.Is(err, plugin.ErrInvalidArgument) {
			t.Errorf("List(%q): want ErrInvalidArgument, got %v", prefix, err)
		}
	}
}

func TestKeyAndPrefixDirectoryClash(t *testing.T) {
	s, _ := newStore(t, nil)
	ctx := context.Background()
	if err := s.Put(ctx, "a", strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "a/b", strings.NewReader("x"), nil); !errors.Is(err, plugin.ErrInvalidArgument) {
		t.Fatalf("Put under an object: want ErrInvalidArgument, got %v", err)
	}
	if err := s.Put(ctx, "c/d", strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "c", strings.NewReader("x"), nil); !errors.Is(err, plugin.ErrInvalidArgument) {
		t.Fatalf("Put over a directory: want ErrInvalidArgument, got %v", err)
	}
	if _, err := s.Stat(ctx, "c"); !errors.Is(err, plugin.ErrNotFound) {
		t.Fatalf("Stat of a directory: want ErrNotFound, got %v", err)
	}
	if err := s.Delete(ctx, "c"); err != nil {
		t.Fatalf("Delete of a directory: %v", err)
	}
	if _, err := s.Stat(ctx, "c/d"); err != nil {
		t.Fatalf("Delete of the directory touched its object: %v", err)
	}
}

func TestListOrderAndPrefixes(t *testing.T) {
	s, _ := newStore(t, nil)
	ctx := context.Background()
	keys := []string{"a/1", "a-b", "a/x/2", "ab", "b/c/d/e"}
	for _, k := range keys {
		if err := s.Put(ctx, k, strings.NewReader(k), nil); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a-b", "a/1", "a/x/2", "ab", "b/c/d/e"}},
		{"a", []string{"a-b", "a/1", "a/x/2", "ab"}},
		{"a/", []string{"a/1", "a/x/2"}},
		{"a/x", []string{"a/x/2"}},
		{"a/1", []string{"a/1"}},
		{"a/1/", nil},
		{"b/c/", []string{"b/c/d/e"}},
		{"nope/", nil},
	}
	for _, tt := range tests {
		objs, err := s.List(ctx, tt.prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", tt.prefix, err)
		}
		var got []string
		for _, o := range objs {
			got = append(got, o.Key)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("List(%q) = %v, want %v", tt.prefix, got, tt.want)
		}
	}
}

func TestDeletePrunesEmptyDirectories(t *testing.T) {
	s, dir := newStore(t, nil)
	ctx := context.Background()
	for _, k := range []string{"servers/u/1", "servers/u/sub/2", "servers/v/3"} {
		if err := s.Put(ctx, k, strings.NewReader("x"), map[string]string{"k": k}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		del  string
		want []string
	}{
		{"servers/u/sub/2", []string{"servers/", "servers/u/", "servers/u/.1.meta", "servers/u/1", "servers/v/", "servers/v/.3.meta", "servers/v/3"}},
		{"servers/v/3", []string{"servers/", "servers/u/", "servers/u/.1.meta", "servers/u/1"}},
		{"servers/u/1", nil},
		{"servers/u/1", nil}, // again: idempotent
	}
	for _, st := range steps {
		if err := s.Delete(ctx, st.del); err != nil {
			t.Fatalf("Delete(%s): %v", st.del, err)
		}
		if got := files(t, dir); !slices.Equal(got, st.want) {
			t.Fatalf("after Delete(%s): %v, want %v", st.del, got, st.want)
		}
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("Delete pruned the store's own directory: %v", err)
	}
}

func TestConfigure(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     map[string]any
		wantErr string
	}{
		{"creates a missing dir", map[string]any{"dir": filepath.Join(t.TempDir(), "new", "nested")}, ""},
		{"relative dir", map[string]any{"dir": "backups"}, "absolute path"},
		{"dir is a file", map[string]any{"dir": file}, "create dir"},
		{"bad duration", map[string]any{"dir": t.TempDir(), "partial_max_age": "soon"}, "partial_max_age"},
		{"zero duration", map[string]any{"dir": t.TempDir(), "partial_max_age": "0s"}, "partial_max_age"},
		{"unknown key", map[string]any{"dir": t.TempDir(), "bucket": "x"}, "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tryConfigure(New(hclog.NewNullLogger()), tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if fi, err := os.Stat(tt.cfg["dir"].(string)); err != nil || fi.Mode().Perm() != 0o700 {
					t.Fatalf("dir not created with mode 0700: %v %v", fi, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Configure = %v, want an error mentioning %q", err, tt.wantErr)
			}
		})
	}
	if _, err := New(hclog.NewNullLogger()).Stat(context.Background(), "a"); !errors.Is(err, plugin.ErrUnavailable) {
		t.Fatalf("unconfigured store: want ErrUnavailable, got %v", err)
	}
}

func TestOnlyRegularFilesAreObjects(t *testing.T) {
	s, dir := newStore(t, nil)
	ctx := context.Background()
	if err := s.Put(ctx, "real", strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
	// An operator's symlink in the tree is left alone.
	if err := os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "link"); !errors.Is(err, plugin.ErrNotFound) {
		t.Fatalf("Stat of a symlink: want ErrNotFound, got %v", err)
	}
	if _, _, err := s.Get(ctx, "link"); !errors.Is(err, plugin.ErrNotFound) {
		t.Fatalf("Get of a symlink: want ErrNotFound, got %v", err)
	}
	if objs, err := s.List(ctx, ""); err != nil || len(objs) != 1 || objs[0].Key != "real" {
		t.Fatalf("List = %+v, %v; want only the real object", objs, err)
	}
	if err := s.Delete(ctx, "link"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "link")); err != nil {
		t.Fatalf("Delete removed the symlink: %v", err)
	}
}
