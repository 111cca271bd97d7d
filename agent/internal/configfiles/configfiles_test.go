package configfiles_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"catalyst.dev/agent/internal/configfiles"
	"catalyst.dev/agent/internal/files"
	"catalyst.dev/agent/internal/metrics"
	"catalyst.dev/sdk/wire"
)

// Symlinks a game or a user planted must lead neither reads nor writes out
// of the volume, and nothing outside may change.
func TestSymlinksOutOfTheVolume(t *testing.T) {
	tests := []struct {
		name   string
		plant  func(f *fixture) error
		path   string
		parser string
		// inside: the path stays in the volume, where the file is made.
		inside string
	}{
		{
			name: "the file links to one outside",
			plant: func(f *fixture) error {
				return os.Symlink(filepath.Join(f.outside, "secret"), filepath.Join(f.vol, "server.properties"))
			},
			path:   "server.properties",
			parser: wire.ParserProperties,
		},
		{
			name:   "the file links to one outside, relatively",
			plant:  func(f *fixture) error { return os.Symlink("../outside/secret", filepath.Join(f.vol, "config.yml")) },
			path:   "config.yml",
			parser: wire.ParserYAML,
		},
		{
			name:   "a parent directory links outside",
			plant:  func(f *fixture) error { return os.Symlink(f.outside, filepath.Join(f.vol, "config")) },
			path:   "config/secret",
			parser: wire.ParserINI,
		},
		{
			name:   "a parent directory links outside and the file is new",
			plant:  func(f *fixture) error { return os.Symlink(f.outside, filepath.Join(f.vol, "config")) },
			path:   "config/new.json",
			parser: wire.ParserJSON,
		},
		{
			name:   "a parent directory links to the root",
			plant:  func(f *fixture) error { return os.Symlink("/", filepath.Join(f.vol, "config")) },
			path:   "config/etc/passwd",
			parser: wire.ParserFile,
		},
		{
			name:   "dot-dots in the path stay at the top",
			plant:  func(f *fixture) error { return nil },
			path:   "../outside/secret",
			parser: wire.ParserProperties,
			inside: "outside/secret",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if err := os.WriteFile(filepath.Join(f.outside, "secret"), []byte("root:x:0:0\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := tt.plant(f); err != nil {
				t.Fatal(err)
			}
			passwd, err := os.ReadFile("/etc/passwd")
			if err != nil {
				t.Fatal(err)
			}
			err = f.apply(tt.path, tt.parser, set("root:x", "pwned"), set("a.b", "pwned"))
			if tt.inside != "" {
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				if got := f.get(t, tt.inside); got != "root\\:x=pwned\na.b=pwned\n" {
					t.Errorf("%s in the volume = %q", tt.inside, got)
				}
			} else if !errors.Is(err, files.ErrInvalid) || !strings.Contains(err.Error(), "outside the server's volume") {
				t.Errorf("Apply: %v, want an error saying the path leads outside the volume", err)
			}
			if b, _ := os.ReadFile(filepath.Join(f.outside, "secret")); string(b) != "root:x:0:0\n" {
				t.Errorf("the file outside changed: %q", b)
			}
			if entries, _ := os.ReadDir(f.outside); len(entries) != 1 {
				t.Errorf("files appeared outside the volume: %v", entries)
			}
			if b, _ := os.ReadFile("/etc/passwd"); string(b) != string(passwd) {
				t.Fatal("/etc/passwd changed")
			}
		})
	}
}

func TestWritesKeepModeAndOwnership(t *testing.T) {
	f := newFixture(t, nil)
	f.put(t, "server.properties", "a=1\n")
	p := filepath.Join(f.vol, "server.properties")
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.apply("server.properties", wire.ParserProperties, set("a", "2")); err != nil {
		t.Fatal(err)
	}
	if err := f.apply("config/sub/new.yml", wire.ParserYAML, set("a", "1")); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"server.properties": 0o600, "config/sub/new.yml": 0o644, "config": 0o755 | os.ModeDir} {
		fi, err := os.Stat(filepath.Join(f.vol, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode(), mode)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != gameUID || st.Gid != gameGID {
			t.Errorf("%s: owned by %d:%d, want the game's %d:%d", name, st.Uid, st.Gid, gameUID, gameGID)
		}
	}
	if got := f.get(t, "server.properties"); got != "a=2\n" {
		t.Errorf("server.properties = %q", got)
	}
	entries, err := os.ReadDir(f.vol)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".catalyst-") {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
}

func TestSymlinkInsideTheVolumeIsWrittenThrough(t *testing.T) {
	f := newFixture(t, nil)
	f.put(t, "real/server.properties", "a=1\n")
	if err := os.Symlink("real/server.properties", filepath.Join(f.vol, "server.properties")); err != nil {
		t.Fatal(err)
	}
	if err := f.apply("server.properties", wire.ParserProperties, set("a", "2")); err != nil {
		t.Fatal(err)
	}
	if got := f.get(t, "real/server.properties"); got != "a=2\n" {
		t.Errorf("the link's target = %q", got)
	}
	if fi, err := os.Lstat(filepath.Join(f.vol, "server.properties")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is gone: %v, %v", fi, err)
	}
}

// quota approves a fixed number of bytes.
type quota struct{ left uint64 }

func (q *quota) CheckWrite(id string, n uint64) error {
	if n > q.left {
		return fmt.Errorf("%w: server %s: %d bytes more do not fit", metrics.ErrOverQuota, id, n)
	}
	q.left -= n
	return nil
}

func TestQuotaIsRespected(t *testing.T) {
	f := newFixture(t, &quota{left: 10})
	f.put(t, "server.properties", "motd=x\n")
	err := f.apply("server.properties", wire.ParserProperties, set("motd", strings.Repeat("long ", 10)))
	if !errors.Is(err, metrics.ErrOverQuota) {
		t.Errorf("Apply: %v, want ErrOverQuota", err)
	}
	if got := f.get(t, "server.properties"); got != "motd=x\n" {
		t.Errorf("the file changed: %q", got)
	}
}

func TestWhatIsNotAConfigFileIsLeftAlone(t *testing.T) {
	f := newFixture(t, nil)
	big := strings.Repeat("x", configfiles.MaxFileBytes+1)
	f.put(t, "big.properties", big)
	if err := os.Mkdir(filepath.Join(f.vol, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(f.vol, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, parser, want string
	}{
		{"big.properties", wire.ParserProperties, "it is larger than 8 MiB, too large for a config file"},
		{"dir", wire.ParserYAML, "open /dir: invalid request: it is a directory"},
		{"fifo", wire.ParserJSON, "open /fifo: invalid request: it is not a regular file (a FIFO)"},
		{"a.toml", "toml", `unknown parser "toml" (want properties, yaml, json, ini or file)`},
		{"/", wire.ParserINI, "open /: invalid request: it is the volume's top directory"},
	}
	for _, tt := range tests {
		err := f.apply(tt.path, tt.parser, set("a", "1"))
		var ce *configfiles.Error
		if !errors.As(err, &ce) || ce.Skipped || ce.Path != tt.path || !strings.HasSuffix(err.Error(), "left as it was: "+tt.want) {
			t.Errorf("%s: %v, want a file error ending in %q", tt.path, err, tt.want)
		}
	}
	if len(f.get(t, "big.properties")) != len(big) {
		t.Error("the large file changed")
	}
}

// One failing file stops neither the others nor the replacements after a
// skipped one.
func TestFailuresDoNotStopTheRest(t *testing.T) {
	f := newFixture(t, nil)
	f.put(t, "bad.yml", "a: [\n")
	f.put(t, "good.yml", "a: 1\n")
	err := configfiles.Apply(context.Background(), f.v, []wire.ConfigFile{
		{Path: "bad.yml", Parser: wire.ParserYAML, Replace: []wire.ConfigReplace{set("a", "2")}},
		{Path: "good.yml", Parser: wire.ParserYAML, Replace: []wire.ConfigReplace{set("a.b[1]", "x"), set("a", "2")}},
		{Path: "new.properties", Parser: wire.ParserProperties, Replace: []wire.ConfigReplace{set("port", "25565")}},
	})
	errs := unjoin(err)
	if len(errs) != 2 {
		t.Fatalf("Apply: %v, want two errors", err)
	}
	if !strings.Contains(errs[0].Error(), "config file bad.yml (yaml) left as it was: it is not valid YAML") {
		t.Errorf("first error: %v", errs[0])
	}
	if !strings.Contains(errs[1].Error(), `config file good.yml (yaml): "a.b[1]" not set: a is the value "1", not a mapping`) {
		t.Errorf("second error: %v", errs[1])
	}
	if got := f.get(t, "good.yml"); got != "a: 2\n" {
		t.Errorf("good.yml = %q", got)
	}
	if got := f.get(t, "new.properties"); got != "port=25565\n" {
		t.Errorf("new.properties = %q", got)
	}
}

// The Writer is what the server manager calls: it opens the volume by
// its directory, as the game's user.
func TestWriterWritesIntoTheVolume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "volume")
	w := configfiles.NewWriter(nil, gameUID, gameGID)
	err := w.WriteConfigFiles(context.Background(), "srv", dir, []wire.ConfigFile{
		{Path: "server.properties", Parser: wire.ParserProperties, Replace: []wire.ConfigReplace{set("server-port", "25566")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "server.properties"))
	if err != nil || string(b) != "server-port=25566\n" {
		t.Errorf("server.properties = %q, %v", b, err)
	}
}

// An empty Match is skipped whatever the parser, and the replacements
// after it still apply.
func TestEmptyMatchIsSkipped(t *testing.T) {
	tests := []struct{ parser, in, match, want string }{
		{wire.ParserProperties, "a=1\n=x\n", "a", "a=2\n=x\n"},
		{wire.ParserFile, "a=1\n", "a=", "2\n"},
		{wire.ParserINI, "a=1\n", "a", "a=2\n"},
		{wire.ParserYAML, "a: 1\n", "a", "a: 2\n"},
		{wire.ParserJSON, "{\"a\": 1}\n", "a", "{\n  \"a\": 2\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.parser, func(t *testing.T) {
			got, err := rewrite(t, tt.parser, tt.in, set("", "2"), set(tt.match, "2"))
			wantSkipped(t, err, map[string]string{"": "the match is empty"})
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// A cancelled context (the start was called off) stops Apply before the
// next file.
func TestCancelStopsApply(t *testing.T) {
	f := newFixture(t, nil)
	f.put(t, "server.properties", "a=1\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := configfiles.Apply(ctx, f.v, []wire.ConfigFile{
		{Path: "server.properties", Parser: wire.ParserProperties, Replace: []wire.ConfigReplace{set("a", "2")}},
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Apply: %v, want context.Canceled", err)
	}
	if got := f.get(t, "server.properties"); got != "a=1\n" {
		t.Errorf("server.properties = %q, want it as it was", got)
	}
}
