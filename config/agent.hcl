# Catalyst agent configuration (one per node).
#
# Validate with:  catalyst-agent check-config --config /etc/catalyst/agent.hcl
# Unknown keys are errors, and every error names file:line:col.

# The core this node connects to. The agent dials out; the node needs no
# inbound port except game ports and SFTP.
core_url = "http://127.0.0.1:8080"

# This node's identity and long-lived credential, as issued by the core.
node_id    = "00000000-0000-0000-0000-000000000000"
credential = "replace-me"

# Server volumes, console logs and the SFTP host key live here.
data_dir = "/var/lib/catalyst"

containerd {
  # containerd's API socket.
  address = "/run/containerd/containerd.sock"
  # The namespace Catalyst's containers live in; keep it to Catalyst alone.
  namespace = "catalyst"
}

runtime {
  # The user and group game servers run as and their volumes belong to.
  # Root (0) is refused. Default 988:988, as Pterodactyl's.
  uid = 988
  gid = 988
  # How long a stop waits after SIGTERM before SIGKILL (after the server's
  # own stop command and stop timeout). Default "10s".
  stop_grace = "10s"
  # Size of the tmpfs every container gets at /tmp; it counts against the
  # server's memory limit. Default 64.
  tmp_size_mb = 64
  # containerd snapshotter for container file systems. Default "overlayfs".
  snapshotter = "overlayfs"
}

network {
  # "bridge" (default): each container gets its own network namespace on a
  # CNI bridge, and the server's allocations are port-mapped into it.
  # "host": containers share the node's network namespace (no mapping, no
  # per-server traffic counters).
  mode = "bridge"
  # The rest applies to mode "bridge".
  # CNI network name. Default "catalyst".
  name = "catalyst"
  # Linux bridge device, at most 15 bytes. Default "catalyst0".
  bridge = "catalyst0"
  # Private IPv4 range containers get addresses from; the bridge takes the
  # first one. Default "10.88.0.0/16".
  subnet = "10.88.0.0/16"
  # MTU of the bridge and container interfaces; 0 (default) keeps 1500.
  # Set it to the uplink's when that is smaller.
  mtu = 0
  # Where the CNI plugins (bridge, host-local, portmap, loopback) are.
  # Default ["/usr/lib/cni", "/opt/cni/bin"] (Debian: containernetworking-plugins).
  cni_bin_dirs = ["/usr/lib/cni", "/opt/cni/bin"]
}

# Credentials per image registry host, one block each (none by default).
# Images already in containerd (e.g. from `catalyst-agent image import`)
# are never pulled. env("NAME") reads an environment variable, and
# env("NAME", "default") falls back to a default, so secrets can stay out
# of this file; an unset variable without a default is an error.
#
# registry "ghcr.io" {
#   username   = "catalyst-bot"
#   password   = env("CATALYST_GHCR_TOKEN")
#   # Talk HTTP instead of HTTPS (localhost registries always do). Default false.
#   plain_http = false
# }

console {
  # Live console throttle, per server (like Wings'): at most throttle_lines
  # lines per throttle_period are sent live to the panel; the rest still go
  # to the server's history and log file, and viewers get a "throttled"
  # notice saying how many were held back. 0 turns the throttle off.
  # Defaults 2000 and "100ms".
  throttle_lines  = 2000
  throttle_period = "100ms"
  # Recent lines each server keeps in memory for instant replay (at most
  # 5000, the most a history request may ask for). Default 1000. Longer
  # requests are answered from the log files.
  history_lines = 1000
  # Console log files, <data_dir>/logs/<server id>.log: when one reaches
  # log_max_mb it is renamed .log.1 (older ones shift to .2, …) and a new
  # one started; log_files counts the files kept, the current one included.
  # Defaults 10 and 3. After an agent restart, history is read back from
  # these files.
  log_max_mb = 10
  log_files  = 3
}

# Crash restarts follow each server's restart policy, set in the panel
# (never, on_crash or always; default on_crash, at most 5 restarts in 10
# minutes, backoff 5s doubling up to 1m). The agent counts restarts in
# memory: an agent restart forgets them, starting each window afresh.

# The heartbeat interval is not set here: the core dictates it.

# How often resource use is measured and sent to the core (durations like
# "2s", "5m").
stats {
  # Each server's CPU %, memory, pids and network traffic (from its
  # cgroup), sent live to consoles and stored by the core. Stopped servers
  # are reported too, with zeros but their disk use. Default "2s",
  # minimum "500ms".
  interval = "2s"
  # The node's CPU, memory, disk (of the file system holding data_dir),
  # load averages and running server count. Default "10s", minimum "1s".
  health_interval = "10s"
  # How often each server's volume is walked to measure its disk use (the
  # apparent size of its regular files, hard links once; symlinks and
  # other mounts are not followed). Walks run in the background one
  # volume at a time and never hold up a request. Default "60s",
  # minimum "10s".
  disk_interval = "60s"
}

# What happens to a running server whose volume is found over its disk
# limit (the server's disk_mb). Whatever the action, writes through the
# agent's file manager and SFTP server are refused past the limit; a
# stopped server over its limit is only reported.
disk_quota {
  # "stop" (default): warn the server's console, walk the volume again
  # when the grace period ends, and stop the server (a normal stop) if it
  # is still over. "warn": only warn. "none": only report the usage.
  action = "stop"
  # How long a warned server has to get back under its limit. Default "5m".
  grace = "5m"
}

# The SFTP server. Users log in as "<panel username>.<server short id>"
# (the server page and API show the short id) with their panel
# password or an SSH key saved in their account; the core checks each
# login and the user's file permissions on that server. A session sees
# that server's volume only, minus the template's denylisted files.
# Only modern algorithms are offered (curve25519 / mlkem768x25519 key
# exchange, AES-GCM and chacha20-poly1305, ed25519, ECDSA and RSA-SHA2
# client keys), which every OpenSSH since 7.x, FileZilla and WinSCP speak.
sftp {
  # Default true. false: no SFTP port at all.
  enabled = true
  # host:port to listen on. Default ":2022" (every address); the node's
  # firewall must let clients reach it.
  listen = ":2022"
  # The server's ed25519 host key, made on first start (directory 0700,
  # file 0600) and reused after; its SHA256 fingerprint is logged at
  # start. Clients pin it: keep it across reinstalls. A file that is not
  # an ed25519 private key stops the agent rather than being replaced.
  # Default "<data_dir>/sftp/ssh_host_ed25519_key".
  host_key = "/var/lib/catalyst/sftp/ssh_host_ed25519_key"
  # A connection the client has sent nothing on for this long is closed
  # (a transfer in progress is never idle). Default "15m", minimum "30s".
  idle_timeout = "15m"
  # Open connections at most, logged in or still logging in; more are
  # refused, with a log line. Default 1000.
  max_sessions = 1000
}

# The file manager (the panel's, through the core) and its pulls of files
# from URLs into a server's volume. Every write also counts against the
# server's disk limit (see disk_quota).
files {
  # The most one upload request (all its files together) or one file save
  # may hold, in MiB; more is refused with 413. Default 10240 (10 GiB).
  max_upload_mb = 10240
  # The most one pull may download, in MiB (checked against the answer's
  # Content-Length first, then as it streams). Default 10240.
  pull_max_mb = 10240
  # How long one pull may take, connection to last byte. Default "30m".
  pull_timeout = "30m"
  # How many redirects a pull follows, each checked like the first URL;
  # 0 follows none. Default 5, at most 20.
  pull_max_redirects = 5
  # Pulls connect only to public addresses: loopback, private (RFC 1918,
  # fc00::/7), link-local, carrier-grade NAT (100.64.0.0/10), multicast
  # and unspecified addresses are refused, checked as each connection is
  # made (after DNS, so a name that resolves elsewhere the second time
  # gains nothing). List CIDRs here to let pulls reach them anyway, e.g.
  # a mirror on the LAN: ["192.168.10.0/24"]. Default none.
  pull_allow_networks = []
}

# Backups and transfers: how the agent archives a server's volume. The
# archive (tar, compressed) streams straight from the volume into a backup
# store: no copy is staged on disk, so a backup needs no free space on the
# node beyond the store's own. A server may keep running during its backup
# (the core's backups.stop_server decides); files the game writes
# meanwhile may then be caught mid-write.
backups {
  # "zstd" (default: fast, multi-threaded), "gzip" (parallel gzip, for
  # archives opened with common tools) or "none".
  compression = "zstd"
  # Compression level; 0 is the compressor's default (zstd 1-22 maps to
  # its speed presets; gzip 1-9).
  level = 0
  # Goroutines compressing; 0 uses every CPU.
  workers = 0
  # Caps the file bytes a backup reads per second, in MB/s, so a backup
  # does not starve the game servers' disk; 0 is no cap. Transfers are not
  # capped (the server is stopped while they run).
  rate_limit_mb = 0
}

# Where plugin executables are looked for when a plugin's path is not
# absolute. Default "/usr/lib/catalyst/plugins"; `catalyst-agent configure`
# writes the plugins directory beside its own executable when there is one.
plugin_dir = "/usr/lib/catalyst/plugins"

# Backup stores are backup_store plugins, running on the agent next to the
# volumes. The core offers the stores each agent reports; a server's
# backups go to the store the user picks or the core's
# backups.default_store. Each block's label names the store; its config
# block is checked against the schema the plugin publishes, and a
# mismatch stops the agent at start with the file and line.
plugin "local" {
  path = "catalyst-backup-local"
  # sha256 = "…"   # optional: refuse to launch a binary that differs
  config {
    # Archives live under this directory as servers/<server>/<backup>.tar.zst.
    dir = "/var/lib/catalyst/backups"
  }
}

# An S3-compatible store (AWS, MinIO, Garage, Wasabi, …). See
# plugins/backup-s3/README.md for every key.
# plugin "s3" {
#   path = "catalyst-backup-s3"
#   config {
#     bucket     = "game-backups"
#     endpoint   = "https://s3.example.com"
#     region     = "us-east-1"
#     access_key = "…"
#     secret_key = env("CATALYST_S3_SECRET")
#     path_style = true
#   }
# }

log {
  # trace, debug, info, warn or error.
  level = "info"
  # "text" for a terminal, "json" for a log collector.
  format = "text"
}
