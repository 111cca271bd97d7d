// Package config reads the core's HCL configuration.
//
// The file is optional: without one the core runs on embedded defaults
// (SQLite under ./data, listening on 127.0.0.1:8080). Every key is documented
// in config/core.hcl at the repository root. Unknown keys are errors, and every
// error names the file, line and column it comes from.
package config

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"catalyst.dev/sdk/hclconfig"
	"catalyst.dev/sdk/plugin/host"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// Database drivers the core can run on.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Log formats.
const (
	LogText = "text"
	LogJSON = "json"
)

// Config is the core's whole configuration after defaults are applied.
type Config struct {
	// Listen is the address the HTTP API and web UI listen on.
	Listen string `hcl:"listen,optional"`
	// DataDir holds the SQLite database and generated secrets.
	DataDir string `hcl:"data_dir,optional"`
	// PublicURL is how agents and browsers reach this core; it goes into
	// the agent command printed for a new node. Default: http://<listen>.
	PublicURL string `hcl:"public_url,optional"`

	// PluginDir is where plugin paths that are not absolute are found.
	PluginDir string `hcl:"plugin_dir,optional"`
	// Plugins are the plugin blocks as written; PluginSpecs, decoded.
	Plugins     []host.Block `hcl:"plugin,block"`
	PluginSpecs []host.Spec

	Database   *Database    `hcl:"database,block"`
	Auth       *Auth        `hcl:"auth,block"`
	HTTP       *HTTP        `hcl:"http,block"`
	RateLimits []*RateLimit `hcl:"rate_limit,block"`
	Log        *Log         `hcl:"log,block"`
	Gateway    *Gateway     `hcl:"gateway,block"`
	Servers    *Servers     `hcl:"servers,block"`
	WebSocket  *WebSocket   `hcl:"websocket,block"`
	Metrics    *Metrics     `hcl:"metrics,block"`
	Files      *Files       `hcl:"files,block"`
	SFTP       *SFTP        `hcl:"sftp,block"`
	Backups    *Backups     `hcl:"backups,block"`
	Alerts     *Alerts      `hcl:"alerts,block"`
	Schedules  *Schedules   `hcl:"schedules,block"`

	// files are the parsed sources, for rendering later diagnostics (a
	// plugin's config checked against its schema at launch) with excerpts.
	files map[string]*hcl.File
}

// SourceFiles are the configuration's parsed files, for rendering diagnostics
// found later (a plugin's config block checked against its schema at
// launch) with excerpts.
func (c *Config) SourceFiles() map[string]*hcl.File { return c.files }

// HTTP tunes the API server's protections.
type HTTP struct {
	// CORSOrigins may call the API from a browser ("*" for any; empty for
	// same-origin only).
	CORSOrigins []string `hcl:"cors_origins,optional"`
	// MaxBodyKB caps JSON request bodies; file uploads have their own limit.
	MaxBodyKB int64 `hcl:"max_body_kb,optional"`
	// TrustedProxies are addresses or CIDRs whose X-Forwarded-For is
	// believed when finding a client's IP.
	TrustedProxies []string `hcl:"trusted_proxies,optional"`
	// HSTS sends Strict-Transport-Security; turn on behind HTTPS only.
	HSTS bool `hcl:"hsts,optional"`

	Body hcl.Body `hcl:",body"`
}

// RateLimit is a token bucket per user and per client IP for one group of
// routes ("api", "auth"), in requests per minute. Zero disables that side.
type RateLimit struct {
	Group    string    `hcl:"group,label"`
	PerUser  int       `hcl:"per_user,optional"`
	PerIP    int       `hcl:"per_ip,optional"`
	DefRange hcl.Range `hcl:",def_range"`
}

// RateLimitGroups are the route groups a rate_limit block may name.
var RateLimitGroups = []string{"api", "auth"}

// RateLimitFor returns the limits of group, or the defaults.
func (c *Config) RateLimitFor(group string) RateLimit {
	for _, r := range c.RateLimits {
		if r.Group == group {
			return *r
		}
	}
	switch group {
	case "auth":
		return RateLimit{Group: group, PerIP: 30}
	default:
		return RateLimit{Group: group, PerUser: 100, PerIP: 200}
	}
}

// Database selects and tunes the store.
type Database struct {
	Driver string `hcl:"driver,optional"`
	// Path is the SQLite file, relative to DataDir unless absolute.
	Path string `hcl:"path,optional"`
	// DSN is the PostgreSQL connection string.
	DSN          string `hcl:"dsn,optional"`
	MaxOpenConns int    `hcl:"max_open_conns,optional"`

	// Body is kept so validation can point at the offending attribute.
	Body hcl.Body `hcl:",body"`
}

// Auth holds token signing material.
type Auth struct {
	// JWTSecret signs access tokens. Empty means: generate one on first
	// start and keep it in DataDir/jwt-secret.
	JWTSecret string `hcl:"jwt_secret,optional"`
	// AccessTokenTTL and RefreshTokenTTL are Go durations ("15m", "720h").
	AccessTokenTTL  string `hcl:"access_token_ttl,optional"`
	RefreshTokenTTL string `hcl:"refresh_token_ttl,optional"`
	// LoginAttemptsPerMinute throttles password guesses per IP and email.
	LoginAttemptsPerMinute int `hcl:"login_attempts_per_minute,optional"`

	// Body is kept so validation can point at the offending attribute.
	Body hcl.Body `hcl:",body"`
}

// Log configures the process logger.
type Log struct {
	Level  string `hcl:"level,optional"`
	Format string `hcl:"format,optional"`

	// Body is kept so validation can point at the offending attribute.
	Body hcl.Body `hcl:",body"`
}

// Gateway tunes the agent tunnels.
type Gateway struct {
	// HeartbeatInterval is how often agents are told to send a heartbeat.
	HeartbeatInterval string `hcl:"heartbeat_interval,optional"`
	// OfflineAfter is the silence after which a node is marked offline and
	// its tunnel closed.
	OfflineAfter string `hcl:"offline_after,optional"`
	// ImageImportMaxMB caps an image archive uploaded to a node.
	ImageImportMaxMB int64 `hcl:"image_import_max_mb,optional"`

	// Body is kept so validation can point at the offending attribute.
	Body hcl.Body `hcl:",body"`
}

// HeartbeatEvery is the parsed heartbeat interval.
func (g *Gateway) HeartbeatEvery() time.Duration {
	d, _ := time.ParseDuration(g.HeartbeatInterval)
	return d
}

// OfflineAfterDuration is the parsed offline timeout.
func (g *Gateway) OfflineAfterDuration() time.Duration {
	d, _ := time.ParseDuration(g.OfflineAfter)
	return d
}

// Servers tunes how servers are run.
type Servers struct {
	// StopTimeout is how long a server gets to stop after its stop command
	// before the agent terminates it.
	StopTimeout string `hcl:"stop_timeout,optional"`

	// Body is kept so validation can point at the offending attribute.
	Body hcl.Body `hcl:",body"`
}

// StopTimeoutDuration is the parsed stop timeout.
func (s *Servers) StopTimeoutDuration() time.Duration {
	d, _ := time.ParseDuration(s.StopTimeout)
	return d
}

// Metrics tunes the resource history and the Prometheus endpoint.
type Metrics struct {
	// FlushInterval is how often the latest stats samples are written to
	// the database, one row per server and node.
	FlushInterval string `hcl:"flush_interval,optional"`
	// Retention is how long samples are kept.
	Retention string `hcl:"retention,optional"`
	// PrometheusToken, when set, is the bearer token GET /metrics asks
	// for; when empty, /metrics answers loopback clients only.
	PrometheusToken string `hcl:"prometheus_token,optional"`

	// Body is kept so validation can point at the offending attribute.
	Body hcl.Body `hcl:",body"`
}

// FlushEvery is the parsed flush interval.
func (m *Metrics) FlushEvery() time.Duration {
	d, _ := time.ParseDuration(m.FlushInterval)
	return d
}

// RetentionDuration is the parsed retention period.
func (m *Metrics) RetentionDuration() time.Duration {
	d, _ := time.ParseDuration(m.Retention)
	return d
}

// Files tunes the file manager routes (/api/servers/:id/files…).
type Files struct {
	// MaxUploadMB caps one upload or file write through the API, in MiB.
	// The body streams to the node; the server's disk limit still applies.
	MaxUploadMB int64 `hcl:"max_upload_mb,optional"`

	// Body is kept so validation can point at the offending attribute.
	Body hcl.Body `hcl:",body"`
}

// Default returns the configuration used when no file is given.
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

func (c *Config) applyDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.PluginDir == "" {
		c.PluginDir = "./bin/plugins"
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Listen
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.Database == nil {
		c.Database = &Database{}
	}
	if c.Database.Driver == "" {
		c.Database.Driver = DriverSQLite
	}
	if c.Database.Path == "" {
		c.Database.Path = "catalyst.db"
	}
	if c.Database.MaxOpenConns == 0 {
		c.Database.MaxOpenConns = 20
	}
	if c.Auth == nil {
		c.Auth = &Auth{}
	}
	if c.Auth.AccessTokenTTL == "" {
		c.Auth.AccessTokenTTL = "15m"
	}
	if c.Auth.RefreshTokenTTL == "" {
		c.Auth.RefreshTokenTTL = "720h"
	}
	if c.Auth.LoginAttemptsPerMinute == 0 {
		c.Auth.LoginAttemptsPerMinute = 5
	}
	if c.HTTP == nil {
		c.HTTP = &HTTP{}
	}
	if c.HTTP.MaxBodyKB == 0 {
		c.HTTP.MaxBodyKB = 1024
	}
	if c.Gateway == nil {
		c.Gateway = &Gateway{}
	}
	if c.Gateway.HeartbeatInterval == "" {
		c.Gateway.HeartbeatInterval = "10s"
	}
	if c.Gateway.OfflineAfter == "" {
		c.Gateway.OfflineAfter = "30s"
	}
	if c.Gateway.ImageImportMaxMB == 0 {
		c.Gateway.ImageImportMaxMB = 8192
	}
	if c.Servers == nil {
		c.Servers = &Servers{}
	}
	if c.Servers.StopTimeout == "" {
		c.Servers.StopTimeout = "30s"
	}
	if c.WebSocket == nil {
		c.WebSocket = &WebSocket{}
	}
	c.WebSocket.applyDefaults()
	if c.Metrics == nil {
		c.Metrics = &Metrics{}
	}
	if c.Metrics.FlushInterval == "" {
		c.Metrics.FlushInterval = "30s"
	}
	if c.Metrics.Retention == "" {
		c.Metrics.Retention = "720h"
	}
	if c.Files == nil {
		c.Files = &Files{}
	}
	if c.Files.MaxUploadMB == 0 {
		c.Files.MaxUploadMB = 10240
	}
	if c.SFTP == nil {
		c.SFTP = &SFTP{}
	}
	c.SFTP.applyDefaults()
	if c.Backups == nil {
		c.Backups = &Backups{}
	}
	c.Backups.applyDefaults()
	if c.Alerts == nil {
		c.Alerts = &Alerts{}
	}
	c.Alerts.applyDefaults()
	if c.Schedules == nil {
		c.Schedules = &Schedules{}
	}
	c.Schedules.applyDefaults()
	if c.Log == nil {
		c.Log = &Log{}
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = LogText
	}
}

// SQLitePath is the database file the sqlite driver opens.
func (c *Config) SQLitePath() string {
	if filepath.IsAbs(c.Database.Path) {
		return c.Database.Path
	}
	return filepath.Join(c.DataDir, c.Database.Path)
}

// Load reads and validates the file at path. The returned error, when it
// comes from the file's content, is a *DiagnosticsError.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, src)
}

// Parse decodes src as if read from the file named filename.
func Parse(filename string, src []byte) (*Config, error) {
	parser := hclparse.NewParser()
	file, diags := parser.ParseHCL(src, filename)
	if diags.HasErrors() {
		return nil, newDiagnosticsError(diags, parser.Files())
	}

	var c Config
	diags = gohcl.DecodeBody(file.Body, hclconfig.EvalContext(), &c)
	if !diags.HasErrors() {
		diags = append(diags, c.validate(file.Body)...)
		var pd hcl.Diagnostics
		c.PluginSpecs, pd = host.DecodeBlocks(c.Plugins, hclconfig.EvalContext())
		diags = append(diags, pd...)
	}
	c.files = parser.Files()
	if diags.HasErrors() {
		return nil, newDiagnosticsError(diags, c.files)
	}
	c.applyDefaults()
	return &c, nil
}

// validate checks values gohcl cannot: enumerations and combinations. Each
// problem points at the attribute that causes it.
func (c *Config) validate(root hcl.Body) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if c.Database != nil {
		db := c.Database
		switch db.Driver {
		case "", DriverSQLite:
			if db.DSN != "" {
				diags = append(diags, attrError(db.Body, "dsn",
					"DSN set for the sqlite driver",
					`"dsn" is only read by driver = "postgres"; remove it or set driver = "postgres".`))
			}
		case DriverPostgres:
			if db.DSN == "" {
				diags = append(diags, attrError(db.Body, "driver",
					"Missing PostgreSQL DSN",
					`driver = "postgres" needs dsn = "postgres://user:pass@host:5432/db", for example dsn = env("CATALYST_DATABASE_DSN").`))
			}
		default:
			diags = append(diags, attrError(db.Body, "driver",
				"Unknown database driver",
				fmt.Sprintf(`driver must be "sqlite" or "postgres", not %q.`, db.Driver)))
		}
		if db.MaxOpenConns < 0 {
			diags = append(diags, attrError(db.Body, "max_open_conns",
				"Invalid max_open_conns", "max_open_conns must be zero (the default) or positive."))
		}
	}
	if c.Log != nil {
		switch strings.ToLower(c.Log.Level) {
		case "", "trace", "debug", "info", "warn", "error":
		default:
			diags = append(diags, attrError(c.Log.Body, "level",
				"Unknown log level", fmt.Sprintf(`level must be one of trace, debug, info, warn, error; not %q.`, c.Log.Level)))
		}
		switch c.Log.Format {
		case "", LogText, LogJSON:
		default:
			diags = append(diags, attrError(c.Log.Body, "format",
				"Unknown log format", fmt.Sprintf(`format must be "text" or "json", not %q.`, c.Log.Format)))
		}
	}
	if c.Auth != nil {
		if c.Auth.JWTSecret != "" && len(c.Auth.JWTSecret) < 32 {
			diags = append(diags, attrError(c.Auth.Body, "jwt_secret",
				"JWT secret too short", "jwt_secret must be at least 32 characters; leave it unset to have one generated."))
		}
		checkDuration(&diags, c.Auth.Body, "access_token_ttl", c.Auth.AccessTokenTTL, `"15m"`)
		checkDuration(&diags, c.Auth.Body, "refresh_token_ttl", c.Auth.RefreshTokenTTL, `"720h"`)
		if c.Auth.LoginAttemptsPerMinute < 0 {
			diags = append(diags, attrError(c.Auth.Body, "login_attempts_per_minute",
				"Invalid login_attempts_per_minute", "login_attempts_per_minute must be positive."))
		}
	}
	if c.HTTP != nil {
		for _, p := range c.HTTP.TrustedProxies {
			if _, err := netip.ParsePrefix(p); err != nil {
				if _, err := netip.ParseAddr(p); err != nil {
					diags = append(diags, attrError(c.HTTP.Body, "trusted_proxies",
						"Invalid trusted proxy", fmt.Sprintf("%q is not an IP address or CIDR prefix.", p)))
				}
			}
		}
		if c.HTTP.MaxBodyKB < 0 {
			diags = append(diags, attrError(c.HTTP.Body, "max_body_kb", "Invalid max_body_kb", "max_body_kb must be positive."))
		}
	}
	diags = append(diags, c.validateGateway()...)
	if c.WebSocket != nil {
		diags = append(diags, c.WebSocket.validate()...)
	}
	diags = append(diags, c.validateMetrics()...)
	if c.Files != nil && c.Files.MaxUploadMB < 0 {
		diags = append(diags, attrError(c.Files.Body, "max_upload_mb", "Invalid max_upload_mb", "max_upload_mb must be positive."))
	}
	if c.SFTP != nil {
		diags = append(diags, c.SFTP.validate()...)
	}
	if c.Backups != nil {
		diags = append(diags, c.Backups.validate()...)
	}
	var plugins []string
	for _, p := range c.Plugins {
		plugins = append(plugins, p.Name)
	}
	if c.Alerts != nil {
		diags = append(diags, c.Alerts.validate(plugins)...)
	}
	if c.Schedules != nil {
		diags = append(diags, c.Schedules.validate(plugins)...)
	}
	if c.Servers != nil {
		checkDuration(&diags, c.Servers.Body, "stop_timeout", c.Servers.StopTimeout, `"30s"`)
	}
	seen := map[string]bool{}
	for _, r := range c.RateLimits {
		switch {
		case !slices.Contains(RateLimitGroups, r.Group):
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Subject: &r.DefRange,
				Summary: "Unknown rate_limit group",
				Detail:  fmt.Sprintf("rate_limit %q: the groups are %s.", r.Group, strings.Join(RateLimitGroups, ", "))})
		case seen[r.Group]:
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Subject: &r.DefRange,
				Summary: "Duplicate rate_limit block", Detail: fmt.Sprintf("rate_limit %q is declared twice.", r.Group)})
		case r.PerUser < 0 || r.PerIP < 0:
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Subject: &r.DefRange,
				Summary: "Invalid rate limit", Detail: "per_user and per_ip are requests per minute: zero (off) or positive."})
		}
		seen[r.Group] = true
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		diags = append(diags, attrError(root, "public_url",
			"Invalid public URL", fmt.Sprintf(`public_url must start with http:// or https://, not %q.`, c.PublicURL)))
	}
	if c.Listen != "" && !strings.Contains(c.Listen, ":") {
		diags = append(diags, attrError(root, "listen",
			"Invalid listen address", fmt.Sprintf(`listen must be host:port, such as "127.0.0.1:8080", not %q.`, c.Listen)))
	}
	return diags
}

// AccessTTL is the parsed access token lifetime.
func (a *Auth) AccessTTL() time.Duration { d, _ := time.ParseDuration(a.AccessTokenTTL); return d }

// RefreshTTL is the parsed refresh token lifetime.
func (a *Auth) RefreshTTL() time.Duration { d, _ := time.ParseDuration(a.RefreshTokenTTL); return d }

// validateGateway checks the gateway block: positive durations, and an
// offline timeout that leaves room for more than one missed heartbeat.
func (c *Config) validateGateway() hcl.Diagnostics {
	g := c.Gateway
	if g == nil {
		return nil
	}
	var diags hcl.Diagnostics
	hb := checkDuration(&diags, g.Body, "heartbeat_interval", g.HeartbeatInterval, `"10s"`)
	if g.HeartbeatInterval == "" {
		hb = 10 * time.Second
	}
	if off := checkDuration(&diags, g.Body, "offline_after", g.OfflineAfter, `"30s"`); off > 0 && hb > 0 && off < 2*hb {
		diags = append(diags, attrError(g.Body, "offline_after",
			"offline_after too short", fmt.Sprintf("offline_after (%s) must be at least twice heartbeat_interval (%s), or one late heartbeat marks a node offline.", off, hb)))
	}
	if g.ImageImportMaxMB < 0 {
		diags = append(diags, attrError(g.Body, "image_import_max_mb", "Invalid image_import_max_mb", "image_import_max_mb must be positive."))
	}
	return diags
}

// Bounds of the metrics block. A flush is a database write, so not more
// often than every 5s; an hour of history is the least the API shows.
const (
	minMetricsFlush     = 5 * time.Second
	minMetricsRetention = time.Hour
	minPrometheusToken  = 16
)

// validateMetrics checks the metrics block: durations in bounds, a flush
// interval shorter than the retention, and a token long enough not to be
// guessed.
func (c *Config) validateMetrics() hcl.Diagnostics {
	m := c.Metrics
	if m == nil {
		return nil
	}
	var diags hcl.Diagnostics
	flush := checkDuration(&diags, m.Body, "flush_interval", m.FlushInterval, `"30s"`)
	if flush > 0 && flush < minMetricsFlush {
		diags = append(diags, attrError(m.Body, "flush_interval",
			"flush_interval too short", fmt.Sprintf("flush_interval (%s) must be at least %s: every flush is a database write.", flush, minMetricsFlush)))
	}
	if flush == 0 && m.FlushInterval == "" {
		flush = 30 * time.Second
	}
	keep := checkDuration(&diags, m.Body, "retention", m.Retention, `"720h"`)
	switch {
	case keep > 0 && keep < minMetricsRetention:
		diags = append(diags, attrError(m.Body, "retention",
			"retention too short", fmt.Sprintf("retention (%s) must be at least %s.", keep, minMetricsRetention)))
	case keep > 0 && flush > 0 && keep <= flush:
		diags = append(diags, attrError(m.Body, "retention",
			"retention shorter than flush_interval", fmt.Sprintf("retention (%s) must be longer than flush_interval (%s), or samples are deleted as they are written.", keep, flush)))
	}
	if m.PrometheusToken != "" && len(m.PrometheusToken) < minPrometheusToken {
		diags = append(diags, attrError(m.Body, "prometheus_token",
			"prometheus_token too short", fmt.Sprintf("prometheus_token must be at least %d characters, or empty to allow loopback scrapes only; for example prometheus_token = env(\"CATALYST_PROMETHEUS_TOKEN\").", minPrometheusToken)))
	}
	return diags
}

// checkDuration parses an optional duration attribute: empty is unset
// (zero); anything else must be a positive Go duration such as example, or
// an error is appended to diags and the result is zero.
func checkDuration(diags *hcl.Diagnostics, body hcl.Body, name, value, example string) time.Duration {
	if value == "" {
		return 0
	}
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		*diags = append(*diags, attrError(body, name,
			"Invalid duration", fmt.Sprintf(`%s must be a positive duration such as %s, not %q.`, name, example, value)))
		return 0
	}
	return d
}
