package source

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/plugins/templates-eggs/internal/egg"
	"catalyst.dev/sdk/plugin"
)

// eggDir copies the testdata eggs into a new directory beside files that
// are not eggs, and returns it.
func eggDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"minecraft/vanilla.json", "minecraft/paper.json", "steam/longship.json"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, name), data)
	}
	write(t, filepath.Join(dir, "broken.json"), []byte(`{"meta": {"version": "PTDL_v2"}, "name": `))
	write(t, filepath.Join(dir, "notes.txt"), []byte("not an egg"))
	write(t, filepath.Join(dir, "huge.json"), bytes.Repeat([]byte(" "), egg.MaxSize+1))
	return dir
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// configured returns a source configured with cfg, and the log it writes.
func configured(t *testing.T, cfg string) (*Source, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	s := New(hclog.New(&hclog.LoggerOptions{Output: &log, Level: hclog.Warn}))
	if err := s.Configure(context.Background(), plugin.Config(cfg)); err != nil {
		t.Fatalf("Configure(%s): %v", cfg, err)
	}
	return s, &log
}

func TestListConvertsEveryEgg(t *testing.T) {
	dir := eggDir(t)
	s, log := configured(t, `{"directory": "`+dir+`"}`)
	list, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, sum := range list {
		ids = append(ids, sum.ID)
	}
	if want := []string{"minecraft/paper", "minecraft/vanilla", "steam/longship"}; !slices.Equal(ids, want) {
		t.Errorf("listed %v, want %v", ids, want)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "minecraft/paper.json"))
	if list[0].Name != "Paper" || list[0].Version != egg.Version(data) || len(list[0].Version) != 16 {
		t.Errorf("summary %+v, want Paper with version %s", list[0], egg.Version(data))
	}
	for _, skipped := range []string{"broken.json", "huge.json"} {
		if !strings.Contains(log.String(), skipped) {
			t.Errorf("the log does not name the skipped %s:\n%s", skipped, log)
		}
	}
	if strings.Contains(log.String(), "notes.txt") {
		t.Errorf("a file that is not .json was read:\n%s", log)
	}
}

// A changed file shows in the next List and Fetch with a new version.
func TestListSeesChanges(t *testing.T) {
	dir := eggDir(t)
	s, _ := configured(t, `{"directory": "`+dir+`"}`)
	vanilla := func() (plugin.TemplateSummary, plugin.Template) {
		t.Helper()
		list, err := s.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(list, func(sum plugin.TemplateSummary) bool { return sum.ID == "minecraft/vanilla" })
		if i < 0 {
			t.Fatalf("minecraft/vanilla is not listed: %+v", list)
		}
		tpl, err := s.Fetch(context.Background(), "minecraft/vanilla")
		if err != nil {
			t.Fatal(err)
		}
		return list[i], tpl
	}
	before, _ := vanilla()
	path := filepath.Join(dir, "minecraft/vanilla.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write(t, path, bytes.Replace(data, []byte(`"Vanilla Minecraft"`), []byte(`"Vanilla"`), 1))
	listed, fetched := vanilla()
	if listed.Name != "Vanilla" || listed.Version == before.Version {
		t.Errorf("listed after the change: %s %s, before: %s %s", listed.Name, listed.Version, before.Name, before.Version)
	}
	if fetched.Name != listed.Name || fetched.Version != listed.Version {
		t.Errorf("fetched after the change: %s %s, listed: %s %s", fetched.Name, fetched.Version, listed.Name, listed.Version)
	}
}

func TestFetchStaysInTheDirectory(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "eggs")
	data, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "minecraft/paper.json"))
	write(t, filepath.Join(dir, "paper.json"), data)
	write(t, filepath.Join(parent, "outside.json"), data)
	if err := os.Symlink(filepath.Join(parent, "outside.json"), filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(parent, filepath.Join(dir, "up")); err != nil {
		t.Fatal(err)
	}
	s, _ := configured(t, `{"directory": "`+dir+`"}`)
	if _, err := s.Fetch(context.Background(), "paper"); err != nil {
		t.Fatalf("Fetch paper: %v", err)
	}
	for _, id := range []string{"../outside", "/" + filepath.Join(parent, "outside"), "link", "up/outside", "./paper", "paper/", "", "missing", `..\outside`} {
		t.Run(id, func(t *testing.T) {
			if _, err := s.Fetch(context.Background(), id); !errors.Is(err, plugin.ErrNotFound) {
				t.Errorf("Fetch(%q) = %v, want ErrNotFound", id, err)
			}
		})
	}
	list, _ := s.List(context.Background())
	if len(list) != 1 || list[0].ID != "paper" {
		t.Errorf("List = %+v, want only paper (links leave the directory)", list)
	}
}

func TestFetchInvalidEgg(t *testing.T) {
	dir := eggDir(t)
	s, _ := configured(t, `{"directory": "`+dir+`"}`)
	_, err := s.Fetch(context.Background(), "broken")
	if !errors.Is(err, plugin.ErrInvalidArgument) || !strings.Contains(err.Error(), "broken.json") {
		t.Errorf("Fetch(broken) = %v, want ErrInvalidArgument naming broken.json", err)
	}
}

func TestWithoutDirectory(t *testing.T) {
	s, _ := configured(t, `{}`)
	if list, err := s.List(context.Background()); err != nil || len(list) != 0 {
		t.Errorf("List = %v, %v; want nothing", list, err)
	}
	if _, err := s.Fetch(context.Background(), "paper"); !errors.Is(err, plugin.ErrNotFound) {
		t.Errorf("Fetch = %v, want ErrNotFound", err)
	}
}

func TestConfigureRejectsBadDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	write(t, file, nil)
	for _, dir := range []string{file, filepath.Join(t.TempDir(), "missing")} {
		err := New(hclog.NewNullLogger()).Configure(context.Background(), plugin.Config(`{"directory": "`+dir+`"}`))
		if !errors.Is(err, plugin.ErrInvalidArgument) || !strings.Contains(err.Error(), "directory") {
			t.Errorf("Configure(%s) = %v, want ErrInvalidArgument naming the key", dir, err)
		}
	}
}

// A relative directory is relative to the working directory of the
// process, the core's.
func TestRelativeDirectory(t *testing.T) {
	dir := eggDir(t)
	t.Chdir(filepath.Dir(dir))
	s, _ := configured(t, `{"directory": "`+filepath.Base(dir)+`"}`)
	if _, err := s.Fetch(context.Background(), "steam/longship"); err != nil {
		t.Fatal(err)
	}
}

func TestParse(t *testing.T) {
	s, _ := configured(t, `{}`)
	data, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "minecraft/bungeecord.json"))
	tpl, err := s.Parse(context.Background(), `C:\Downloads\egg-bungeecord.json`, data)
	if err != nil {
		t.Fatal(err)
	}
	if tpl.ID != "egg-bungeecord" || tpl.Name != "BungeeCord Proxy" || len(tpl.Warnings) == 0 {
		t.Errorf("Parse = %s %q with %d warnings", tpl.ID, tpl.Name, len(tpl.Warnings))
	}
	_, err = s.Parse(context.Background(), "egg.json", []byte(`{"meta": {"version": "foo"}}`))
	if !errors.Is(err, plugin.ErrInvalidArgument) || !strings.Contains(err.Error(), `not a Pterodactyl egg: meta.version is "foo", want PTDL_v1 or PTDL_v2`) {
		t.Errorf("Parse(version foo) = %v", err)
	}
	_, err = s.Parse(context.Background(), "big.json", bytes.Repeat([]byte(" "), egg.MaxSize+1))
	if !errors.Is(err, plugin.ErrInvalidArgument) || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("Parse(too large) = %v", err)
	}
}
