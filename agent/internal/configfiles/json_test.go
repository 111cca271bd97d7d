package configfiles_test

import (
	"encoding/json"
	"strings"
	"testing"

	"catalyst.dev/sdk/wire"
)

// A game's JSON config: nested objects, a list of objects, numbers of
// both kinds, null, characters HTML escaping would mangle.
const gameJSON = `{
    "name": "My <Server> & friends",
    "network": {
        "port": 7777,
        "public": true,
        "tickrate": 30.5
    },
    "admins": [
        {"id": 1, "name": "alice"},
        {"id": 2, "name": "bob"}
    ],
    "mods": [],
    "password": null
}
`

func TestJSONGameConfig(t *testing.T) {
	got, err := rewrite(t, wire.ParserJSON, gameJSON,
		set("network.port", "27015"),
		set("network.public", "false"),
		set("admins.*.name", "root"),
		set("password", "s3cret"),
		set("rcon.enabled", "true"),
		set("rcon.port", "27016"),
		set("mods[0]", "base"),
	)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
    "name": "My <Server> & friends",
    "network": {
        "port": 27015,
        "public": false,
        "tickrate": 30.5
    },
    "admins": [
        {
            "id": 1,
            "name": "root"
        },
        {
            "id": 2,
            "name": "root"
        }
    ],
    "mods": [
        "base"
    ],
    "password": "s3cret",
    "rcon": {
        "enabled": true,
        "port": 27016
    }
}
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestJSONLayoutAndTyping(t *testing.T) {
	tests := []struct {
		name, in string
		repl     []wire.ConfigReplace
		want     string
	}{
		{
			name: "a missing file is created, indented by two spaces",
			in:   absent,
			repl: []wire.ConfigReplace{set("port", "25565"), set("name", "demo"), set("pvp", "false")},
			want: "{\n  \"port\": 25565,\n  \"name\": \"demo\",\n  \"pvp\": false\n}\n",
		},
		{
			name: "tabs stay tabs",
			in:   "{\n\t\"a\": {\n\t\t\"b\": 1\n\t}\n}",
			repl: []wire.ConfigReplace{set("a.b", "2")},
			want: "{\n\t\"a\": {\n\t\t\"b\": 2\n\t}\n}\n",
		},
		{
			name: "a file on one line gets two spaces",
			in:   `{"a":1,"b":[1,2.50,"x"]}`,
			repl: []wire.ConfigReplace{set("a", "007")},
			want: "{\n  \"a\": \"007\",\n  \"b\": [\n    1,\n    2.50,\n    \"x\"\n  ]\n}\n",
		},
		{
			name: "a value already set leaves the file as it was",
			in:   `{"a":1}`,
			repl: []wire.ConfigReplace{set("a", "1")},
			want: `{"a":1}`,
		},
		{
			name: "strings are escaped as JSON, unicode kept",
			in:   "{}",
			repl: []wire.ConfigReplace{set("motd", "say \"hi\"\n\\ ✓")},
			want: "{\n  \"motd\": \"say \\\"hi\\\"\\n\\\\ ✓\"\n}\n",
		},
		{
			name: "a list at the top",
			in:   "[\n  {\"port\": 1}\n]\n",
			repl: []wire.ConfigReplace{set("[0].port", "2")},
			want: "[\n  {\n    \"port\": 2\n  }\n]\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rewrite(t, wire.ParserJSON, tt.in, tt.repl...)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("output is not valid JSON")
			}
		})
	}
}

func TestJSONMalformedIsLeftAlone(t *testing.T) {
	for _, bad := range []string{`{"a": 1,}`, `{"a": 1} {"b": 2}`, `{"a": `} {
		got, err := rewrite(t, wire.ParserJSON, bad, set("a", "2"))
		if got != bad {
			t.Errorf("%s: the file changed to %s", bad, got)
		}
		if err == nil || !strings.Contains(err.Error(), "config file cfg (json) left as it was: it is not valid JSON: ") {
			t.Errorf("%s: error %v, want one naming the file, the parser and the parse error", bad, err)
		}
	}
}
