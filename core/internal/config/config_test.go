package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseAppliesDefaults(t *testing.T) {
	c, err := Parse("core.hcl", []byte(`listen = "0.0.0.0:9000"`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:9000" || c.Database.Driver != DriverSQLite || c.DataDir != "./data" || c.Log.Format != LogText {
		t.Fatalf("unexpected config: %+v db=%+v log=%+v", c, c.Database, c.Log)
	}
	if got, want := c.SQLitePath(), "data/catalyst.db"; got != want {
		t.Fatalf("SQLitePath = %q, want %q", got, want)
	}
}

func TestParseReadsSecretsFromEnvironment(t *testing.T) {
	t.Setenv("TEST_CATALYST_DSN", "postgres://u@h/db")
	c, err := Parse("core.hcl", []byte(`
database {
  driver = "postgres"
  dsn    = env("TEST_CATALYST_DSN")
}
auth {
  jwt_secret = env("TEST_CATALYST_UNSET_SECRET", "0123456789abcdef0123456789abcdef")
}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.DSN != "postgres://u@h/db" || c.Auth.JWTSecret != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("env not applied: dsn=%q secret=%q", c.Database.DSN, c.Auth.JWTSecret)
	}
}

func TestParseRejectsBadFilesWithPosition(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string // substrings of the error, in order
	}{
		{"syntax error", "listen = \"a:1\"\ndatabase {\n  driver = \n}\n", []string{"core.hcl:3:"}},
		{"unknown top-level key", "listen = \"a:1\"\nlisten_port = 8080\n", []string{"core.hcl:2:1: Unsupported argument", "listen_port"}},
		{"unknown block key", "database {\n  driver = \"sqlite\"\n  pasword = \"x\"\n}\n", []string{"core.hcl:3:3: Unsupported argument", "pasword"}},
		{"wrong type", "database {\n  max_open_conns = \"many\"\n}\n", []string{"core.hcl:2:", "number"}},
		{"unknown driver", "database {\n  driver = \"mysql\"\n}\n", []string{"core.hcl:2:12: Unknown database driver", `"mysql"`}},
		{"postgres without dsn", "database {\n  driver = \"postgres\"\n}\n", []string{"core.hcl:2:", "Missing PostgreSQL DSN"}},
		{"missing env var", "auth {\n  jwt_secret = env(\"TEST_CATALYST_NOT_SET_ANYWHERE\")\n}\n", []string{"core.hcl:2:", "TEST_CATALYST_NOT_SET_ANYWHERE is not set"}},
		{"short secret", "auth {\n  jwt_secret = \"short\"\n}\n", []string{"core.hcl:2:16: JWT secret too short"}},
		{"bad log format", "log {\n  format = \"xml\"\n}\n", []string{"core.hcl:2:12: Unknown log format"}},
		{"bad listen", "listen = \"8080\"\n", []string{"core.hcl:1:10: Invalid listen address"}},
		{"bad heartbeat", "gateway {\n  heartbeat_interval = \"often\"\n}\n", []string{"core.hcl:2:", "Invalid duration"}},
		{"offline before two heartbeats", "gateway {\n  heartbeat_interval = \"10s\"\n  offline_after = \"15s\"\n}\n", []string{"core.hcl:3:", "offline_after too short"}},
		{"bad stop timeout", "servers {\n  stop_timeout = \"-1s\"\n}\n", []string{"core.hcl:2:", "Invalid duration"}},
		{"zero token lifetime", "auth {\n  refresh_token_ttl = \"0s\"\n}\n", []string{"core.hcl:2:", "Invalid duration", "refresh_token_ttl"}},
		{"bad metrics flush interval", "metrics {\n  flush_interval = \"soon\"\n}\n", []string{"core.hcl:2:", "Invalid duration", "flush_interval"}},
		{"metrics flush too often", "metrics {\n  flush_interval = \"1s\"\n}\n", []string{"core.hcl:2:", "flush_interval too short"}},
		{"metrics retention too short", "metrics {\n  retention = \"10m\"\n}\n", []string{"core.hcl:2:", "retention too short"}},
		{"metrics retention within a flush", "metrics {\n  flush_interval = \"2h\"\n  retention = \"90m\"\n}\n", []string{"core.hcl:3:", "retention shorter than flush_interval"}},
		{"negative upload limit", "files {\n  max_upload_mb = -1\n}\n", []string{"core.hcl:2:", "Invalid max_upload_mb"}},
		{"short prometheus token", "metrics {\n  prometheus_token = \"secret\"\n}\n", []string{"core.hcl:2:", "prometheus_token too short"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("core.hcl", []byte(tc.src))
			if err == nil {
				t.Fatal("Parse accepted a bad file")
			}
			var de *DiagnosticsError
			if !errors.As(err, &de) {
				t.Fatalf("error is %T, want *DiagnosticsError: %v", err, err)
			}
			msg := err.Error()
			rest := msg
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error %q does not contain %q", msg, w)
				}
				rest = rest[i+len(w):]
			}
			if !strings.Contains(msg, "^") {
				t.Fatalf("error %q does not show the source line", msg)
			}
		})
	}
}

// The documented example must stay loadable and equal to the defaults it
// claims to show.
func TestExampleCoreConfigIsTheDefaults(t *testing.T) {
	c, err := Load("../../../config/core.hcl")
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if c.Listen != d.Listen || c.DataDir != d.DataDir || c.Log.Level != d.Log.Level || c.Log.Format != d.Log.Format ||
		c.Database.Driver != d.Database.Driver || c.Database.Path != d.Database.Path ||
		c.Database.MaxOpenConns != d.Database.MaxOpenConns || c.Auth.JWTSecret != d.Auth.JWTSecret ||
		c.Auth.AccessTokenTTL != d.Auth.AccessTokenTTL || c.Auth.RefreshTokenTTL != d.Auth.RefreshTokenTTL ||
		c.Auth.LoginAttemptsPerMinute != d.Auth.LoginAttemptsPerMinute || c.HTTP.MaxBodyKB != d.HTTP.MaxBodyKB ||
		len(c.HTTP.CORSOrigins) != 0 || len(c.HTTP.TrustedProxies) != 0 || c.HTTP.HSTS ||
		c.Gateway.HeartbeatInterval != d.Gateway.HeartbeatInterval || c.Gateway.OfflineAfter != d.Gateway.OfflineAfter ||
		c.Gateway.ImageImportMaxMB != d.Gateway.ImageImportMaxMB || c.Servers.StopTimeout != d.Servers.StopTimeout ||
		c.Metrics.FlushInterval != d.Metrics.FlushInterval || c.Metrics.Retention != d.Metrics.Retention ||
		c.Metrics.PrometheusToken != d.Metrics.PrometheusToken || c.Files.MaxUploadMB != d.Files.MaxUploadMB {
		t.Fatalf("config/core.hcl differs from the defaults:\nfile:     %+v %+v %+v\ndefaults: %+v %+v %+v",
			c, c.Database, c.Log, d, d.Database, d.Log)
	}
}

func TestRateLimitDefaultsMatchTheExample(t *testing.T) {
	c, err := Load("../../../config/core.hcl")
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	for _, g := range RateLimitGroups {
		got, want := c.RateLimitFor(g), d.RateLimitFor(g)
		if got.PerUser != want.PerUser || got.PerIP != want.PerIP {
			t.Errorf("rate_limit %q: example %+v, default %+v", g, got, want)
		}
	}
	if _, err := Parse("core.hcl", []byte("rate_limit \"uploads\" {\n  per_ip = 1\n}\n")); err == nil ||
		!strings.Contains(err.Error(), "core.hcl:1:1: Unknown rate_limit group") {
		t.Errorf("unknown group: %v", err)
	}
}

func TestMetricsBlockIsReadAndDefaulted(t *testing.T) {
	d := Default()
	if d.Metrics.FlushEvery() != 30*time.Second || d.Metrics.RetentionDuration() != 720*time.Hour || d.Metrics.PrometheusToken != "" {
		t.Fatalf("metrics defaults = %+v", d.Metrics)
	}
	c, err := Parse("core.hcl", []byte("metrics {\n  flush_interval = \"1m\"\n  retention = \"168h\"\n  prometheus_token = \"0123456789abcdef\"\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Metrics.FlushEvery() != time.Minute || c.Metrics.RetentionDuration() != 168*time.Hour || c.Metrics.PrometheusToken != "0123456789abcdef" {
		t.Fatalf("metrics block read as %+v", c.Metrics)
	}
	// Only the retention set: the flush interval keeps its default.
	c, err = Parse("core.hcl", []byte("metrics {\n  retention = \"2h\"\n}\n"))
	if err != nil || c.Metrics.FlushEvery() != 30*time.Second {
		t.Fatalf("partial metrics block: %+v, %v", c, err)
	}
}
