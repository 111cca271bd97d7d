package configfiles_test

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"catalyst.dev/sdk/wire"
)

// A BungeeCord-style config.yml: comments, a list of listeners, a map of
// servers, unindented lists as SnakeYAML writes them.
const bungeeConfig = `# BungeeCord configuration
server_connect_timeout: 5000
listeners:
- query_port: 25577 # same as host's port
  motd: '&1Another Bungee server'
  priorities:
  - lobby
  host: 0.0.0.0:25577
  max_players: 1
servers:
  lobby:
    motd: '&1Just another BungeeCord - Forced Host'
    address: localhost:25565
    restricted: false
  games:
    address: localhost:25566
    restricted: true
# ip forwarding for spigot
ip_forward: false
online_mode: true
`

func TestYAMLBungeeConfig(t *testing.T) {
	got, err := rewrite(t, wire.ParserYAML, bungeeConfig,
		set("listeners[0].host", "0.0.0.0:25600"),
		set("listeners[0].query_port", "25600"),
		set("listeners[0].motd", "&aCatalyst: welcome"),
		set("servers.*.address", "127.0.0.1:25565"),
		set("servers.*.restricted", "false"),
		set("ip_forward", "true"),
		set("settings.bungeecord", "true"),
		set("stats", "yes"),
	)
	if err != nil {
		t.Fatal(err)
	}
	want := `# BungeeCord configuration
server_connect_timeout: 5000
listeners:
  - query_port: 25600 # same as host's port
    motd: '&aCatalyst: welcome'
    priorities:
      - lobby
    host: 0.0.0.0:25600
    max_players: 1
servers:
  lobby:
    motd: '&1Just another BungeeCord - Forced Host'
    address: 127.0.0.1:25565
    restricted: false
  games:
    address: 127.0.0.1:25565
    restricted: false
# ip forwarding for spigot
ip_forward: true
online_mode: true
settings:
  bungeecord: true
stats: "yes"
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestYAMLTyping checks what each value becomes for a reader: the decoded
// type and value at key v.
func TestYAMLTyping(t *testing.T) {
	tests := []struct {
		value string
		want  any
	}{
		{"true", true},
		{"false", false},
		{"25565", 25565},
		{"-3", -3},
		{"0", 0},
		{"007", "007"},
		{"1.5", "1.5"},
		{"99999999999999999999", "99999999999999999999"},
		{"True", "True"},
		{"yes", "yes"},
		{"null", "null"},
		{"", ""},
		{"a: b # c", "a: b # c"},
		{"- item", "- item"},
		{"multi\nline", "multi\nline"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := rewrite(t, wire.ParserYAML, "v: old\n", set("v", tt.value))
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := yaml.Unmarshal([]byte(got), &m); err != nil {
				t.Fatalf("output does not parse: %v\n%s", err, got)
			}
			if m["v"] != tt.want {
				t.Errorf("v = %#v (%T), want %#v (%T); file:\n%s", m["v"], m["v"], tt.want, tt.want, got)
			}
		})
	}
}

func TestYAMLPaths(t *testing.T) {
	tests := []struct {
		name, in string
		repl     []wire.ConfigReplace
		want     string
		skipped  map[string]string
	}{
		{
			name: "a missing file is created with the mappings on the way",
			in:   absent,
			repl: []wire.ConfigReplace{set("server.port", "25565"), set("server.name", "demo")},
			want: "server:\n  port: 25565\n  name: demo\n",
		},
		{
			name: "the next index of a list is added, with what follows it",
			in:   "list:\n  - a\n",
			repl: []wire.ConfigReplace{set("list[1]", "b"), set("hosts[0].ip", "1.2.3.4")},
			want: "list:\n  - a\n  - b\nhosts:\n  - ip: 1.2.3.4\n",
		},
		{
			name:    "an index past the next one is skipped, the rest still set",
			in:      "list:\n  - a\nport: 1\n",
			repl:    []wire.ConfigReplace{set("list[3]", "d"), set("port", "2")},
			want:    "list:\n  - a\nport: 2\n",
			skipped: map[string]string{"list[3]": "list has 1 elements; only [1] can be added"},
		},
		{
			name: "an empty value takes keys",
			in:   "settings:\nother: 1\n",
			repl: []wire.ConfigReplace{set("settings.bungeecord", "true")},
			want: "settings:\n  bungeecord: true\nother: 1\n",
		},
		{
			name: "a wildcard over a list",
			in:   "l:\n  - {host: a}\n  - {host: b}\n",
			repl: []wire.ConfigReplace{set("l[*].host", "c")},
			want: "l:\n  - {host: c}\n  - {host: c}\n",
		},
		{
			name:    "a wildcard creates nothing where nothing is",
			in:      "a: 1\n",
			repl:    []wire.ConfigReplace{set("servers.*.address", "x")},
			want:    "a: 1\n",
			skipped: map[string]string{"servers.*.address": "servers does not exist, and * cannot be created in it"},
		},
		{
			name:    "keys below a scalar are skipped",
			in:      "a: 1\n",
			repl:    []wire.ConfigReplace{set("a.b", "x")},
			want:    "a: 1\n",
			skipped: map[string]string{"a.b": `a is the value "1", not a mapping with keys`},
		},
		{
			name:    "a malformed path is skipped",
			in:      "a: 1\n",
			repl:    []wire.ConfigReplace{set("a..b", "x"), set("a[x]", "y"), set("a]", "z")},
			want:    "a: 1\n",
			skipped: map[string]string{"a..b": "empty key", "a[x]": "not a number", "a]": "without its '['"},
		},
		{
			name:    "an alias is not followed",
			in:      "base: &b\n  port: 1\nother: *b\n",
			repl:    []wire.ConfigReplace{set("other.port", "2")},
			want:    "base: &b\n  port: 1\nother: *b\n",
			skipped: map[string]string{"other.port": "other is an alias (*b)"},
		},
		{
			name: "a value already set leaves the file as it was, layout and all",
			in:   "a:    1   # note\nlist:\n- x\n",
			repl: []wire.ConfigReplace{set("a", "1")},
			want: "a:    1   # note\nlist:\n- x\n",
		},
		{
			name: "four-space indentation stays",
			in:   "a:\n    b: 1\n",
			repl: []wire.ConfigReplace{set("a.b", "2")},
			want: "a:\n    b: 2\n",
		},
		{
			name: "a double-quoted string stays double-quoted",
			in:   "motd: \"hello\"\n",
			repl: []wire.ConfigReplace{set("motd", "bye")},
			want: "motd: \"bye\"\n",
		},
		{
			name: "only the first document changes; all are kept",
			in:   "a: 1\n---\na: 1\n",
			repl: []wire.ConfigReplace{set("a", "2")},
			want: "a: 2\n---\na: 1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rewrite(t, wire.ParserYAML, tt.in, tt.repl...)
			wantSkipped(t, err, tt.skipped)
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestYAMLMalformedIsLeftAlone(t *testing.T) {
	const bad = "listeners:\n- host: [0.0.0.0\nmotd: x\n"
	got, err := rewrite(t, wire.ParserYAML, bad, set("motd", "y"))
	if got != bad {
		t.Errorf("the file changed:\n%s", got)
	}
	if err == nil || !strings.Contains(err.Error(), "config file cfg (yaml) left as it was: it is not valid YAML: yaml: line ") {
		t.Errorf("error %v, want one naming the file, the parser and the parse error", err)
	}
}
