package egg

import (
	"encoding/json"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"catalyst.dev/sdk/plugin"
)

// minimalEgg is a small valid PTDL_v2 egg, changed by edit.
func minimalEgg(t *testing.T, edit func(egg map[string]any)) []byte {
	t.Helper()
	egg := map[string]any{
		"meta":          map[string]any{"version": "PTDL_v2", "update_url": nil},
		"name":          "Test",
		"docker_images": map[string]any{"Debian": "example.test/debian:12"},
		"startup":       "./server --port {{SERVER_PORT}}",
		"config":        map[string]any{"files": "{}", "startup": "{}", "logs": "{}", "stop": "stop"},
	}
	if edit != nil {
		edit(egg)
	}
	data, err := json.Marshal(egg)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestConvertRejects(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"an array", []byte(`[1]`), "not a Pterodactyl egg: the file is an array, want a JSON object"},
		{"not JSON", []byte(`name: x`), "not a Pterodactyl egg: the file is not valid JSON"},
		{"truncated", []byte(`{"meta": {"version": "PTDL_v2"}`), "the file is not valid JSON"},
		{"two objects", []byte(`{} {}`), "data after the object"},
		{"other version", []byte(`{"meta": {"version": "foo"}, "name": "x"}`), `not a Pterodactyl egg: meta.version is "foo", want PTDL_v1 or PTDL_v2`},
		{"no meta", []byte(`{"name": "x"}`), "not a Pterodactyl egg: meta.version is missing"},
		{"meta not an object", []byte(`{"meta": "PTDL_v2"}`), "meta is a string, want an object"},
		{"no name", minimalEgg(t, func(e map[string]any) { delete(e, "name") }), "the egg has no name"},
		{"name a number", minimalEgg(t, func(e map[string]any) { e["name"] = 7 }), "name is a number, want a string"},
		{"no image", minimalEgg(t, func(e map[string]any) { delete(e, "docker_images") }), "the egg has no image"},
		{"empty image", minimalEgg(t, func(e map[string]any) { e["docker_images"] = map[string]any{"Java": ""} }), "docker_images.Java is empty"},
		{"no startup", minimalEgg(t, func(e map[string]any) { e["startup"] = " " }), "the egg has no startup command"},
		{"files not JSON", minimalEgg(t, func(e map[string]any) { e["config"].(map[string]any)["files"] = "{server.properties" }), "config.files is not valid JSON"},
		{"variables an object", minimalEgg(t, func(e map[string]any) { e["variables"] = map[string]any{} }), "variables is an object, want an array of objects"},
		{"viewable a word", minimalEgg(t, func(e map[string]any) {
			e["variables"] = []any{map[string]any{"env_variable": "A", "user_viewable": "maybe"}}
		}), `variables[0].user_viewable is "maybe", want true or false`},
		{"too large", append(minimalEgg(t, nil), make([]byte, MaxSize)...), "larger than 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Convert("x", tt.data)
			if err == nil {
				t.Fatal("Convert succeeded")
			}
			if !errors.Is(err, plugin.ErrInvalidArgument) {
				t.Errorf("error %v is not ErrInvalidArgument", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func TestStop(t *testing.T) {
	tests := []struct{ in, want, warning string }{
		{"stop", "stop", ""},
		{"", "", ""},
		{"^C", "^C", ""},
		{"^^C", "^C", ""},
		{"^SIGINT", "^C", ""},
		{"^c", "^C", ""},
		{"^SIGTERM", "", ""},
		{"^SIGKILL", "", `config.stop "^SIGKILL": Catalyst cannot send that signal; the server is stopped with SIGTERM`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c := &converter{}
			if got := c.stop(tt.in); got != tt.want {
				t.Errorf("stop(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if tt.warning == "" && len(c.warnings) > 0 || tt.warning != "" && !slices.Equal(c.warnings, []string{tt.warning}) {
				t.Errorf("warnings %q, want %q", c.warnings, tt.warning)
			}
		})
	}
}

func TestStartup(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"words stay words", "java -Xmx{{SERVER_MEMORY}}M -jar {{SERVER_JARFILE}}", "java -Xmx{{SERVER_MEMORY}}M -jar {{SERVER_JARFILE}}"},
		{"egg placeholders", "./srv -ip {{server.build.default.ip}} -port {{server.build.default.port}} -m {{server.build.memory}} -w {{env.WORLD}} -n {{server.build.env.NAME}}",
			"./srv -ip {{SERVER_IP}} -port {{SERVER_PORT}} -m {{SERVER_MEMORY}} -w {{WORLD}} -n {{NAME}}"},
		{"quoted words", `./srv +hostname "{{HOSTNAME}}"`, `./srv +hostname "{{HOSTNAME}}"`},
		{"windows line end trimmed", "./srv\r\n", "./srv"},
		{"command list", "./update.sh; ./srv -port {{SERVER_PORT}}", `/bin/sh -c "./update.sh; ./srv -port \${SERVER_PORT}"`},
		{"expansion", "./srv --flags $EXTRA", `/bin/sh -c "./srv --flags \$EXTRA"`},
		{"leading assignment", "LD_LIBRARY_PATH=. ./srv", `/bin/sh -c "LD_LIBRARY_PATH=. ./srv"`},
		{"single quotes", `./srv -motd '{{MOTD}} today' && echo "{{A}}"`, `/bin/sh -c "./srv -motd ''\"\${MOTD}\"' today' && echo \"\${A}\""`},
		{"backquotes and backslashes", "echo `date` \\\\ | tee {{LOG}}", `/bin/sh -c "echo \` + "`date\\`" + ` \\\\ | tee \${LOG}"`},
		{"docker interface", "./srv -bind {{config.docker.interface}} | cat", `/bin/sh -c "./srv -bind 0.0.0.0 | cat"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (&converter{}).startup(tt.in); got != tt.want {
				t.Errorf("startup(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

// splitDoubleQuoted undoes the quoting of the core's word splitter
// (servers.SplitArgs) for a /bin/sh -c "…" line: inside double quotes a
// backslash escapes " \ $ and ` and is kept before anything else.
func splitDoubleQuoted(t *testing.T, line string) string {
	t.Helper()
	inner, ok := strings.CutPrefix(line, `/bin/sh -c "`)
	if !ok || !strings.HasSuffix(inner, `"`) {
		t.Fatalf("%s is not a /bin/sh -c \"…\" line", line)
	}
	inner = inner[:len(inner)-1]
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		switch {
		case c == '\\' && i+1 < len(inner) && strings.IndexByte("\"\\$`", inner[i+1]) >= 0:
			i++
			b.WriteByte(inner[i])
		case c == '"':
			t.Fatalf("unescaped quote at %d in %s", i, line)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// A converted shell line runs under a real /bin/sh with the values in
// the environment: values full of shell syntax come out as written,
// never run.
func TestShellStartupRuns(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	line := (&converter{}).startup(`printf '%s|' "{{A}}" '{{B}}' {{C}} '[{{D}}]' "{{server.build.default.port}}"; echo`)
	script := splitDoubleQuoted(t, line)
	cmd := exec.Command(sh, "-c", script)
	cmd.Env = []string{"A=$(echo pwned)", `B=it's "quoted"`, "C=a;b`id`", "D=x y", "SERVER_PORT=25565"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", script, err, out)
	}
	want := "$(echo pwned)|it's \"quoted\"|a;b`id`|[x y]|25565|\n"
	if string(out) != want {
		t.Errorf("%s printed %q, want %q", script, out, want)
	}
}

// Hand-written eggs use objects where exports use strings, older ones an
// image string and 0/1 flags; everything not converted is warned about.
func TestConvertVariants(t *testing.T) {
	data := minimalEgg(t, func(e map[string]any) {
		e["uuid"] = "c0ffee"
		delete(e, "docker_images")
		e["image"] = "example.test/old:1"
		e["startup"] = "./srv {{server.build.swap}}"
		e["config"] = map[string]any{
			"files":   map[string]any{"server.cfg": map[string]any{"parser": "file", "find": map[string]any{"port=": "port={{server.build.default.port}}"}}},
			"startup": map[string]any{"done": nil, "strip_ansi": true, "userInteraction": []string{"Accept?"}},
			"stop":    "^C", "extends": 12, "logs": map[string]any{"custom": true},
		}
		e["scripts"] = map[string]any{"installation": map[string]any{"script": nil, "container": "example.test/installer", "entrypoint": "bash"}}
		e["variables"] = []any{
			map[string]any{"name": "Port", "env_variable": "SERVER_PORT", "default_value": "1", "rules": "required"},
			map[string]any{"name": "Slots", "env_variable": "SLOTS", "default_value": 16, "user_viewable": "1", "user_editable": 0,
				"rules": []string{"required", "integer", "between:1,64", "exists:plans,slots"}, "field_type": "select", "sort": 2},
			map[string]any{"name": "Bad", "env_variable": "BAD-NAME"},
			map[string]any{"name": "Slots again", "env_variable": "SLOTS"},
			map[string]any{"name": "Mode", "env_variable": "MODE", "rules": "in:a,b|max:x"},
		}
		e["file_denylist"] = []string{"secrets/**", "[", "config.yml"}
	})
	got, err := Convert("variants", data)
	if err != nil {
		t.Fatal(err)
	}
	want := plugin.Template{
		ID: "variants", Name: "Test", Version: Version(data),
		Images:      []plugin.Image{{Ref: "example.test/old:1"}},
		Startup:     "./srv {{server.build.swap}}",
		Stop:        "^C",
		Install:     plugin.Install{Image: "example.test/installer", Entrypoint: "bash"},
		ConfigFiles: []plugin.ConfigFile{{Path: "server.cfg", Parser: "file", Replace: []plugin.Replacement{{Match: "port=", Value: "port={{SERVER_PORT}}"}}}},
		Variables: []plugin.Variable{
			{Name: "Slots", Env: "SLOTS", DefaultValue: "16", UserViewable: true, Rules: "required|integer|between:1,64"},
			{Name: "Mode", Env: "MODE", Rules: "in:a,b"},
		},
		Denylist: []string{"secrets/**", "config.yml"},
	}
	wantWarnings := []string{
		`key "uuid" is not used`,
		"startup: placeholder {{server.build.swap}} has no Catalyst equivalent and was left as written",
		`file_denylist "secrets/**": ** matches within one path segment, like *`,
		`file_denylist "[" is not a valid pattern; the entry was dropped`,
		"config.extends: the egg takes its configuration from another egg (12), which is not imported; check the stop command, done patterns and config files",
		"config.logs is not used: the console log is kept by Catalyst",
		"config.startup.strip_ansi is not used: done patterns are matched against the console output as it is",
		"config.startup.userInteraction is not used (Pterodactyl ignores it too)",
		"variable SERVER_PORT is set by Catalyst from the server's allocation and memory; the egg's declaration was dropped",
		"variable SLOTS: sort is not used",
		`variable SLOTS: field_type "select" is shown as a text field`,
		"variable SLOTS: rule exists:plans,slots is not supported and was dropped",
		`variables[2] ("Bad"): env_variable "BAD-NAME" is not a valid environment variable name; the variable was dropped`,
		"variable SLOTS is declared twice; the second declaration was dropped",
		`variable MODE: rule max:x was dropped: rule "max:x": max needs a number, got "x"`,
	}
	got.Warnings, want.Warnings = sortedCopy(got.Warnings), sortedCopy(wantWarnings)
	compareTemplates(t, got, want)
}

// sortedCopy orders warnings, whose order follows the keys of the test
// egg as json.Marshal sorts them rather than as written here.
func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
