package configfiles_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"catalyst.dev/agent/internal/configfiles"
	"catalyst.dev/agent/internal/files"
	"catalyst.dev/sdk/wire"
)

// The game's user in these tests: not the agent's (root), so ownership
// shows.
const gameUID, gameGID = 1000, 1001

// fixture is a volume in a fresh directory, beside a directory outside it
// that nothing may change.
type fixture struct {
	vol, outside string
	v            *files.Volume
}

func newFixture(t *testing.T, quota files.Quota) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{vol: filepath.Join(dir, "vol"), outside: filepath.Join(dir, "outside")}
	for _, d := range []string{f.vol, f.outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	v, err := files.OpenVolume("srv", f.vol, nil, quota, gameUID, gameGID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	f.v = v
	return f
}

// put writes a file into the volume directly, making its directories.
func (f *fixture) put(t *testing.T, name, content string) {
	t.Helper()
	p := filepath.Join(f.vol, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// get reads a file of the volume directly.
func (f *fixture) get(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.vol, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// apply applies one config file to the volume.
func (f *fixture) apply(path, parser string, repl ...wire.ConfigReplace) error {
	return configfiles.Apply(context.Background(), f.v, []wire.ConfigFile{{Path: path, Parser: parser, Replace: repl}})
}

// rewrite puts content at name (unless content is absent: "\x00"),
// applies repl with parser, and returns the file's new content and the
// error Apply returned.
func rewrite(t *testing.T, parser, content string, repl ...wire.ConfigReplace) (string, error) {
	t.Helper()
	f := newFixture(t, nil)
	if content != absent {
		f.put(t, "cfg", content)
	}
	err := f.apply("cfg", parser, repl...)
	b, rerr := os.ReadFile(filepath.Join(f.vol, "cfg"))
	if rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		t.Fatal(rerr)
	}
	return string(b), err
}

// absent, as rewrite's content, means no file.
const absent = "\x00"

// set is a replacement, for short tables.
func set(match, value string) wire.ConfigReplace {
	return wire.ConfigReplace{Match: match, Value: value}
}

// wantSkipped checks that err reports exactly the skipped replacements of
// matches, each with a message containing the matching text of want.
func wantSkipped(t *testing.T, err error, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, e := range unjoin(err) {
		var ce *configfiles.Error
		if !errors.As(e, &ce) || !ce.Skipped {
			t.Errorf("error %v is not a skipped replacement", e)
			continue
		}
		got[ce.Match] = ce.Error()
	}
	for m, text := range want {
		if !strings.Contains(got[m], text) {
			t.Errorf("skipped %q: %q, want it to contain %q", m, got[m], text)
		}
	}
	for m, msg := range got {
		if _, ok := want[m]; !ok {
			t.Errorf("unexpectedly skipped %q: %s", m, msg)
		}
	}
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
