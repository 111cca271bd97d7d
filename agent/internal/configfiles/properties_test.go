package configfiles_test

import (
	"testing"

	"catalyst.dev/sdk/wire"
)

const serverProperties = `#Minecraft server properties
#Sat Nov 21 12:00:00 UTC 2026
enable-jmx-monitoring=false
rcon.port=25575
server-ip=
server-port=25565

# a comment of our own, and a blank line above
motd=A Minecraft Server
query.port : 25565
level-name world
online-mode=true
`

func TestPropertiesServerProperties(t *testing.T) {
	got, err := rewrite(t, wire.ParserProperties, serverProperties,
		set("server-port", "25570"),
		set("query.port", "25570"),
		set("server-ip", "0.0.0.0"),
		set("level-name", "survival"),
		set("motd", " \\o/ Catalyst: 100% uptime\nsecond line"),
		set("max-players", "20"),
		set("white list", "a=b"),
	)
	if err != nil {
		t.Fatal(err)
	}
	want := `#Minecraft server properties
#Sat Nov 21 12:00:00 UTC 2026
enable-jmx-monitoring=false
rcon.port=25575
server-ip=0.0.0.0
server-port=25570

# a comment of our own, and a blank line above
motd=\ \\o/ Catalyst: 100% uptime\nsecond line
query.port : 25570
level-name survival
online-mode=true
max-players=20
white\ list=a=b
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestPropertiesLines(t *testing.T) {
	tests := []struct {
		name, in string
		repl     []wire.ConfigReplace
		want     string
	}{
		{
			name: "every line with the key changes",
			in:   "a=1\nb=2\na=3\n",
			repl: []wire.ConfigReplace{set("a", "9")},
			want: "a=9\nb=2\na=9\n",
		},
		{
			name: "a comment naming the key stays",
			in:   "# a=1\n! a=2\na=3\n",
			repl: []wire.ConfigReplace{set("a", "9")},
			want: "# a=1\n! a=2\na=9\n",
		},
		{
			name: "an escaped key matches its plain form",
			in:   "white\\ list=1\nkey\\=x=2\n",
			repl: []wire.ConfigReplace{set("white list", "on"), set("key=x", "3")},
			want: "white\\ list=on\nkey\\=x=3\n",
		},
		{
			name: "an entry continued over lines becomes one line",
			in:   "motd=first \\\n    second \\\n    third\nnext=1\n",
			repl: []wire.ConfigReplace{set("motd", "short")},
			want: "motd=short\nnext=1\n",
		},
		{
			name: "a key alone gets a separator",
			in:   "flag\nother=1\n",
			repl: []wire.ConfigReplace{set("flag", "yes")},
			want: "flag=yes\nother=1\n",
		},
		{
			name: "indentation and spacing stay",
			in:   "   key   =   old\n",
			repl: []wire.ConfigReplace{set("key", "new")},
			want: "   key   =   new\n",
		},
		{
			name: "CRLF line endings stay, also on appended lines",
			in:   "a=1\r\nb=2",
			repl: []wire.ConfigReplace{set("a", "3"), set("c", "4")},
			want: "a=3\r\nb=2\r\nc=4\r\n",
		},
		{
			name: "a missing file is created",
			in:   absent,
			repl: []wire.ConfigReplace{set("server-port", "25565"), set("eula", "true")},
			want: "server-port=25565\neula=true\n",
		},
		{
			name: "UTF-8 is written as is",
			in:   "motd=x\n",
			repl: []wire.ConfigReplace{set("motd", "§aGrüße ✓")},
			want: "motd=§aGrüße ✓\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rewrite(t, wire.ParserProperties, tt.in, tt.repl...)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
