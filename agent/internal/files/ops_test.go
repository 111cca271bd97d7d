package files_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"mime/multipart"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"catalyst.dev/agent/internal/files"
	"catalyst.dev/agent/internal/metrics"
	"catalyst.dev/sdk/wire"
)

func names(es []wire.FileInfo) string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return strings.Join(out, " ")
}

func TestListOrdersDirectoriesFirstAndPages(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.put(t, map[string]string{"b.txt": "22", "A.txt": "1", "c.log": "333", "zdir/": "", "adir/": ""})
	f.link(t, "zdir", "link")
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, n := range []string{"adir", "zdir", "c.log", "A.txt", "b.txt", "link"} {
		tm := old.Add(time.Duration(i) * time.Hour)
		if err := unix.Lutimes(filepath.Join(f.vol, n), []unix.Timeval{unix.NsecToTimeval(tm.UnixNano()), unix.NsecToTimeval(tm.UnixNano())}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		opts      files.ListOptions
		want      string
		wantTotal int
		wantErr   error
	}{
		{"by name, case-insensitive", files.ListOptions{}, "adir zdir A.txt b.txt c.log link", 6, nil},
		{"by name descending: directories still first", files.ListOptions{Desc: true}, "zdir adir link c.log b.txt A.txt", 6, nil},
		{"by size", files.ListOptions{Sort: files.SortSize}, "adir zdir A.txt b.txt c.log link", 6, nil},
		{"by modified", files.ListOptions{Sort: files.SortModified}, "adir zdir c.log A.txt b.txt link", 6, nil},
		{"a page", files.ListOptions{Offset: 1, Limit: 2}, "zdir A.txt", 6, nil},
		{"past the end", files.ListOptions{Offset: 10}, "", 6, nil},
		{"unknown sort", files.ListOptions{Sort: "colour"}, "", 0, files.ErrInvalid},
		{"limit over the maximum", files.ListOptions{Limit: files.MaxListLimit + 1}, "", 0, files.ErrInvalid},
		{"negative offset", files.ListOptions{Offset: -1}, "", 0, files.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := f.v.List(context.Background(), "/", tt.opts)
			wantErr(t, "list", err, tt.wantErr)
			if tt.wantErr != nil {
				return
			}
			if got := names(l.Entries); got != tt.want || l.Total != tt.wantTotal || l.Path != "/" {
				t.Errorf("list = %q (total %d, path %q), want %q (total %d)", got, l.Total, l.Path, tt.want, tt.wantTotal)
			}
		})
	}
	l, _ := f.v.List(context.Background(), "/", files.ListOptions{})
	for _, e := range l.Entries {
		if e.Name == "link" && (!e.IsSymlink || e.IsDir || e.ModeString[0] != 'l') {
			t.Errorf("symlink to a directory listed as %+v, want a symlink, not a directory", e)
		}
	}
}

func TestListAndStatErrors(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.put(t, map[string]string{"file.txt": "x", "dir/inner.txt": "y"})
	f.link(t, "dir", "dirlink")
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"list a file", func() error { _, err := f.v.List(context.Background(), "file.txt", files.ListOptions{}); return err }, files.ErrInvalid},
		{"list a missing directory", func() error { _, err := f.v.List(context.Background(), "nope", files.ListOptions{}); return err }, fs.ErrNotExist},
		{"list through a symlink to a directory", func() error {
			l, err := f.v.List(context.Background(), "dirlink", files.ListOptions{})
			if err == nil && names(l.Entries) != "inner.txt" {
				return errors.New("wrong entries: " + names(l.Entries))
			}
			return err
		}, nil},
		{"stat a missing file", func() error { _, err := f.v.Stat("/nope"); return err }, fs.ErrNotExist},
		{"stat a NUL path", func() error { _, err := f.v.Stat("a\x00b"); return err }, files.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.name, tt.op(), tt.want) })
	}
	fi, err := f.v.Stat("/dir/../file.txt")
	if err != nil || fi.Path != "/file.txt" || fi.Size != 1 || fi.Mode != "0644" || fi.ModeString != "-rw-r--r--" || fi.MimeType != "text/plain" {
		t.Fatalf("stat = %+v, %v", fi, err)
	}
}

func TestWrite(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.put(t, map[string]string{"old.cfg": "old", "dir/": "", "target.txt": "target"})
	if err := os.Chmod(filepath.Join(f.vol, "old.cfg"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.link(t, "target.txt", "link.txt")
	f.link(t, "missing", "dangling")
	if err := unix.Mkfifo(filepath.Join(f.vol, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		wantErr  error
		wantFile string // where the content lands
		wantMode fs.FileMode
	}{
		{"a new file is 0644", "/new.txt", nil, "new.txt", 0o644},
		{"a replaced file keeps its mode", "old.cfg", nil, "old.cfg", 0o600},
		{"missing parents are made", "a/b/c.txt", nil, "a/b/c.txt", 0o644},
		{"a symlink to a file is written through", "link.txt", nil, "target.txt", 0o644},
		{"a dangling symlink is replaced", "dangling", nil, "dangling", 0o644},
		{"a directory is refused", "dir", files.ErrInvalid, "", 0},
		{"the top is refused", "/", files.ErrInvalid, "", 0},
		{"a FIFO is refused", "fifo", files.ErrInvalid, "", 0},
		{"a file as a parent is refused", "old.cfg/x", files.ErrInvalid, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.v.Write(context.Background(), tt.path, strings.NewReader("new content"))
			wantErr(t, "write", err, tt.wantErr)
			if tt.wantErr != nil {
				return
			}
			p := filepath.Join(f.vol, tt.wantFile)
			fi, err := os.Lstat(p)
			if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != tt.wantMode || f.read(t, tt.wantFile) != "new content" {
				t.Fatalf("%s: %v %v", tt.wantFile, fi.Mode(), err)
			}
			if uid, gid := owner(t, p); uid != gameUID || gid != gameGID {
				t.Errorf("%s owned by %d:%d, want the game's %d:%d", tt.wantFile, uid, gid, gameUID, gameGID)
			}
		})
	}
	for _, d := range []string{"a", "a/b"} {
		if uid, _ := owner(t, filepath.Join(f.vol, d)); uid != gameUID {
			t.Errorf("made directory %s owned by %d", d, uid)
		}
	}
	if l, _ := os.Readlink(filepath.Join(f.vol, "link.txt")); l != "target.txt" {
		t.Errorf("the symlink written through became %q", l)
	}
	noTemp(t, f.vol)
}

// noTemp fails if a temp file or staging directory was left in dir.
func noTemp(t testing.TB, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".catalyst-") {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestWriteFailureLeavesTheOldFile(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.put(t, map[string]string{"server.properties": "motd=old"})
	body := io.MultiReader(strings.NewReader(strings.Repeat("x", 3<<20)), failingReader{})
	if _, err := f.v.Write(context.Background(), "server.properties", body); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("write = %v, want the body's error", err)
	}
	if got := f.read(t, "server.properties"); got != "motd=old" {
		t.Fatalf("old file = %q", got)
	}
	noTemp(t, f.vol)
}

func TestWriteOverQuotaLeavesNothing(t *testing.T) {
	f := newFixture(t, nil, &budget{left: 2 << 20})
	before := snapshot(t, f.vol, false)
	_, err := f.v.Write(context.Background(), "new/dir/big.bin", bytes.NewReader(make([]byte, 5<<20)))
	if !errors.Is(err, metrics.ErrOverQuota) || !strings.Contains(err.Error(), "/new/dir/big.bin") {
		t.Fatalf("write = %v, want ErrOverQuota naming the path", err)
	}
	sameSnapshot(t, "volume", before, snapshot(t, f.vol, false))
}

// A body far larger than any buffer is streamed: the write allocates a
// fixed buffer, not the body.
func TestWriteStreamsWithFixedMemory(t *testing.T) {
	f := newFixture(t, nil, nil)
	const size = 64 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fi, err := f.v.Write(context.Background(), "big.bin", io.LimitReader(zeros{}, size))
	runtime.ReadMemStats(&after)
	if err != nil || fi.Size != size {
		t.Fatalf("write = %+v, %v", fi, err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Fatalf("writing %d MiB allocated %d MiB", size>>20, alloc>>20)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func multipartBody(t testing.TB, parts [][2]string) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p[0] == "" {
			w, err = mw.CreateFormField("note")
		} else {
			w, err = mw.CreateFormFile("files", p[0])
		}
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, p[1])
	}
	mw.Close()
	return &buf, mw.Boundary()
}

func TestUpload(t *testing.T) {
	tests := []struct {
		name      string
		parts     [][2]string
		max       int64
		quota     int64
		wantErr   error
		wantText  string
		wantFiles map[string]string // what the directory holds after
	}{
		{"several files", [][2]string{{"a.txt", "aaa"}, {"", "skipped"}, {"b.jar", "bbbb"}, {`C:\Users\me\c.yml`, "c: 1"}}, 0, 1 << 30, nil, "",
			map[string]string{"up/a.txt": "aaa", "up/b.jar": "bbbb", "up/c.yml": "c: 1"}},
		{"past the limit: the earlier files stay", [][2]string{{"a.txt", "aaa"}, {"b.txt", strings.Repeat("b", 100)}}, 50, 1 << 30,
			files.ErrTooLarge, "limit of 50 B (uploaded before it: /up/a.txt)", map[string]string{"up/a.txt": "aaa"}},
		{"over quota: the earlier files stay", [][2]string{{"a.txt", "aaa"}, {"b.txt", strings.Repeat("b", 100)}}, 0, 10,
			metrics.ErrOverQuota, "uploaded before it: /up/a.txt", map[string]string{"up/a.txt": "aaa"}},
		{"a part naming no file", [][2]string{{"..", "x"}}, 0, 1 << 30, files.ErrInvalid, "names no file", map[string]string{}},
		{"no files at all", [][2]string{{"", "just a field"}}, 0, 1 << 30, files.ErrInvalid, "no \"files\" part", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, &budget{left: tt.quota})
			f.put(t, map[string]string{"up/": ""})
			body, boundary := multipartBody(t, tt.parts)
			_, err := f.v.Upload(context.Background(), "/up", multipart.NewReader(body, boundary), tt.max)
			wantErr(t, "upload", err, tt.wantErr)
			if err != nil && !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("upload = %v, want %q in it", err, tt.wantText)
			}
			got := map[string]string{}
			for name, desc := range snapshot(t, filepath.Join(f.vol, "up"), false) {
				if name != "." {
					got["up/"+name] = f.read(t, "up/"+name)
					if !strings.Contains(desc, "1000:1001") {
						t.Errorf("%s: %s, want it owned by the game", name, desc)
					}
				}
			}
			if len(got) != len(tt.wantFiles) {
				t.Fatalf("directory holds %v, want %v", got, tt.wantFiles)
			}
			for k, v := range tt.wantFiles {
				if got[k] != v {
					t.Fatalf("directory holds %v, want %v", got, tt.wantFiles)
				}
			}
		})
	}
}

func TestMkdirRenameCopyDelete(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil, nil)
	f.put(t, map[string]string{"world/level.dat": "level", "world/region/r.0.0.mca": "region", "a.txt": "a", "b.txt": "b", "pack.tar.gz": "gz", ".env": "env"})
	f.link(t, "level.dat", "world/current")
	steps := []struct {
		name string
		op   func() error
		want error
		// check runs after a successful op.
		check func(t *testing.T)
	}{
		{"mkdir makes parents", func() error { _, err := f.v.Mkdir("/plugins/Essentials"); return err }, nil, func(t *testing.T) {
			if uid, _ := owner(t, filepath.Join(f.vol, "plugins")); uid != gameUID {
				t.Error("made parent not the game's")
			}
		}},
		{"mkdir of an existing directory", func() error { _, err := f.v.Mkdir("/plugins"); return err }, nil, nil},
		{"mkdir over a file", func() error { _, err := f.v.Mkdir("/a.txt"); return err }, fs.ErrExist, nil},
		{"rename onto an existing file", func() error { return f.v.Rename("a.txt", "b.txt") }, fs.ErrExist, nil},
		{"rename to itself", func() error { return f.v.Rename("a.txt", "/x/../a.txt") }, nil, nil},
		{"rename into itself", func() error { return f.v.Rename("world", "world/inner") }, files.ErrInvalid, nil},
		{"rename the top", func() error { return f.v.Rename("/", "x") }, files.ErrInvalid, nil},
		{"rename a missing file", func() error { return f.v.Rename("nope", "x") }, fs.ErrNotExist, nil},
		{"rename makes parents", func() error { return f.v.Rename("a.txt", "archive/old/a.txt") }, nil, func(t *testing.T) {
			if f.read(t, "archive/old/a.txt") != "a" {
				t.Error("not moved")
			}
		}},
		{"copy a file picks a free name", func() error { _, err := f.v.Copy(ctx, "b.txt", ""); return err }, nil, func(t *testing.T) {
			if f.read(t, "b copy.txt") != "b" {
				t.Error("no copy")
			}
		}},
		{"a second copy", func() error { _, err := f.v.Copy(ctx, "b.txt", ""); return err }, nil, func(t *testing.T) { f.read(t, "b copy 2.txt") }},
		{"copy keeps .tar.gz whole", func() error { _, err := f.v.Copy(ctx, "pack.tar.gz", ""); return err }, nil, func(t *testing.T) { f.read(t, "pack copy.tar.gz") }},
		{"copy of a dot file", func() error { _, err := f.v.Copy(ctx, ".env", ""); return err }, nil, func(t *testing.T) { f.read(t, ".env copy") }},
		{"copy a directory with its symlink", func() error { _, err := f.v.Copy(ctx, "world", "backup/world"); return err }, nil, func(t *testing.T) {
			if f.read(t, "backup/world/region/r.0.0.mca") != "region" {
				t.Error("region not copied")
			}
			if l, err := os.Readlink(filepath.Join(f.vol, "backup/world/current")); err != nil || l != "level.dat" {
				t.Errorf("symlink copied as %q, %v", l, err)
			}
			if uid, _ := owner(t, filepath.Join(f.vol, "backup/world/region/r.0.0.mca")); uid != gameUID {
				t.Error("copy not the game's")
			}
		}},
		{"copy onto an existing path", func() error { _, err := f.v.Copy(ctx, "b.txt", "pack.tar.gz"); return err }, fs.ErrExist, nil},
		{"copy into itself", func() error { _, err := f.v.Copy(ctx, "world", "world/again"); return err }, files.ErrInvalid, nil},
		{"delete the top", func() error { return f.v.Delete(ctx, []string{"/"}) }, files.ErrInvalid, nil},
		{"delete with a missing path deletes nothing", func() error { return f.v.Delete(ctx, []string{"b.txt", "nope"}) }, fs.ErrNotExist, func(t *testing.T) {}},
		{"delete files and directories", func() error { return f.v.Delete(ctx, []string{"b.txt", "world"}) }, nil, func(t *testing.T) {
			for _, p := range []string{"b.txt", "world"} {
				if _, err := os.Lstat(filepath.Join(f.vol, p)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s still there", p)
				}
			}
		}},
		{"delete nothing", func() error { return f.v.Delete(ctx, nil) }, files.ErrInvalid, nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			wantErr(t, s.name, s.op(), s.want)
			if s.check != nil && s.want == nil {
				s.check(t)
			}
		})
	}
	if f.read(t, "b copy.txt") != "b" {
		t.Error("a failed delete removed something")
	}
	noTemp(t, f.vol)
}

func TestCopyOverQuotaLeavesNothing(t *testing.T) {
	f := newFixture(t, nil, &budget{left: 3 << 20})
	f.put(t, map[string]string{"world/a.bin": strings.Repeat("a", 2<<20), "world/b.bin": strings.Repeat("b", 2<<20)})
	before := snapshot(t, f.vol, false)
	if _, err := f.v.Copy(context.Background(), "world", "deep/copy"); !errors.Is(err, metrics.ErrOverQuota) {
		t.Fatalf("copy = %v, want ErrOverQuota", err)
	}
	sameSnapshot(t, "volume", before, snapshot(t, f.vol, false))
}

func TestChmod(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.put(t, map[string]string{"start.sh": "#!/bin/sh"})
	f.link(t, "start.sh", "link")
	tests := []struct {
		path, mode string
		want       error
		wantMode   fs.FileMode
	}{
		{"start.sh", "0755", nil, 0o755},
		{"start.sh", "640", nil, 0o640},
		{"link", "0700", nil, 0o700}, // the target changes
		{"start.sh", "4755", files.ErrInvalid, 0o700},
		{"start.sh", "1777", files.ErrInvalid, 0o700},
		{"start.sh", "0778", files.ErrInvalid, 0o700},
		{"start.sh", "rwx", files.ErrInvalid, 0o700},
		{"start.sh", "07", files.ErrInvalid, 0o700},
		{"start.sh", "-644", files.ErrInvalid, 0o700},
		{"missing", "0644", fs.ErrNotExist, 0o700},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.mode, func(t *testing.T) {
			wantErr(t, "chmod", f.v.Chmod(tt.path, tt.mode), tt.want)
			fi, _ := os.Stat(filepath.Join(f.vol, "start.sh"))
			if fi.Mode().Perm() != tt.wantMode {
				t.Errorf("mode = %v, want %v", fi.Mode().Perm(), tt.wantMode)
			}
		})
	}
}

func TestSetModeRefusesSpecialBits(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.put(t, map[string]string{"start.sh": "#!/bin/sh"})
	for _, m := range []fs.FileMode{fs.ModeSetuid | 0o755, fs.ModeSetgid | 0o755, fs.ModeSticky | 0o755, 0o4755} {
		wantErr(t, "set mode", f.v.SetMode("start.sh", m), files.ErrInvalid)
	}
	wantErr(t, "set mode", f.v.SetMode("start.sh", 0o750), nil)
	if fi, _ := os.Stat(filepath.Join(f.vol, "start.sh")); fi.Mode() != 0o750 {
		t.Fatalf("mode = %v", fi.Mode())
	}
}

func TestSearch(t *testing.T) {
	f := newFixture(t, []string{"secret*"}, nil)
	f.put(t, map[string]string{"plugins/EssentialsX.jar": "", "plugins/essentials/config.yml": "", "world/ESS.dat": "", "secret/essentials.txt": "", "other.txt": ""})
	f.link(t, "plugins", "plugins-link")
	tests := []struct {
		name, dir, query string
		limit            int
		want             string
		wantErr          error
	}{
		{"case-insensitive, symlinks not followed, denied hidden", "/", "ess", 0, "EssentialsX.jar essentials ESS.dat", nil},
		{"under a directory", "/world", "ess", 0, "ESS.dat", nil},
		{"limited", "/", "ess", 1, "EssentialsX.jar", nil},
		{"empty query", "/", " ", 0, "", files.ErrInvalid},
		{"limit over the maximum", "/", "x", files.MaxSearchLimit + 1, "", files.ErrInvalid},
		{"in a denied directory", "/secret", "e", 0, "", files.ErrDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := f.v.Search(context.Background(), tt.dir, tt.query, tt.limit)
			wantErr(t, "search", err, tt.wantErr)
			if err == nil && (names(l.Entries) != tt.want || l.Total != len(l.Entries)) {
				t.Errorf("search = %q (total %d), want %q", names(l.Entries), l.Total, tt.want)
			}
		})
	}
}

func TestDenylist(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, []string{"*.jar", "config/secret.yml"}, nil)
	f.put(t, map[string]string{"server.jar": "jar", "config/secret.yml": "s", "config/ok.yml": "ok", "plugins/x.jar": "x"})
	f.link(t, "config", "cfg")
	f.link(t, "server.jar", "innocent.txt")
	tests := []struct {
		name string
		op   func() error
	}{
		{"read", func() error { _, _, err := f.v.OpenRead("server.jar"); return err }},
		{"read a nested match", func() error { _, _, err := f.v.OpenRead("/config/secret.yml"); return err }},
		{"read through a symlinked directory", func() error { _, _, err := f.v.OpenRead("cfg/secret.yml"); return err }},
		{"read through a symlink to a denied file", func() error { _, _, err := f.v.OpenRead("innocent.txt"); return err }},
		{"write", func() error { _, err := f.v.Write(ctx, "new.jar", strings.NewReader("x")); return err }},
		{"write through a symlinked directory", func() error { _, err := f.v.Write(ctx, "cfg/secret.yml", strings.NewReader("x")); return err }},
		{"write through a symlink to a denied file", func() error { _, err := f.v.Write(ctx, "innocent.txt", strings.NewReader("x")); return err }},
		{"stat", func() error { _, err := f.v.Stat("plugins/x.jar"); return err }},
		{"chmod through a symlink", func() error { return f.v.Chmod("innocent.txt", "0777") }},
		{"delete", func() error { return f.v.Delete(ctx, []string{"server.jar"}) }},
		{"delete a directory holding a denied file", func() error { return f.v.Delete(ctx, []string{"plugins"}) }},
		{"rename a directory holding a denied file", func() error { return f.v.Rename("config", "conf") }},
		{"rename onto a denied name", func() error { return f.v.Rename("config/ok.yml", "ok.jar") }},
		{"copy to a denied name", func() error { _, err := f.v.Copy(ctx, "config/ok.yml", "ok.jar"); return err }},
		{"mkdir", func() error { _, err := f.v.Mkdir("dir.jar"); return err }},
	}
	before := snapshot(t, f.vol, true)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.name, tt.op(), files.ErrDenied) })
	}
	sameSnapshot(t, "volume", before, snapshot(t, f.vol, true))

	l, err := f.v.List(ctx, "/", files.ListOptions{})
	if err != nil || names(l.Entries) != "config plugins cfg innocent.txt" || l.Total != 4 {
		t.Errorf("list = %q %v, want the jar hidden", names(l.Entries), err)
	}
	l, err = f.v.List(ctx, "/cfg", files.ListOptions{})
	if err != nil || names(l.Entries) != "ok.yml" {
		t.Errorf("list through a symlink = %q %v, want the secret hidden", names(l.Entries), err)
	}
	// A copy of a directory leaves out what is denied in it.
	if _, err := f.v.Copy(ctx, "config", "config2"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(f.vol, "config2/secret.yml")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("copy took the denied file along")
	}
}

func TestOddFilesAreNeverOpened(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.put(t, map[string]string{"dir/ok.txt": "ok"})
	if err := unix.Mkfifo(filepath.Join(f.vol, "dir/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	// /dev/null's numbers: a device node a game could make to reach the
	// host's devices.
	if err := unix.Mknod(filepath.Join(f.vol, "dir/dev"), unix.S_IFCHR|0o644, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	f.link(t, "dir/fifo", "fifolink")
	for _, p := range []string{"dir/fifo", "dir/dev", "fifolink"} {
		if _, _, err := f.v.OpenRead(p); !errors.Is(err, files.ErrInvalid) || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("read %s = %v, want ErrInvalid", p, err)
		}
	}
	if _, _, err := f.v.OpenRead("dir"); !errors.Is(err, files.ErrInvalid) || !strings.Contains(err.Error(), "compress it first") {
		t.Errorf("read dir = %v, want compress it first", err)
	}
	// A copy and an archive of the directory skip them.
	if _, err := f.v.Copy(context.Background(), "dir", "copy"); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, filepath.Join(f.vol, "copy"), false); len(got) != 2 {
		t.Errorf("copy holds %v, want only ok.txt", got)
	}
	if _, err := f.v.Compress(context.Background(), wire.CompressRequest{Directory: "/", Paths: []string{"dir"}, Format: wire.ArchiveTarGz, Name: "a"}); err != nil {
		t.Fatal(err)
	}
}
