package configfiles_test

import (
	"testing"

	"catalyst.dev/sdk/wire"
)

// An Unreal-style ini (ARK's GameUserSettings.ini): section names with
// dots and slashes, comments of both kinds, a key before any section.
const gameINI = `; written by the game
Version=3

[ServerSettings]
ServerPassword=
MaxPlayers = 70
# difficulty, 0 to 1
DifficultyOffset=0.5

[/Script/ShooterGame.ShooterGameUserSettings]
Version=5

[SessionSettings]
SessionName=ARK #1
Port=7777
`

func TestINIGameSettings(t *testing.T) {
	got, err := rewrite(t, wire.ParserINI, gameINI,
		set("ServerSettings.ServerPassword", "hunter2"),
		set("ServerSettings.MaxPlayers", "20"),
		set("ServerSettings.RCONEnabled", "True"),
		set("/Script/ShooterGame.ShooterGameUserSettings.Version", "6"),
		set("SessionSettings.Port", "7778"),
		set("MessageOfTheDay.Message", "Welcome"),
		set("Version", "4"),
	)
	if err != nil {
		t.Fatal(err)
	}
	want := `; written by the game
Version=4

[ServerSettings]
ServerPassword=hunter2
MaxPlayers = 20
# difficulty, 0 to 1
DifficultyOffset=0.5
RCONEnabled=True

[/Script/ShooterGame.ShooterGameUserSettings]
Version=6

[SessionSettings]
SessionName=ARK #1
Port=7778

[MessageOfTheDay]
Message=Welcome
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestINILines(t *testing.T) {
	tests := []struct {
		name, in string
		repl     []wire.ConfigReplace
		want     string
	}{
		{
			name: "a key before the first section goes before it",
			in:   "; top\n[a]\nx=1\n",
			repl: []wire.ConfigReplace{set("port", "1")},
			want: "; top\nport=1\n[a]\nx=1\n",
		},
		{
			name: "the file's spacing is used for new keys",
			in:   "[a]\nx = 1\n",
			repl: []wire.ConfigReplace{set("a.y", "2"), set("b.z", "3")},
			want: "[a]\nx = 1\ny = 2\n\n[b]\nz = 3\n",
		},
		{
			name: "colon separators work and stay",
			in:   "[a]\nx: 1\n",
			repl: []wire.ConfigReplace{set("a.x", "2"), set("a.y", "3")},
			want: "[a]\nx: 2\ny: 3\n",
		},
		{
			name: "a key is set in every block of its section",
			in:   "[a]\nx=1\n[b]\nx=1\n[a]\nx=1\n",
			repl: []wire.ConfigReplace{set("a.x", "2")},
			want: "[a]\nx=2\n[b]\nx=1\n[a]\nx=2\n",
		},
		{
			name: "an empty value gets one",
			in:   "[a]\nx =\n",
			repl: []wire.ConfigReplace{set("a.x", "1")},
			want: "[a]\nx = 1\n",
		},
		{
			name: "a new key goes after the section's last entry, before its trailing comment",
			in:   "[a]\nx=1\n; about b\n[b]\n",
			repl: []wire.ConfigReplace{set("a.y", "2")},
			want: "[a]\nx=1\ny=2\n; about b\n[b]\n",
		},
		{
			name: "a missing file is created",
			in:   absent,
			repl: []wire.ConfigReplace{set("server.port", "1"), set("name", "x")},
			want: "name=x\n[server]\nport=1\n",
		},
		{
			name: "a commented-out key is not set",
			in:   "[a]\n;x=1\n",
			repl: []wire.ConfigReplace{set("a.x", "2")},
			want: "[a]\nx=2\n;x=1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rewrite(t, wire.ParserINI, tt.in, tt.repl...)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestINISectionWithoutKeyIsSkipped(t *testing.T) {
	got, err := rewrite(t, wire.ParserINI, "[a]\nx=1\n", set("a.", "2"), set("a.x", "2"))
	wantSkipped(t, err, map[string]string{"a.": "it names no key after the section's dot"})
	if got != "[a]\nx=2\n" {
		t.Errorf("got %q; the other replacement must still apply", got)
	}
}
