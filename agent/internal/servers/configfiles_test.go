package servers_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"catalyst.dev/agent/internal/configfiles"
	"catalyst.dev/agent/internal/servers"
	"catalyst.dev/sdk/wire"
)

// The config files are rewritten before every start: the game reads the
// values the template set, on the first start and again on a restart
// after a crash, after the game itself changed the file. A file that
// cannot be rewritten is reported and the server starts all the same.
func TestConfigFilesAreRewrittenBeforeEachStart(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, nil, "", servers.Options{ConfigFiles: configfiles.NewWriter(nil, -1, -1)})
	cfg := h.config(nil)
	cfg.Restart = wire.RestartPolicy{Mode: wire.RestartOnCrash, Backoff: wire.Duration(10 * time.Millisecond)}
	cfg.ConfigFiles = []wire.ConfigFile{
		{Path: "server.properties", Parser: wire.ParserProperties, Replace: []wire.ConfigReplace{
			{Match: "server-port", Value: "25599"},
			{Match: "motd", Value: "Catalyst demo"},
		}},
		{Path: "config/broken.yml", Parser: wire.ParserYAML, Replace: []wire.ConfigReplace{{Match: "a", Value: "1"}}},
	}
	cfg = h.configured(cfg)
	dir, _, err := h.m.Volume(cfg.ID)
	if err != nil {
		t.Fatal(err)
	}
	// What an installer would have left.
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "server.properties"), []byte("# from the installer\nserver-port=25565\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config", "broken.yml"), []byte("a: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	h.power(cfg.ID, wire.PowerStart)
	h.expectStates(cfg.ID, wire.StateStarting, wire.StateRunning)
	msg := h.waitMessage(cfg.ID, "config file config/broken.yml (yaml) left as it was: it is not valid YAML")
	if msg.Level != wire.LevelWarning {
		t.Errorf("message level %q, want warning", msg.Level)
	}
	h.command(cfg.ID, "cat /home/container/server.properties")
	h.waitLine(cfg.ID, "cat: # from the installer")
	h.waitLine(cfg.ID, "cat: server-port=25599")
	h.waitLine(cfg.ID, "cat: motd=Catalyst demo")

	// The game overwrites its config and crashes; the restart sets the
	// values again before the game reads them.
	h.command(cfg.ID, "write /home/container/server.properties")
	h.waitLine(cfg.ID, "write ok /home/container/server.properties")
	h.command(cfg.ID, "crash 3")
	h.expectStates(cfg.ID, wire.StateCrashed, wire.StateStarting, wire.StateRunning)
	h.command(cfg.ID, "cat /home/container/server.properties")
	h.waitLine(cfg.ID, "cat: written by gamesrv")
	want := "written by gamesrv\nserver-port=25599\nmotd=Catalyst demo\n"
	if b, err := os.ReadFile(filepath.Join(dir, "server.properties")); err != nil || string(b) != want {
		t.Errorf("server.properties after the restart = %q, %v; want %q", b, err, want)
	}
}
