// Package config reads the agent's HCL configuration (agent.hcl). Every key
// is documented in config/agent.hcl at the repository root.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"catalyst.dev/sdk/hclconfig"
	"catalyst.dev/sdk/plugin/host"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// Config is the agent's configuration after defaults are applied.
type Config struct {
	// CoreURL is the core the agent dials, e.g. "https://panel.example.com".
	CoreURL string `hcl:"core_url"`
	// NodeID and Credential identify this node to the core; written by
	// `catalyst-agent configure`.
	NodeID     string `hcl:"node_id"`
	Credential string `hcl:"credential"`
	// DataDir holds server volumes, console logs and the SFTP host key.
	DataDir string `hcl:"data_dir,optional"`

	Containerd *Containerd `hcl:"containerd,block"`
	Runtime    *Runtime    `hcl:"runtime,block"`
	Network    *Network    `hcl:"network,block"`
	Registries []Registry  `hcl:"registry,block"`
	Log        *Log        `hcl:"log,block"`
	Stats      *Stats      `hcl:"stats,block"`
	DiskQuota  *DiskQuota  `hcl:"disk_quota,block"`
	Console    *Console    `hcl:"console,block"`
	SFTP       *SFTP       `hcl:"sftp,block"`
	Files      *Files      `hcl:"files,block"`
	Backups    *Backups    `hcl:"backups,block"`

	// PluginDir is where plugin paths that are not absolute are found.
	PluginDir string `hcl:"plugin_dir,optional"`
	// Plugins are the plugin blocks as written (backup stores run on the
	// agent, next to the volumes); PluginSpecs, decoded.
	Plugins     []host.Block `hcl:"plugin,block"`
	PluginSpecs []host.Spec

	// files are the parsed sources, for rendering diagnostics found later
	// (a plugin's config checked against its schema at launch).
	files map[string]*hcl.File
}

// SourceFiles are the configuration's parsed files, for rendering diagnostics
// found later (a plugin's config block checked against its schema at
// launch) with excerpts.
func (c *Config) SourceFiles() map[string]*hcl.File { return c.files }

// Backups tunes how the agent makes the archives of backups and
// transfers.
type Backups struct {
	// Compression is "zstd" (default), "gzip" or "none".
	Compression string `hcl:"compression,optional"`
	// Level is the compression level, 0 for the compressor's default.
	Level int `hcl:"level,optional"`
	// Workers is how many goroutines compress, 0 for every CPU.
	Workers int `hcl:"workers,optional"`
	// RateLimitMB caps the file bytes a backup reads per second (MB/s),
	// so a backup does not starve the game servers' disk; 0 is no cap.
	RateLimitMB int `hcl:"rate_limit_mb,optional"`
}

func (b *Backups) validate() []string {
	var problems []string
	switch b.Compression {
	case "zstd", "gzip", "none":
	default:
		problems = append(problems, fmt.Sprintf("backups: compression %q: want \"zstd\", \"gzip\" or \"none\"", b.Compression))
	}
	if b.Level < 0 || b.Level > 22 {
		problems = append(problems, "backups: level must be between 0 (the default) and 22 (zstd) or 9 (gzip)")
	} else if b.Compression == "gzip" && b.Level > 9 {
		problems = append(problems, "backups: level must be between 0 (the default) and 9 for gzip")
	}
	if b.Workers < 0 || b.Workers > 256 {
		problems = append(problems, "backups: workers must be between 0 (every CPU) and 256")
	}
	if b.RateLimitMB < 0 {
		problems = append(problems, "backups: rate_limit_mb is negative (0 is no cap)")
	}
	return problems
}

// SFTP configures the agent's SFTP server.
type SFTP struct {
	// Enabled turns the server on (default true).
	Enabled *bool `hcl:"enabled,optional"`
	// Listen is host:port; default ":2022".
	Listen string `hcl:"listen,optional"`
	// HostKey is the ed25519 host key's file, made on first start.
	// Default "<data_dir>/sftp/ssh_host_ed25519_key".
	HostKey string `hcl:"host_key,optional"`
	// IdleTimeout closes a connection the client has been silent on for
	// this long. Default "15m".
	IdleTimeout string `hcl:"idle_timeout,optional"`
	// MaxSessions bounds the open connections. Default 1000.
	MaxSessions int `hcl:"max_sessions,optional"`
}

// IdleTimeoutDuration is IdleTimeout parsed (Load has validated it).
func (s *SFTP) IdleTimeoutDuration() time.Duration { return mustDuration(s.IdleTimeout) }

// The bounds of sftp settings.
const (
	minSFTPIdle        = 30 * time.Second
	maxSFTPMaxSessions = 100000
)

func (s *SFTP) validate() []string {
	var problems []string
	if _, port, err := net.SplitHostPort(s.Listen); err != nil {
		problems = append(problems, fmt.Sprintf("sftp: listen %q is not host:port, like \":2022\"", s.Listen))
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		problems = append(problems, fmt.Sprintf("sftp: listen %q: the port must be a number from 1 to 65535", s.Listen))
	}
	if d, err := time.ParseDuration(s.IdleTimeout); err != nil {
		problems = append(problems, fmt.Sprintf("sftp: idle_timeout %q is not a duration like \"15m\"", s.IdleTimeout))
	} else if d < minSFTPIdle {
		problems = append(problems, fmt.Sprintf("sftp: idle_timeout %q is below the minimum of %v", s.IdleTimeout, minSFTPIdle))
	}
	if s.MaxSessions < 0 || s.MaxSessions > maxSFTPMaxSessions {
		problems = append(problems, fmt.Sprintf("sftp: max_sessions must be between 1 and %d", maxSFTPMaxSessions))
	}
	return problems
}

// Files bounds the file manager's uploads and its pulls of files from
// URLs into volumes.
type Files struct {
	// MaxUploadMB caps one upload request (all its files together) and
	// one file write.
	MaxUploadMB int `hcl:"max_upload_mb,optional"`
	// PullMaxMB caps one pull; PullTimeout bounds it, connection to last
	// byte; PullMaxRedirects is how many redirects it follows (0: none).
	PullMaxMB        int    `hcl:"pull_max_mb,optional"`
	PullTimeout      string `hcl:"pull_timeout,optional"`
	PullMaxRedirects *int   `hcl:"pull_max_redirects,optional"`
	// PullAllowNetworks are CIDRs pulls may reach although they are
	// loopback, private, link-local or otherwise internal (refused by
	// default, so a pull cannot probe the node's network).
	PullAllowNetworks []string `hcl:"pull_allow_networks,optional"`
}

// PullTimeoutDuration is PullTimeout parsed (Load has validated it).
func (f *Files) PullTimeoutDuration() time.Duration { return mustDuration(f.PullTimeout) }

// AllowNetworks is PullAllowNetworks parsed (Load has validated them).
func (f *Files) AllowNetworks() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(f.PullAllowNetworks))
	for _, s := range f.PullAllowNetworks {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// maxPullRedirects bounds pull_max_redirects: a chain longer than that
// is a loop or an abuse.
const maxPullRedirects = 20

func (f *Files) validate() []string {
	var problems []string
	if f.MaxUploadMB < 0 {
		problems = append(problems, "files: max_upload_mb must be above 0")
	}
	if f.PullMaxMB < 0 {
		problems = append(problems, "files: pull_max_mb must be above 0")
	}
	if d, err := time.ParseDuration(f.PullTimeout); err != nil || d <= 0 {
		problems = append(problems, fmt.Sprintf("files: pull_timeout %q is not a duration above 0, like \"30m\"", f.PullTimeout))
	}
	if r := *f.PullMaxRedirects; r < 0 || r > maxPullRedirects {
		problems = append(problems, fmt.Sprintf("files: pull_max_redirects must be between 0 and %d", maxPullRedirects))
	}
	for _, s := range f.PullAllowNetworks {
		if _, err := netip.ParsePrefix(s); err != nil {
			problems = append(problems, fmt.Sprintf("files: pull_allow_networks: %q is not a CIDR like \"192.168.1.0/24\"", s))
		}
	}
	return problems
}

// Console configures each server's live console and its history on the
// node.
type Console struct {
	// ThrottleLines is how many console lines per ThrottlePeriod a server
	// may publish live; the rest only go to its history. 0 turns the
	// throttle off. Default 2000 (per 100ms, as Wings').
	ThrottleLines  *int   `hcl:"throttle_lines,optional"`
	ThrottlePeriod string `hcl:"throttle_period,optional"`
	// HistoryLines is how many recent lines each server keeps in memory.
	HistoryLines int `hcl:"history_lines,optional"`
	// LogMaxMB caps each console log file; LogFiles is how many files a
	// server keeps (the current one included).
	LogMaxMB int `hcl:"log_max_mb,optional"`
	LogFiles int `hcl:"log_files,optional"`
}

// ThrottlePeriodDuration is ThrottlePeriod parsed (Load has validated it).
func (c *Console) ThrottlePeriodDuration() time.Duration {
	d, _ := time.ParseDuration(c.ThrottlePeriod)
	return d
}

// Runtime says how game server containers run.
type Runtime struct {
	// UID and GID are the user game servers run as and own their volumes
	// (default 988:988, as Pterodactyl's); root is refused.
	UID *int `hcl:"uid,optional"`
	GID *int `hcl:"gid,optional"`
	// StopGrace is how long a stop waits after SIGTERM before SIGKILL.
	StopGrace string `hcl:"stop_grace,optional"`
	// TmpSizeMB sizes the tmpfs every container gets at /tmp.
	TmpSizeMB int `hcl:"tmp_size_mb,optional"`
	// Snapshotter is the containerd snapshotter for container file systems.
	Snapshotter string `hcl:"snapshotter,optional"`
}

// StopGraceDuration is StopGrace parsed (Load has validated it).
func (r *Runtime) StopGraceDuration() time.Duration {
	d, _ := time.ParseDuration(r.StopGrace)
	return d
}

// Network modes.
const (
	NetworkBridge = "bridge"
	NetworkHost   = "host"
)

// Network says how containers are networked.
type Network struct {
	// Mode is "bridge" (a namespace per container on a CNI bridge, ports
	// mapped) or "host" (the node's network namespace).
	Mode string `hcl:"mode,optional"`
	// The bridge's settings (mode "bridge" only).
	Name       string   `hcl:"name,optional"`
	Bridge     string   `hcl:"bridge,optional"`
	Subnet     string   `hcl:"subnet,optional"`
	MTU        int      `hcl:"mtu,optional"`
	CNIBinDirs []string `hcl:"cni_bin_dirs,optional"`
}

// Registry holds the credentials for one image registry host.
type Registry struct {
	Host      string `hcl:"host,label"`
	Username  string `hcl:"username,optional"`
	Password  string `hcl:"password,optional"`
	PlainHTTP bool   `hcl:"plain_http,optional"`
}

// Containerd says how to reach containerd.
type Containerd struct {
	Address   string `hcl:"address,optional"`
	Namespace string `hcl:"namespace,optional"`
}

// Log configures the agent's logger.
type Log struct {
	Level  string `hcl:"level,optional"`
	Format string `hcl:"format,optional"`
}

// Stats says how often the servers' and the node's resource use is
// measured and reported. Durations like "2s"; Load has checked each is a
// duration above its minimum, so the *Duration methods need no error.
type Stats struct {
	// Interval: each server's CPU, memory, pids and network, sent live.
	Interval string `hcl:"interval,optional"`
	// HealthInterval: the node's CPU, memory, disk and load.
	HealthInterval string `hcl:"health_interval,optional"`
	// DiskInterval: how often each server's volume is walked to measure
	// its disk use.
	DiskInterval string `hcl:"disk_interval,optional"`
}

// The shortest intervals accepted: shorter ones cost more than they tell.
const (
	minStatsInterval  = 500 * time.Millisecond
	minHealthInterval = time.Second
	minDiskInterval   = 10 * time.Second
)

// IntervalDuration, HealthIntervalDuration and DiskIntervalDuration are
// the fields parsed.
func (s *Stats) IntervalDuration() time.Duration       { return mustDuration(s.Interval) }
func (s *Stats) HealthIntervalDuration() time.Duration { return mustDuration(s.HealthInterval) }
func (s *Stats) DiskIntervalDuration() time.Duration   { return mustDuration(s.DiskInterval) }

// Disk quota actions.
const (
	QuotaStop = "stop"
	QuotaWarn = "warn"
	QuotaNone = "none"
)

// DiskQuota says what happens to a running server whose volume is found
// over its disk limit.
type DiskQuota struct {
	// Action: "stop" warns, then stops it if it is still over after
	// Grace; "warn" only warns; "none" only reports. Writes through the
	// agent are refused past the limit whatever the action.
	Action string `hcl:"action,optional"`
	Grace  string `hcl:"grace,optional"`
}

// GraceDuration is Grace parsed.
func (q *DiskQuota) GraceDuration() time.Duration { return mustDuration(q.Grace) }

func mustDuration(s string) time.Duration {
	d, _ := time.ParseDuration(s)
	return d
}

// Load reads and validates the file at path.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, src)
}

// Parse decodes src as if read from filename. Errors name file:line:col.
func Parse(filename string, src []byte) (*Config, error) {
	p := hclparse.NewParser()
	f, diags := p.ParseHCL(src, filename)
	if !diags.HasErrors() {
		var c Config
		diags = gohcl.DecodeBody(f.Body, hclconfig.EvalContext(), &c)
		if !diags.HasErrors() {
			c.PluginSpecs, diags = host.DecodeBlocks(c.Plugins, hclconfig.EvalContext())
		}
		if !diags.HasErrors() {
			c.files = p.Files()
			c.applyDefaults()
			if err := c.validate(); err != nil {
				return nil, fmt.Errorf("%s: %w", filename, err)
			}
			return &c, nil
		}
	}
	return nil, &hclconfig.DiagnosticsError{Diags: diags, Files: p.Files()}
}

func (c *Config) validate() error {
	var problems []string
	if *c.Runtime.UID <= 0 || *c.Runtime.GID <= 0 {
		problems = append(problems, "runtime: uid and gid must be a non-root user and group (above 0)")
	}
	if d, err := time.ParseDuration(c.Runtime.StopGrace); err != nil || d < 0 {
		problems = append(problems, fmt.Sprintf("runtime: stop_grace %q is not a duration like \"10s\"", c.Runtime.StopGrace))
	}
	if c.Runtime.TmpSizeMB <= 0 {
		problems = append(problems, "runtime: tmp_size_mb must be above 0")
	}
	switch c.Network.Mode {
	case NetworkBridge, NetworkHost:
	default:
		problems = append(problems, fmt.Sprintf("network: mode %q: want \"bridge\" or \"host\"", c.Network.Mode))
	}
	if c.Network.MTU < 0 {
		problems = append(problems, "network: mtu is negative")
	}
	seen := map[string]bool{}
	for _, r := range c.Registries {
		if seen[r.Host] {
			problems = append(problems, fmt.Sprintf("registry %q is configured twice", r.Host))
		}
		seen[r.Host] = true
	}
	for _, iv := range []struct {
		key, value string
		min        time.Duration
	}{
		{"interval", c.Stats.Interval, minStatsInterval},
		{"health_interval", c.Stats.HealthInterval, minHealthInterval},
		{"disk_interval", c.Stats.DiskInterval, minDiskInterval},
	} {
		if d, err := time.ParseDuration(iv.value); err != nil {
			problems = append(problems, fmt.Sprintf("stats: %s %q is not a duration like \"2s\"", iv.key, iv.value))
		} else if d < iv.min {
			problems = append(problems, fmt.Sprintf("stats: %s %q is below the minimum of %v", iv.key, iv.value, iv.min))
		}
	}
	switch c.DiskQuota.Action {
	case QuotaStop, QuotaWarn, QuotaNone:
	default:
		problems = append(problems, fmt.Sprintf("disk_quota: action %q: want \"stop\", \"warn\" or \"none\"", c.DiskQuota.Action))
	}
	if d, err := time.ParseDuration(c.DiskQuota.Grace); err != nil || d < 0 {
		problems = append(problems, fmt.Sprintf("disk_quota: grace %q is not a duration like \"5m\"", c.DiskQuota.Grace))
	}
	problems = append(problems, c.Console.validate()...)
	problems = append(problems, c.SFTP.validate()...)
	problems = append(problems, c.Files.validate()...)
	problems = append(problems, c.Backups.validate()...)
	switch c.Log.Level {
	case "trace", "debug", "info", "warn", "error":
	default:
		problems = append(problems, fmt.Sprintf("log: level %q: want trace, debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		problems = append(problems, fmt.Sprintf("log: format %q: want text or json", c.Log.Format))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func (c *Console) validate() []string {
	var problems []string
	if *c.ThrottleLines < 0 {
		problems = append(problems, "console: throttle_lines is negative (0 turns the throttle off)")
	}
	if d, err := time.ParseDuration(c.ThrottlePeriod); err != nil || d <= 0 || d > time.Minute {
		problems = append(problems, fmt.Sprintf("console: throttle_period %q is not a duration between 1ms and 1m, like \"100ms\"", c.ThrottlePeriod))
	}
	if c.HistoryLines < 0 || c.HistoryLines > wire.MaxLogLines {
		problems = append(problems, fmt.Sprintf("console: history_lines must be between 1 and %d", wire.MaxLogLines))
	}
	if c.LogMaxMB < 0 || c.LogMaxMB > 10240 {
		problems = append(problems, "console: log_max_mb must be between 1 and 10240")
	}
	if c.LogFiles < 0 || c.LogFiles > 100 {
		problems = append(problems, "console: log_files must be between 1 and 100")
	}
	return problems
}

func (c *Config) applyDefaults() {
	if c.DataDir == "" {
		c.DataDir = "/var/lib/catalyst"
	}
	if c.Containerd == nil {
		c.Containerd = &Containerd{}
	}
	if c.Containerd.Address == "" {
		c.Containerd.Address = "/run/containerd/containerd.sock"
	}
	if c.Containerd.Namespace == "" {
		c.Containerd.Namespace = "catalyst"
	}
	if c.Runtime == nil {
		c.Runtime = &Runtime{}
	}
	if c.Runtime.UID == nil {
		uid := 988
		c.Runtime.UID = &uid
	}
	if c.Runtime.GID == nil {
		gid := 988
		c.Runtime.GID = &gid
	}
	if c.Runtime.StopGrace == "" {
		c.Runtime.StopGrace = "10s"
	}
	if c.Runtime.TmpSizeMB == 0 {
		c.Runtime.TmpSizeMB = 64
	}
	if c.Runtime.Snapshotter == "" {
		c.Runtime.Snapshotter = "overlayfs"
	}
	if c.Network == nil {
		c.Network = &Network{}
	}
	if c.Network.Mode == "" {
		c.Network.Mode = NetworkBridge
	}
	if c.Network.Name == "" {
		c.Network.Name = "catalyst"
	}
	if c.Network.Bridge == "" {
		c.Network.Bridge = "catalyst0"
	}
	if c.Network.Subnet == "" {
		c.Network.Subnet = "10.88.0.0/16"
	}
	if len(c.Network.CNIBinDirs) == 0 {
		c.Network.CNIBinDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}
	}
	if c.Log == nil {
		c.Log = &Log{}
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
	if c.Stats == nil {
		c.Stats = &Stats{}
	}
	if c.Stats.Interval == "" {
		c.Stats.Interval = "2s"
	}
	if c.Stats.HealthInterval == "" {
		c.Stats.HealthInterval = "10s"
	}
	if c.Stats.DiskInterval == "" {
		c.Stats.DiskInterval = "60s"
	}
	if c.DiskQuota == nil {
		c.DiskQuota = &DiskQuota{}
	}
	if c.DiskQuota.Action == "" {
		c.DiskQuota.Action = QuotaStop
	}
	if c.DiskQuota.Grace == "" {
		c.DiskQuota.Grace = "5m"
	}
	if c.Console == nil {
		c.Console = &Console{}
	}
	if c.Console.ThrottleLines == nil {
		n := 2000
		c.Console.ThrottleLines = &n
	}
	if c.Console.ThrottlePeriod == "" {
		c.Console.ThrottlePeriod = "100ms"
	}
	if c.Console.HistoryLines == 0 {
		c.Console.HistoryLines = 1000
	}
	if c.Console.LogMaxMB == 0 {
		c.Console.LogMaxMB = 10
	}
	if c.Console.LogFiles == 0 {
		c.Console.LogFiles = 3
	}
	if c.SFTP == nil {
		c.SFTP = &SFTP{}
	}
	if c.SFTP.Enabled == nil {
		enabled := true
		c.SFTP.Enabled = &enabled
	}
	if c.SFTP.Listen == "" {
		c.SFTP.Listen = ":2022"
	}
	if c.SFTP.HostKey == "" {
		c.SFTP.HostKey = filepath.Join(c.DataDir, "sftp", "ssh_host_ed25519_key")
	}
	if c.SFTP.IdleTimeout == "" {
		c.SFTP.IdleTimeout = "15m"
	}
	if c.SFTP.MaxSessions == 0 {
		c.SFTP.MaxSessions = 1000
	}
	if c.Files == nil {
		c.Files = &Files{}
	}
	if c.Backups == nil {
		c.Backups = &Backups{}
	}
	if c.Backups.Compression == "" {
		c.Backups.Compression = "zstd"
	}
	if c.PluginDir == "" {
		c.PluginDir = "/usr/lib/catalyst/plugins"
	}
	if c.Files.MaxUploadMB == 0 {
		c.Files.MaxUploadMB = 10240
	}
	if c.Files.PullMaxMB == 0 {
		c.Files.PullMaxMB = 10240
	}
	if c.Files.PullTimeout == "" {
		c.Files.PullTimeout = "30m"
	}
	if c.Files.PullMaxRedirects == nil {
		n := 5
		c.Files.PullMaxRedirects = &n
	}
}

// Render writes c as an agent.hcl that Load reads back, with one backup
// store: "local", the backup-local plugin keeping archives in
// <data_dir>/backups (c's own plugin blocks are not rendered).
func Render(c Config) []byte {
	c.applyDefaults()
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by catalyst-agent configure. See config/agent.hcl for every key.

core_url   = %s
node_id    = %s
credential = %s
data_dir   = %s

containerd {
  address   = %s
  namespace = %s
}

runtime {
  uid         = %d
  gid         = %d
  stop_grace  = %s
  tmp_size_mb = %d
  snapshotter = %s
}

network {
  mode         = %s
  name         = %s
  bridge       = %s
  subnet       = %s
  mtu          = %d
  cni_bin_dirs = [%s]
}

log {
  level  = %s
  format = %s
}

console {
  throttle_lines  = %d
  throttle_period = %s
  history_lines   = %d
  log_max_mb      = %d
  log_files       = %d
}

stats {
  interval        = %s
  health_interval = %s
  disk_interval   = %s
}

disk_quota {
  action = %s
  grace  = %s
}

sftp {
  enabled      = %t
  listen       = %s
  host_key     = %s
  idle_timeout = %s
  max_sessions = %d
}

files {
  max_upload_mb       = %d
  pull_max_mb         = %d
  pull_timeout        = %s
  pull_max_redirects  = %d
  pull_allow_networks = [%s]
}

backups {
  compression   = %s
  level         = %d
  workers       = %d
  rate_limit_mb = %d
}

# Backup stores: backup_store plugins, found in plugin_dir. See
# config/agent.hcl for an S3 store.
plugin_dir = %s

plugin "local" {
  path = "catalyst-backup-local"
  config {
    dir = %s
  }
}
`, q(c.CoreURL), q(c.NodeID), q(c.Credential), q(c.DataDir), q(c.Containerd.Address), q(c.Containerd.Namespace),
		*c.Runtime.UID, *c.Runtime.GID, q(c.Runtime.StopGrace), c.Runtime.TmpSizeMB, q(c.Runtime.Snapshotter),
		q(c.Network.Mode), q(c.Network.Name), q(c.Network.Bridge), q(c.Network.Subnet), c.Network.MTU, quoteList(c.Network.CNIBinDirs),
		q(c.Log.Level), q(c.Log.Format),
		*c.Console.ThrottleLines, q(c.Console.ThrottlePeriod), c.Console.HistoryLines, c.Console.LogMaxMB, c.Console.LogFiles,
		q(c.Stats.Interval), q(c.Stats.HealthInterval), q(c.Stats.DiskInterval), q(c.DiskQuota.Action), q(c.DiskQuota.Grace),
		*c.SFTP.Enabled, q(c.SFTP.Listen), q(c.SFTP.HostKey), q(c.SFTP.IdleTimeout), c.SFTP.MaxSessions,
		c.Files.MaxUploadMB, c.Files.PullMaxMB, q(c.Files.PullTimeout), *c.Files.PullMaxRedirects, quoteList(c.Files.PullAllowNetworks),
		q(c.Backups.Compression), c.Backups.Level, c.Backups.Workers, c.Backups.RateLimitMB,
		q(c.PluginDir), q(filepath.Join(c.DataDir, "backups")))
	for _, r := range c.Registries {
		fmt.Fprintf(&b, "\nregistry %s {\n  username   = %s\n  password   = %s\n  plain_http = %t\n}\n", q(r.Host), q(r.Username), q(r.Password), r.PlainHTTP)
	}
	return []byte(b.String())
}

func quoteList(items []string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = q(s)
	}
	return strings.Join(out, ", ")
}

// q quotes s as an HCL string literal: Go's escapes, which HCL shares, and
// template sequences ("${", "%{") doubled so that they stay literal.
func q(s string) string {
	s = strconv.Quote(s)
	s = strings.ReplaceAll(s, "${", "$${")
	return strings.ReplaceAll(s, "%{", "%%{")
}
