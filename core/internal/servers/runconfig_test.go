package servers

import (
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
)

func TestSplitArgs(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  bool
	}{
		{"java -Xmx1024M -jar server.jar", []string{"java", "-Xmx1024M", "-jar", "server.jar"}, false},
		{"  spaced   out  ", []string{"spaced", "out"}, false},
		{`echo "hello world" 'single $quoted'`, []string{"echo", "hello world", "single $quoted"}, false},
		{`a\ b "c\"d" "e\f"`, []string{"a b", `c"d`, `e\f`}, false},
		{`empty "" ''`, []string{"empty", "", ""}, false},
		{`mixed"quo"'tes'`, []string{"mixedquotes"}, false},
		{"", nil, false},
		{`open "quote`, nil, true},
		{`open 'quote`, nil, true},
		{`trailing\`, nil, true},
	}
	for _, c := range cases {
		got, err := SplitArgs(c.in)
		if (err != nil) != c.err || !slices.Equal(got, c.want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q (error %v)", c.in, got, err, c.want, c.err)
		}
	}
}

func TestSubstitute(t *testing.T) {
	env := map[string]string{"A": "1", "NAME": "x y"}
	cases := map[string]string{
		"{{A}}":               "1",
		"-Xmx{{A}}M":          "-Xmx1M",
		"{{ A }}{{MISSING}}!": "1!",
		"{{NAME}}":            "x y",
		"{{not-a-var}} {A}":   "{{not-a-var}} {A}",
		"{{A}}{{A}}":          "11",
	}
	for in, want := range cases {
		if got := Substitute(in, env); got != want {
			t.Errorf("Substitute(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRunConfigFromTemplate(t *testing.T) {
	tmpl := &store.Template{
		Startup: `java -Xmx{{SERVER_MEMORY}}M -jar {{JAR}} --motd "{{MOTD}}" --level {{LEVEL}} {{UNSET}}`, StopCommand: "stop",
		StartupDone: []string{"Done ("}, Denylist: []string{"*.secret"},
		Variables: []store.TemplateVariable{
			{EnvName: "JAR", Default: "server.jar"}, {EnvName: "MOTD", Default: "hi"}, {EnvName: "LEVEL", Default: "world"},
		},
	}
	srv := &store.Server{ID: "s1", Image: "img", Startup: tmpl.Startup, MemoryMB: 1024, CPUPercent: 100, DiskMB: 5000, PidsLimit: 64,
		// A value with blanks and quotes stays one argument.
		Environment: map[string]string{"MOTD": `a "quoted" motd`, "LEVEL": "my world"},
		Allocations: []*store.Allocation{{IP: "10.0.0.1", Port: 25566}, {IP: "10.0.0.1", Port: 25565, Primary: true}},
	}
	cfg, err := RunConfig(srv, tmpl, 45*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wantArgv := []string{"java", "-Xmx1024M", "-jar", "server.jar", "--motd", `a "quoted" motd`, "--level", "my world", ""}
	if !slices.Equal(cfg.Argv, wantArgv) {
		t.Errorf("argv = %q, want %q", cfg.Argv, wantArgv)
	}
	if cfg.Env["SERVER_PORT"] != "25565" || cfg.Env["SERVER_IP"] != "10.0.0.1" || cfg.Env["SERVER_MEMORY"] != "1024" || cfg.Env["JAR"] != "server.jar" {
		t.Errorf("env = %v", cfg.Env)
	}
	if !slices.Equal(cfg.Denylist, tmpl.Denylist) {
		t.Errorf("denylist = %q, want the template's %q", cfg.Denylist, tmpl.Denylist)
	}
	if len(cfg.Ports) != 2 || cfg.Ports[0].Port != 25565 || cfg.StopCommand != "stop" || time.Duration(cfg.StopTimeout) != 45*time.Second ||
		cfg.Startup != `java -Xmx1024M -jar server.jar --motd "a "quoted" motd" --level my world ` {
		t.Errorf("config = %+v", cfg)
	}
	// The core's values win over the server's own.
	for _, name := range ReservedEnv {
		srv.Environment[name] = "mine"
	}
	env := Environment(srv, tmpl)
	for _, name := range ReservedEnv {
		if env[name] == "mine" {
			t.Errorf("%s overridden by the server's environment", name)
		}
	}
	srv.Startup = `broken "quote`
	if _, err := RunConfig(srv, tmpl, time.Second); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestRunConfigSubstitutesConfigFileValues(t *testing.T) {
	tmpl := &store.Template{Startup: "run", StartupDone: []string{")! For help", "regex:Done"},
		Variables: []store.TemplateVariable{{EnvName: "MOTD", Default: "hello"}},
		ConfigFiles: []store.TemplateConfigFile{
			{Path: "server.properties", Parser: "properties", Replace: []store.TemplateReplace{
				{Match: "server-port", Value: "{{SERVER_PORT}}"}, {Match: "motd", Value: "{{MOTD}} on {{SERVER_IP}}"}}},
			{Path: "eula.txt", Parser: "file", Replace: []store.TemplateReplace{{Match: "eula=", Value: "eula=true"}}},
		}}
	srv := &store.Server{ID: "s1", Image: "img", Startup: "run", MemoryMB: 512, Environment: map[string]string{"MOTD": "welcome"},
		Allocations: []*store.Allocation{{IP: "10.0.0.1", Port: 25565, Primary: true}}}
	cfg, err := RunConfig(srv, tmpl, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []wire.ConfigFile{
		{Path: "server.properties", Parser: "properties", Replace: []wire.ConfigReplace{{Match: "server-port", Value: "25565"}, {Match: "motd", Value: "welcome on 10.0.0.1"}}},
		{Path: "eula.txt", Parser: "file", Replace: []wire.ConfigReplace{{Match: "eula=", Value: "eula=true"}}},
	}
	if !reflect.DeepEqual(cfg.ConfigFiles, want) {
		t.Errorf("config files = %+v\nwant %+v", cfg.ConfigFiles, want)
	}
	if !slices.Equal(cfg.StartupDone, tmpl.StartupDone) {
		t.Errorf("startup done = %q, want the template's %q", cfg.StartupDone, tmpl.StartupDone)
	}
}

// ReservedEnv, which templates may not declare, is what the core sets.
func TestReservedEnvIsWhatTheCoreSets(t *testing.T) {
	srv := &store.Server{MemoryMB: 512, Allocations: []*store.Allocation{{IP: "10.0.0.1", Port: 25565, Primary: true}}}
	got := slices.Sorted(maps.Keys(Environment(srv, &store.Template{})))
	if want := slices.Sorted(slices.Values(ReservedEnv)); !slices.Equal(got, want) {
		t.Fatalf("the core sets %q, ReservedEnv is %q", got, want)
	}
}
