package config

import (
	"strings"
	"testing"
	"time"
)

// The documented example must stay loadable.
func TestExampleAgentConfigParses(t *testing.T) {
	c, err := Load("../../../config/agent.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if c.CoreURL == "" || c.Containerd.Namespace != "catalyst" {
		t.Fatalf("unexpected example config: %+v", c)
	}
}

func TestUnknownKeyNamesLine(t *testing.T) {
	_, err := Parse("agent.hcl", []byte("core_url = \"http://x\"\nnode_id = \"n\"\ncredential = \"c\"\ncontainerd {\n  socket = \"/x\"\n}\n"))
	if err == nil || !strings.Contains(err.Error(), "agent.hcl:5:3: Unsupported argument") {
		t.Fatalf("err = %v", err)
	}
}

func TestRenderRoundTrips(t *testing.T) {
	uid, throttle, sftpOff := 1000, 0, false
	in := Config{
		CoreURL: "https://panel.example.com", NodeID: "n-1", Credential: `catn_"quoted"`, DataDir: "/srv/catalyst",
		Runtime:    &Runtime{UID: &uid, StopGrace: "30s"},
		Network:    &Network{Mode: NetworkHost, CNIBinDirs: []string{"/a", "/b"}},
		Console:    &Console{ThrottleLines: &throttle, ThrottlePeriod: "250ms", HistoryLines: 500, LogMaxMB: 2, LogFiles: 5},
		Registries: []Registry{{Host: "ghcr.io", Username: "bot", Password: "p$w\"d${x}%{y}", PlainHTTP: true}},
		SFTP:       &SFTP{Enabled: &sftpOff, Listen: "127.0.0.1:2200", HostKey: "/etc/catalyst/sftp_key", IdleTimeout: "1h", MaxSessions: 50},
		Files:      &Files{MaxUploadMB: 64, PullMaxRedirects: &throttle, PullAllowNetworks: []string{"10.1.0.0/16"}},
		Backups:    &Backups{Compression: "gzip", Level: 6, RateLimitMB: 50},
		PluginDir:  "/opt/catalyst/plugins",
	}
	out, err := Parse("agent.hcl", Render(in))
	if err != nil {
		t.Fatalf("%v\n%s", err, Render(in))
	}
	if out.CoreURL != in.CoreURL || out.NodeID != in.NodeID || out.Credential != in.Credential || out.DataDir != in.DataDir {
		t.Fatalf("round trip: %+v", out)
	}
	if *out.Runtime.UID != 1000 || *out.Runtime.GID != 988 || out.Runtime.StopGrace != "30s" || out.Network.Mode != NetworkHost ||
		strings.Join(out.Network.CNIBinDirs, ",") != "/a,/b" || len(out.Registries) != 1 || out.Registries[0] != in.Registries[0] {
		t.Fatalf("round trip: %+v %+v %+v", out.Runtime, out.Network, out.Registries)
	}
	if *out.Console.ThrottleLines != 0 || out.Console.ThrottlePeriod != "250ms" || out.Console.HistoryLines != 500 ||
		out.Console.LogMaxMB != 2 || out.Console.LogFiles != 5 {
		t.Fatalf("round trip: %+v", out.Console)
	}
	if *out.SFTP.Enabled || out.SFTP.Listen != "127.0.0.1:2200" || out.SFTP.HostKey != "/etc/catalyst/sftp_key" ||
		out.SFTP.IdleTimeout != "1h" || out.SFTP.MaxSessions != 50 {
		t.Fatalf("round trip: %+v", out.SFTP)
	}
	if out.Backups.Compression != "gzip" || out.Backups.Level != 6 || out.Backups.RateLimitMB != 50 || out.PluginDir != "/opt/catalyst/plugins" {
		t.Fatalf("round trip: %+v, plugin_dir %q", out.Backups, out.PluginDir)
	}
	if len(out.PluginSpecs) != 1 || out.PluginSpecs[0].Name != "local" || out.PluginSpecs[0].Path != "catalyst-backup-local" {
		t.Fatalf("round trip: the local backup store is missing: %+v", out.PluginSpecs)
	}
	if out.Files.MaxUploadMB != 64 || out.Files.PullMaxMB != 10240 || *out.Files.PullMaxRedirects != 0 ||
		strings.Join(out.Files.PullAllowNetworks, ",") != "10.1.0.0/16" {
		t.Fatalf("round trip: %+v", out.Files)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse("agent.hcl", []byte("core_url = \"http://x\"\nnode_id = \"n\"\ncredential = \"c\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if *c.Runtime.UID != 988 || *c.Runtime.GID != 988 || c.Runtime.StopGraceDuration() != 10*time.Second ||
		c.Runtime.TmpSizeMB != 64 || c.Runtime.Snapshotter != "overlayfs" {
		t.Errorf("runtime defaults: %+v", c.Runtime)
	}
	if c.Network.Mode != NetworkBridge || c.Network.Bridge != "catalyst0" || c.Network.Subnet != "10.88.0.0/16" || c.Network.CNIBinDirs[0] != "/usr/lib/cni" {
		t.Errorf("network defaults: %+v", c.Network)
	}
	if *c.Console.ThrottleLines != 2000 || c.Console.ThrottlePeriodDuration() != 100*time.Millisecond ||
		c.Console.HistoryLines != 1000 || c.Console.LogMaxMB != 10 || c.Console.LogFiles != 3 {
		t.Errorf("console defaults: %+v", c.Console)
	}
	if !*c.SFTP.Enabled || c.SFTP.Listen != ":2022" || c.SFTP.HostKey != "/var/lib/catalyst/sftp/ssh_host_ed25519_key" ||
		c.SFTP.IdleTimeoutDuration() != 15*time.Minute || c.SFTP.MaxSessions != 1000 {
		t.Errorf("sftp defaults: %+v", c.SFTP)
	}
}

func TestSFTPHostKeyFollowsDataDir(t *testing.T) {
	c, err := Parse("agent.hcl", []byte("core_url = \"http://x\"\nnode_id = \"n\"\ncredential = \"c\"\ndata_dir = \"/srv/cat\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.SFTP.HostKey != "/srv/cat/sftp/ssh_host_ed25519_key" {
		t.Errorf("host_key = %q", c.SFTP.HostKey)
	}
}

func TestConsoleThrottleCanBeTurnedOff(t *testing.T) {
	c, err := Parse("agent.hcl", []byte("core_url = \"http://x\"\nnode_id = \"n\"\ncredential = \"c\"\nconsole {\n  throttle_lines = 0\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if *c.Console.ThrottleLines != 0 {
		t.Errorf("throttle_lines = %d, want 0 (off)", *c.Console.ThrottleLines)
	}
}

func TestStatsAndDiskQuota(t *testing.T) {
	base := "core_url = \"http://x\"\nnode_id = \"n\"\ncredential = \"c\"\n"
	tests := []struct {
		name                          string
		src                           string
		interval, health, disk, grace time.Duration
		action                        string
	}{
		{"defaults", "", 2 * time.Second, 10 * time.Second, time.Minute, 5 * time.Minute, QuotaStop},
		{"all set", "stats {\n  interval = \"500ms\"\n  health_interval = \"30s\"\n  disk_interval = \"5m\"\n}\n" +
			"disk_quota {\n  action = \"warn\"\n  grace = \"0s\"\n}\n", 500 * time.Millisecond, 30 * time.Second, 5 * time.Minute, 0, QuotaWarn},
		{"part set", "disk_quota {\n  action = \"none\"\n}\n", 2 * time.Second, 10 * time.Second, time.Minute, 5 * time.Minute, QuotaNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("agent.hcl", []byte(base+tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if c.Stats.IntervalDuration() != tt.interval || c.Stats.HealthIntervalDuration() != tt.health ||
				c.Stats.DiskIntervalDuration() != tt.disk || c.DiskQuota.GraceDuration() != tt.grace || c.DiskQuota.Action != tt.action {
				t.Errorf("stats %+v, disk_quota %+v", c.Stats, c.DiskQuota)
			}
		})
	}
}

func TestFiles(t *testing.T) {
	base := "core_url = \"http://x\"\nnode_id = \"n\"\ncredential = \"c\"\n"
	tests := []struct {
		name         string
		src          string
		upload, pull int
		timeout      time.Duration
		redirects    int
		networks     string
	}{
		{"defaults", "", 10240, 10240, 30 * time.Minute, 5, ""},
		{"all set", "files {\n  max_upload_mb = 100\n  pull_max_mb = 200\n  pull_timeout = \"1m\"\n  pull_max_redirects = 0\n" +
			"  pull_allow_networks = [\"192.168.10.7/24\", \"fd00::/8\"]\n}\n", 100, 200, time.Minute, 0, "192.168.10.0/24 fd00::/8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("agent.hcl", []byte(base+tt.src))
			if err != nil {
				t.Fatal(err)
			}
			var nets []string
			for _, n := range c.Files.AllowNetworks() {
				nets = append(nets, n.String())
			}
			f := c.Files
			if f.MaxUploadMB != tt.upload || f.PullMaxMB != tt.pull || f.PullTimeoutDuration() != tt.timeout ||
				*f.PullMaxRedirects != tt.redirects || strings.Join(nets, " ") != tt.networks {
				t.Errorf("files %+v, networks %v", f, nets)
			}
		})
	}
}

func TestRegistryPasswordFromEnvironment(t *testing.T) {
	t.Setenv("CATALYST_TEST_GHCR", "s3cret")
	src := `core_url = "http://x"
node_id = "n"
credential = "c"
registry "ghcr.io" {
  username = "bot"
  password = env("CATALYST_TEST_GHCR")
}
registry "registry.local:5000" {
  plain_http = true
  password   = env("CATALYST_TEST_UNSET", "fallback")
}
`
	c, err := Parse("agent.hcl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Registries) != 2 || c.Registries[0].Host != "ghcr.io" || c.Registries[0].Password != "s3cret" ||
		!c.Registries[1].PlainHTTP || c.Registries[1].Password != "fallback" {
		t.Errorf("registries: %+v", c.Registries)
	}
}

func TestInvalidSettingsRefused(t *testing.T) {
	base := "core_url = \"http://x\"\nnode_id = \"n\"\ncredential = \"c\"\n"
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"root user", "runtime {\n  uid = 0\n}\n", "non-root"},
		{"bad stop grace", "runtime {\n  stop_grace = \"soon\"\n}\n", "stop_grace"},
		{"bad network mode", "network {\n  mode = \"overlay\"\n}\n", "mode"},
		{"registry twice", "registry \"a\" {\n}\nregistry \"a\" {\n}\n", "twice"},
		{"unset env without default", "registry \"a\" {\n  password = env(\"CATALYST_TEST_UNSET\")\n}\n", "CATALYST_TEST_UNSET is not set"},
		{"bad log level", "log {\n  level = \"loud\"\n}\n", "level"},
		{"stats interval not a duration", "stats {\n  interval = \"often\"\n}\n", `stats: interval "often" is not a duration`},
		{"stats interval too short", "stats {\n  interval = \"100ms\"\n}\n", `stats: interval "100ms" is below the minimum of 500ms`},
		{"health interval too short", "stats {\n  health_interval = \"500ms\"\n}\n", `stats: health_interval "500ms" is below the minimum of 1s`},
		{"disk interval too short", "stats {\n  disk_interval = \"1s\"\n}\n", `stats: disk_interval "1s" is below the minimum of 10s`},
		{"unknown stats key", "stats {\n  period = \"1s\"\n}\n", "agent.hcl:5:3: Unsupported argument"},
		{"unknown quota action", "disk_quota {\n  action = \"delete\"\n}\n", `disk_quota: action "delete"`},
		{"negative quota grace", "disk_quota {\n  grace = \"-1m\"\n}\n", `disk_quota: grace "-1m"`},
		{"quota grace not a duration", "disk_quota {\n  grace = \"later\"\n}\n", `disk_quota: grace "later"`},
		{"negative throttle lines", "console {\n  throttle_lines = -1\n}\n", "console: throttle_lines"},
		{"bad throttle period", "console {\n  throttle_period = \"often\"\n}\n", "console: throttle_period \"often\""},
		{"zero throttle period", "console {\n  throttle_period = \"0s\"\n}\n", "console: throttle_period"},
		{"history over the log request cap", "console {\n  history_lines = 5001\n}\n", "console: history_lines"},
		{"negative log size", "console {\n  log_max_mb = -1\n}\n", "console: log_max_mb"},
		{"too many log files", "console {\n  log_files = 101\n}\n", "console: log_files"},
		{"sftp listen without port", "sftp {\n  listen = \"0.0.0.0\"\n}\n", `sftp: listen "0.0.0.0" is not host:port`},
		{"sftp listen port out of range", "sftp {\n  listen = \":70000\"\n}\n", `sftp: listen ":70000": the port must be`},
		{"sftp idle timeout not a duration", "sftp {\n  idle_timeout = \"long\"\n}\n", `sftp: idle_timeout "long" is not a duration`},
		{"sftp idle timeout too short", "sftp {\n  idle_timeout = \"5s\"\n}\n", `sftp: idle_timeout "5s" is below the minimum of 30s`},
		{"sftp negative max sessions", "sftp {\n  max_sessions = -1\n}\n", "sftp: max_sessions"},
		{"unknown sftp key", "sftp {\n  port = 22\n}\n", "agent.hcl:5:3: Unsupported argument"},
		{"negative upload cap", "files {\n  max_upload_mb = -1\n}\n", "files: max_upload_mb"},
		{"negative pull cap", "files {\n  pull_max_mb = -5\n}\n", "files: pull_max_mb"},
		{"pull timeout not a duration", "files {\n  pull_timeout = \"long\"\n}\n", `files: pull_timeout "long"`},
		{"zero pull timeout", "files {\n  pull_timeout = \"0s\"\n}\n", `files: pull_timeout "0s"`},
		{"negative redirects", "files {\n  pull_max_redirects = -1\n}\n", "files: pull_max_redirects"},
		{"too many redirects", "files {\n  pull_max_redirects = 21\n}\n", "files: pull_max_redirects"},
		{"allowed network not a CIDR", "files {\n  pull_allow_networks = [\"10.0.0.0/8\", \"lan\"]\n}\n", `files: pull_allow_networks: "lan"`},
		{"allowed network without a prefix length", "files {\n  pull_allow_networks = [\"10.0.0.1\"]\n}\n", `files: pull_allow_networks: "10.0.0.1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("agent.hcl", []byte(base+tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestBackupsValidation(t *testing.T) {
	base := "core_url = \"http://x\"\nnode_id = \"n\"\ncredential = \"c\"\n"
	for _, tc := range []struct {
		name, block, want string
	}{
		{"unknown compression", `backups { compression = "lz4" }`, `backups: compression "lz4"`},
		{"gzip level above 9", `backups {
  compression = "gzip"
  level = 12
}`, "between 0 (the default) and 9 for gzip"},
		{"negative rate limit", `backups { rate_limit_mb = -1 }`, "rate_limit_mb is negative"},
		{"plugin without path", `plugin "s3" {
  config { bucket = "b" }
}`, `agent.hcl:4`},
		{"duplicate plugin", `plugin "a" { path = "x" }
plugin "a" { path = "y" }`, "Duplicate plugin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("agent.hcl", []byte(base+tc.block+"\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	c, err := Parse("agent.hcl", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.Backups.Compression != "zstd" || c.PluginDir != "/usr/lib/catalyst/plugins" || len(c.PluginSpecs) != 0 {
		t.Fatalf("defaults: %+v, plugin_dir %q, %d plugins", c.Backups, c.PluginDir, len(c.PluginSpecs))
	}
}
