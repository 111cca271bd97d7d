package configfiles_test

import (
	"testing"

	"catalyst.dev/sdk/wire"
)

func TestFileParser(t *testing.T) {
	tests := []struct {
		name, in string
		repl     []wire.ConfigReplace
		want     string
	}{
		{
			name: "lines starting with the match are replaced whole, indented ones too",
			in:   "# start.cfg\nhostname \"old\"\n  port 1\nsv_hostname_extra x\nother\n",
			repl: []wire.ConfigReplace{set("hostname ", `hostname "Catalyst"`), set("port", "port 27015")},
			want: "# start.cfg\nhostname \"Catalyst\"\nport 27015\nsv_hostname_extra x\nother\n",
		},
		{
			name: "nothing is appended when no line matches",
			in:   "a\n",
			repl: []wire.ConfigReplace{set("b", "b 1")},
			want: "a\n",
		},
		{
			name: "a missing file is left missing",
			in:   absent,
			repl: []wire.ConfigReplace{set("b", "b 1")},
			want: "",
		},
		{
			name: "replacements apply in order, each to the result of the last",
			in:   "x=1\n",
			repl: []wire.ConfigReplace{set("x=", "y=2"), set("y=", "z=3")},
			want: "z=3\n",
		},
		{
			name: "a last line without a line ending keeps without one",
			in:   "a 1\r\nb 2",
			repl: []wire.ConfigReplace{set("b", "b 3")},
			want: "a 1\r\nb 3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rewrite(t, wire.ParserFile, tt.in, tt.repl...)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
