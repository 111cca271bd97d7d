package egg

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"catalyst.dev/sdk/plugin"
)

// jarRule is the jar-name rule the Minecraft eggs share.
const jarRule = `required|regex:/^([\w\d._-]+)(\.jar)$/`

// serverProperties is the server.properties rewrite of the Minecraft
// eggs.
var serverProperties = []plugin.Replacement{
	{Match: "server-ip", Value: "0.0.0.0"},
	{Match: "server-port", Value: "{{SERVER_PORT}}"},
	{Match: "query.port", Value: "{{SERVER_PORT}}"},
}

// The egg files of testdata/ convert to exactly these templates (their
// Version is checked against the file's hash separately).
var testdataTemplates = []plugin.Template{
	{
		ID:          "minecraft/vanilla",
		Name:        "Vanilla Minecraft",
		Description: "The Minecraft: Java Edition server as Mojang ships it.",
		Author:      "eggs@catalyst.test",
		Images: []plugin.Image{
			{Label: "Java 21", Ref: "ghcr.io/pterodactyl/yolks:java_21"},
			{Label: "Java 17", Ref: "ghcr.io/pterodactyl/yolks:java_17"},
		},
		Startup:      "java -Xms128M -XX:MaxRAMPercentage=95.0 -jar {{SERVER_JARFILE}}",
		Stop:         "stop",
		DonePatterns: []string{")! For help, type "},
		Install: plugin.Install{
			Image:      "ghcr.io/pterodactyl/installers:alpine",
			Entrypoint: "ash",
			Script: `#!/bin/ash
# Fetches the server jar of the chosen release from Mojang's manifest.
set -e
cd /mnt/server
MANIFEST=https://piston-meta.mojang.com/mc/game/version_manifest_v2.json
if [ "${MINECRAFT_VERSION}" = "latest" ]; then
  MINECRAFT_VERSION=$(curl -fsSL $MANIFEST | jq -r '.latest.release')
fi
META=$(curl -fsSL $MANIFEST | jq -r --arg v "$MINECRAFT_VERSION" '.versions[] | select(.id == $v) | .url')
curl -fsSL -o "${SERVER_JARFILE}" "$(curl -fsSL "$META" | jq -r '.downloads.server.url')"
echo "installed ${MINECRAFT_VERSION}"`,
		},
		Variables: []plugin.Variable{
			{Name: "Server Jar File", Description: "Jar file the server runs.", Env: "SERVER_JARFILE", DefaultValue: "server.jar", UserViewable: true, UserEditable: true, Rules: jarRule},
			{Name: "Minecraft Version", Description: "Release to install, or latest.", Env: "MINECRAFT_VERSION", DefaultValue: "latest", UserViewable: true, UserEditable: true, Rules: "required|string|between:3,15"},
		},
		ConfigFiles: []plugin.ConfigFile{{Path: "server.properties", Parser: "properties", Replace: serverProperties}},
		Features:    []string{"eula", "java_version", "pid_limit"},
	},
	{
		ID:          "minecraft/paper",
		Name:        "Paper",
		Description: "Paper, a fast Minecraft server with plugin support.",
		Author:      "eggs@catalyst.test",
		Images: []plugin.Image{
			{Label: "Java 21", Ref: "ghcr.io/pterodactyl/yolks:java_21"},
			{Label: "Java 17", Ref: "ghcr.io/pterodactyl/yolks:java_17"},
			{Label: "Java 11", Ref: "ghcr.io/pterodactyl/yolks:java_11"},
		},
		Startup:      "java -Xms128M -Xmx{{SERVER_MEMORY}}M -Dterminal.jline=false -Dterminal.ansi=true -jar {{SERVER_JARFILE}}",
		Stop:         "stop",
		DonePatterns: []string{")! For help, type "},
		Install: plugin.Install{
			Image:      "ghcr.io/pterodactyl/installers:alpine",
			Entrypoint: "ash",
			Script: `#!/bin/ash
# Downloads a Paper build through the PaperMC API.
cd /mnt/server
API=https://api.papermc.io/v2/projects/paper
[ "$MINECRAFT_VERSION" = latest ] && MINECRAFT_VERSION=$(curl -fsSL $API | jq -r '.versions[-1]')
[ "$BUILD_NUMBER" = latest ] && BUILD_NUMBER=$(curl -fsSL $API/versions/$MINECRAFT_VERSION | jq -r '.builds[-1]')
URL=${DL_PATH:-$API/versions/$MINECRAFT_VERSION/builds/$BUILD_NUMBER/downloads/paper-$MINECRAFT_VERSION-$BUILD_NUMBER.jar}
curl -fsSL -o "$SERVER_JARFILE" "$URL"`,
		},
		Variables: []plugin.Variable{
			{Name: "Minecraft Version", Description: "Release to install, or latest.", Env: "MINECRAFT_VERSION", DefaultValue: "latest", UserViewable: true, UserEditable: true, Rules: "nullable|string|max:20"},
			{Name: "Server Jar File", Description: "Jar file the server runs.", Env: "SERVER_JARFILE", DefaultValue: "server.jar", UserViewable: true, UserEditable: true, Rules: jarRule},
			{Name: "Download Path", Description: "A URL to fetch the jar from instead of the PaperMC API.", Env: "DL_PATH", Rules: "nullable|url"},
			{Name: "Build Number", Description: "Paper build, or latest.", Env: "BUILD_NUMBER", DefaultValue: "latest", UserViewable: true, UserEditable: true, Rules: "required|string|max:20"},
		},
		ConfigFiles: []plugin.ConfigFile{{
			Path: "server.properties", Parser: "properties",
			Replace: append(serverProperties[:3:3], plugin.Replacement{Match: "enable-query", Value: "true"}),
		}},
		Features: []string{"eula", "java_version", "pid_limit"},
		Warnings: []string{"config.logs is not used: the console log is kept by Catalyst"},
	},
	{
		ID:          "steam/longship",
		Name:        "Longship Dedicated Server",
		Description: "A Steam dedicated server installed with SteamCMD.",
		Author:      "eggs@catalyst.test",
		Images: []plugin.Image{
			{Ref: "ghcr.io/parkervcp/games:source"},
			{Ref: "ghcr.io/parkervcp/yolks:debian"},
		},
		// The line uses the shell: it runs under /bin/sh with each
		// variable expanded by the shell, the single-quoted one through
		// a closed and reopened quote.
		Startup: `/bin/sh -c "export LD_LIBRARY_PATH=./linux64:\$LD_LIBRARY_PATH; ./longship_server.x86_64 -nographics -batchmode ` +
			`-name \"\${SERVER_NAME}\" -port \${SERVER_PORT} -world ''\"\${WORLD}\"'' -password \"\${PASSWORD}\" -public \${PUBLIC_SERVER}"`,
		Stop:         "^C",
		DonePatterns: []string{"Game server connected"},
		Install: plugin.Install{
			Image:      "ghcr.io/parkervcp/installers:debian",
			Entrypoint: "bash",
			Script: `#!/bin/bash
# Installs the server with SteamCMD, anonymously unless a user is set.
set -e
mkdir -p /mnt/server/steamcmd && cd /mnt/server/steamcmd
curl -fsSL https://steamcdn-a.akamaihd.net/client/installer/steamcmd_linux.tar.gz | tar -xz
export HOME=/mnt/server
./steamcmd.sh +force_install_dir /mnt/server +login ${STEAM_USER:-anonymous} ${STEAM_PASS} +app_update ${SRCDS_APPID} validate +quit
mkdir -p /mnt/server/.steam/sdk64
cp -v linux64/steamclient.so /mnt/server/.steam/sdk64/steamclient.so`,
		},
		Variables: []plugin.Variable{
			{Name: "Steam App ID", Description: "SteamCMD app of the dedicated server.", Env: "SRCDS_APPID", DefaultValue: "896660", UserViewable: true, Rules: "required|integer|in:896660"},
			{Name: "Server Name", Description: "Name in the server browser.", Env: "SERVER_NAME", DefaultValue: "A Longship server", UserViewable: true, UserEditable: true, Rules: "required|string|max:64"},
			{Name: "World", Description: "World save to load.", Env: "WORLD", DefaultValue: "Dedicated", UserViewable: true, UserEditable: true, Rules: "required|alpha_dash|max:32"},
			{Name: "Password", Description: "Join password, at least 5 characters.", Env: "PASSWORD", DefaultValue: "changeme", UserViewable: true, UserEditable: true, Rules: "required|string|min:5"},
			{Name: "Public", Description: "List the server publicly (1) or not (0).", Env: "PUBLIC_SERVER", DefaultValue: "1", UserViewable: true, UserEditable: true, Rules: "required|boolean"},
		},
		Denylist: []string{"*.x86_64"},
		Features: []string{"steam_disk_space"},
		Warnings: []string{`file_denylist "!start_server.sh": exceptions ("!") are not supported; the entry was dropped`},
	},
	{
		ID:          "minecraft/bungeecord",
		Name:        "BungeeCord Proxy",
		Description: "A proxy that links several Minecraft servers into one network.",
		Author:      "eggs@catalyst.test",
		Images: []plugin.Image{
			{Ref: "ghcr.io/pterodactyl/yolks:java_17"},
			{Label: "Java 21", Ref: "ghcr.io/pterodactyl/yolks:java_21"},
		},
		Startup:      "java -Xms128M -Xmx{{SERVER_MEMORY}}M -jar {{SERVER_JARFILE}}",
		Stop:         "end",
		DonePatterns: []string{"Listening on ", `regex:^Enabled plugin \w+`},
		Install: plugin.Install{
			Image:      "ghcr.io/pterodactyl/installers:alpine",
			Entrypoint: "ash",
			Script: `#!/bin/ash
# Downloads the proxy jar from the CI server.
cd /mnt/server
[ -z "$BUNGEE_VERSION" ] || [ "$BUNGEE_VERSION" = latest ] && BUNGEE_VERSION=lastStableBuild
curl -fsSL -o "${SERVER_JARFILE}" "https://ci.md-5.net/job/BungeeCord/${BUNGEE_VERSION}/artifact/bootstrap/target/BungeeCord.jar"`,
		},
		Variables: []plugin.Variable{
			{Name: "Proxy Version", Description: "CI build number, or latest.", Env: "BUNGEE_VERSION", DefaultValue: "latest", UserViewable: true, UserEditable: true, Rules: "required|alpha_num|between:1,12"},
			{Name: "Proxy Jar File", Description: "Jar file the proxy runs.", Env: "SERVER_JARFILE", DefaultValue: "bungeecord.jar", UserViewable: true, UserEditable: true, Rules: jarRule},
			{Name: "Message of the Day", Description: "Shown in the players' server list.", Env: "PROXY_MOTD", DefaultValue: "A Catalyst network", UserViewable: true, UserEditable: true, Rules: "required|string|max:60"},
		},
		ConfigFiles: []plugin.ConfigFile{
			{Path: "config.yml", Parser: "yaml", Replace: []plugin.Replacement{
				{Match: "listeners[0].query_port", Value: "{{SERVER_PORT}}"},
				{Match: "listeners[0].host", Value: "0.0.0.0:{{SERVER_PORT}}"},
			}},
			{Path: "proxy.properties", Parser: "properties", Replace: []plugin.Replacement{
				{Match: "bind-address", Value: "0.0.0.0"},
				{Match: "bind-port", Value: "{{SERVER_PORT}}"},
				{Match: "motd", Value: "{{PROXY_MOTD}}"},
				{Match: "max-players", Value: "500"},
				{Match: "cpu-hint", Value: "{{server.build.cpu}}"},
			}},
		},
		Features: []string{"eula", "java_version", "proxy_motd_sync"},
		Warnings: []string{
			`feature "proxy_motd_sync" is unknown (known: eula, java_version, pid_limit, steam_disk_space, gsl_token); it is kept`,
			"config file config.yml: servers.*.address is an object (a conditional or computed value), which cannot be converted; it is not set",
			"config file proxy.properties: bind-address: {{config.docker.interface}} (the node's Docker interface in Pterodactyl) became 0.0.0.0, every interface of the server's container",
			"config file proxy.properties: cpu-hint: placeholder {{server.build.cpu}} has no Catalyst equivalent and was left as written",
			"config file plugins/metrics.xml: Catalyst has no xml parser; the file is not rewritten",
			"variable BUNGEE_VERSION: rule lowercase is not supported and was dropped",
		},
	},
}

func TestConvertTestdata(t *testing.T) {
	for _, want := range testdataTemplates {
		t.Run(want.ID, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "..", "testdata", want.ID+".json"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Convert(want.ID, data)
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			want.Version = Version(data)
			compareTemplates(t, got, want)
		})
	}
}

// compareTemplates reports every field of got that differs from want, by
// name.
func compareTemplates(t *testing.T, got, want plugin.Template) {
	t.Helper()
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range g.NumField() {
		name := g.Type().Field(i).Name
		gf, wf := g.Field(i).Interface(), w.Field(i).Interface()
		if !reflect.DeepEqual(gf, wf) {
			t.Errorf("%s:\n got %#v\nwant %#v", name, gf, wf)
		}
	}
}
