# Catalyst core configuration.
#
# Run with:  catalyst serve --config config/core.hcl
# Without --config the core uses exactly the defaults shown here.
#
# Unknown keys are errors, and every error names file:line:col.
# Secrets need not be written here: env("NAME") reads an environment
# variable (an error if unset), env("NAME", "fallback") falls back.

# Address the API and web UI listen on. Put a TLS-terminating proxy in front
# of it when it faces the internet.
listen = "127.0.0.1:8080"

# How agents and browsers reach this core; printed in the command a new node
# runs. Default: "http://" + listen.
# public_url = "https://panel.example.com"

# Directory for the SQLite database and generated secrets. Relative paths
# are relative to the working directory.
data_dir = "./data"

database {
  # "sqlite" (embedded, zero configuration, one core process) or
  # "postgres" (production; required for several core replicas).
  driver = "sqlite"

  # sqlite: the database file, relative to data_dir unless absolute.
  path = "catalyst.db"

  # postgres: a connection string, for example
  #   dsn = env("CATALYST_DATABASE_DSN")
  # with CATALYST_DATABASE_DSN=postgres://catalyst:secret@db:5432/catalyst?sslmode=verify-full
  # dsn = ""

  # Upper bound on open connections.
  max_open_conns = 20
}

auth {
  # Signs access tokens; at least 32 characters. Leave unset on a single
  # core: one is generated on first start and kept in data_dir/jwt-secret.
  # Several replicas must share one:
  #   jwt_secret = env("CATALYST_JWT_SECRET")

  # Lifetime of an access token (JWT) and of a refresh token. Refresh
  # tokens rotate: each use returns a new one and spends the old.
  access_token_ttl  = "15m"
  refresh_token_ttl = "720h"

  # Password guesses allowed per client IP and email, per minute.
  login_attempts_per_minute = 5
}

http {
  # Browser origins allowed to call the API (CORS), e.g.
  # ["https://panel.example.com"]; "*" allows any. Empty: same origin only.
  cors_origins = []

  # Largest JSON request body, in KiB. File uploads have their own limit.
  max_body_kb = 1024

  # Reverse proxies whose X-Forwarded-For is believed (addresses or CIDRs).
  # Empty: the client is the TCP peer.
  trusted_proxies = []

  # Send Strict-Transport-Security. Turn on only when served over HTTPS.
  hsts = false
}

# Token buckets per route group, in requests per minute: per_user counts an
# account's requests, per_ip a client address's. 0 turns a side off.
# Groups: "api" (everything but logins) and "auth" (login, refresh, logout,
# password and two-factor changes).
rate_limit "api" {
  per_user = 100
  per_ip   = 200
}

rate_limit "auth" {
  per_user = 0
  per_ip   = 30
}

log {
  # trace, debug, info, warn or error.
  level = "info"
  # "text" for a terminal, "json" for a log collector.
  format = "text"
}

# Agent tunnels: every node's agent dials the core and keeps one WebSocket
# open (GET /api/agent/connect).
gateway {
  # How often agents send a heartbeat (told to them when they connect).
  heartbeat_interval = "10s"

  # Silence after which a node is marked offline and its tunnel closed; at
  # least twice heartbeat_interval. The agent reconnects on its own.
  offline_after = "30s"

  # Largest image archive (OCI layout or docker save tar) an administrator
  # may upload to a node with POST /api/admin/nodes/:nid/images, in MiB.
  image_import_max_mb = 8192
}

# The file manager (/api/servers/:id/files…): requests go through the core
# to the server's node and stream both ways; nothing is held in memory.
files {
  # Largest upload or file write (PUT …/files/content, POST …/files/upload)
  # in MiB. The server's disk_mb applies as well, checked on the node.
  max_upload_mb = 10240
}

servers {
  # How long a server gets to stop after its template's stop command before
  # the agent sends SIGTERM, then SIGKILL.
  stop_timeout = "30s"
}

# Backups of server volumes (/api/servers/:id/backups). The archives are made
# on the server's node and stream straight into one of that node's backup
# stores: backup_store plugins (backup-local, backup-s3, ...) declared in its
# agent.hcl. The core keeps the record of each backup and asks the node that
# holds it for restores, downloads and deletes.
backups {
  # Store a backup goes to when the request names none. Empty: the first
  # store the server's node reports.
  default_store = ""

  # How many backups each server keeps (an administrator may set another
  # number per server: PATCH /api/servers/:id {"backup_limit": n}). When a
  # server has this many, a new backup first deletes its oldest unlocked one;
  # if every one is locked the new backup is refused. Failed backups do not
  # count. 0 turns backups off.
  limit = 5

  # false: a running server is backed up as it runs. Files the game writes
  # during the backup may be caught half-written (a world save in progress),
  # so such a backup can hold an inconsistent file; most games save
  # atomically or can be told to save first (a schedule's console command).
  # true: the server is stopped first, backed up, then started again; it is
  # offline for the backup's length, and cannot be started meanwhile.
  stop_server = false

  # Patterns of files left out of every backup, one .catalystignore line
  # each (a volume's own .catalystignore file adds its own), e.g.
  #   ignore = ["logs/", "*.tmp", "cache/"]
  ignore = []
}

# The live sockets browsers watch a server through (GET /api/servers/:id/ws):
# console output, status, stats. How fast a node may flood a console is set
# on the node (agent.hcl, console { throttle_lines }).
websocket {
  # Messages waiting for one browser before the oldest are dropped; the
  # browser is told how many it missed ("throttled", source "socket"). A
  # slow browser never slows the game or the other viewers.
  queue_size = 512
  # Console commands and power actions per second one socket may send, and
  # the burst allowed above that rate.
  commands_per_second = 5
  command_burst       = 10
  # How long before its access token expires a socket receives
  # "token_expiring" (answer with {"type":"auth","token":…}).
  token_warning = "60s"
  # How often a socket's permissions are checked again. Changes made through
  # the API (subusers removed, server suspended) apply at once regardless.
  recheck_interval = "30s"
  # How long one message may take to reach a browser before its socket is
  # closed.
  write_timeout = "10s"
}

# Resource history and the Prometheus endpoint. Agents send each running
# server's CPU, memory, network and disk use, and the node's own health,
# every few seconds; the core keeps the latest in memory (GET
# /api/servers/:id/stats, /api/nodes/:nid/stats) and writes it to the
# database for graphs (GET .../metrics?hours=&step=).
metrics {
  # How often the latest samples are written: one row per running server
  # and per connected node each time. At least "5s".
  flush_interval = "30s"

  # How long samples are kept; older rows are deleted every hour. At least
  # "1h". The graphs look back at most 720h.
  retention = "720h"

  # GET /metrics (Prometheus text format). Empty: answered to loopback
  # clients only, and only when no proxy header (X-Forwarded-For,
  # X-Real-IP, Forwarded) says the request came through one. Set a token
  # (at least 16 characters) to scrape from elsewhere, sent as
  #   Authorization: Bearer <token>
  # for example prometheus_token = env("CATALYST_PROMETHEUS_TOKEN").
  prometheus_token = ""
}

# SFTP. Each node's agent serves it (agent.hcl says where) and asks the core
# about every login: the user name is "<account user name>.<server short
# id>" (the server page shows it), the password the account's, or one of the
# account's SSH keys (/api/account/ssh-keys). The account needs file.sftp on
# the server; the session gets the file.* permissions it holds there.
sftp {
  # Failed logins one client address may make on one account within
  # failure_window, and on all accounts together; past either, its
  # attempts are refused unchecked (even with the right password) until the
  # window has passed. A success clears the address's count on that
  # account, never its count across accounts.
  max_failures_per_account = 10
  max_failures_per_ip      = 30
  failure_window           = "5m"

  # Accounts with two-factor authentication on log in with an SSH key
  # only, since SFTP cannot ask for a code. true lets them use their
  # password alone.
  password_with_two_factor = false
}

# Alerts. Rules (GET/POST /api/admin/alert-rules; a server's own under
# /api/servers/:id/alert-rules) raise alerts: cpu, memory or disk above a
# percentage of the server's limit for for_seconds; node_offline (the
# node's agent away for for_seconds); server_crashed, crash_loop,
# install_failed, backup_failed, transfer_failed. A fresh install has one
# admin-wide rule of each kind but the thresholds (node_offline waits 120 s).
# One alert stays open per rule and server (or node) until its condition
# clears (the server runs again, a later backup succeeds, the node is back)
# or someone resolves it.
#
# Alerts reach people through alert_sink plugins declared like any plugin:
#
#   plugin "discord" {
#     path = "catalyst-alerts-discord"     # in plugin_dir
#     config {
#       webhook_url = env("DISCORD_WEBHOOK_URL")
#       mention     = "<@&123456789012345678>" # pinged on critical alerts
#     }
#   }
#   plugin "ops-webhook" {
#     path = "catalyst-alerts-webhook"
#     config {
#       url    = "https://ops.example.com/catalyst"
#       secret = env("CATALYST_WEBHOOK_SECRET")   # HMAC-SHA256 signature
#     }
#   }
#
# (plugins/alerts-discord/README.md and plugins/alerts-webhook/README.md
# list their keys; the webhook's README documents its JSON and signature.)
#
# Every notification is written to the database first (the outbox) and sent
# from there, in order per sink: a sink that is down, rate-limiting or
# restarting, or a core restart, delays notifications but loses none.
# GET /api/admin/alert-sinks shows each sink's pending, delivered and failed
# deliveries and its last error; GET /api/admin/deliveries is the log;
# POST /api/admin/alert-sinks/<name>/test sends a test alert.
alerts {
  # Which sinks get which alerts. Without any route, every alert_sink
  # plugin gets every alert of the admin-wide rules, and their resolution.
  #
  #   route {
  #     sinks         = ["discord"]
  #     severities    = ["warning", "critical"]  # empty: all (info too)
  #     types         = []                       # empty: all, e.g. ["server_crashed", "node_offline"]
  #     server_rules  = false  # true: also the alerts of servers' own rules
  #                            # (those reach the server's webhooks anyway)
  #     send_resolved = true   # also say when an alert resolves
  #   }

  # A failed delivery is tried again after min_backoff, doubling with each
  # failure up to max_backoff; a sink's own hint (Discord's 429
  # retry_after, a Retry-After header) is waited out when longer. A
  # delivery still failing after give_up_after is marked failed; a sink that
  # refuses it for good (a deleted Discord webhook, a 4xx) fails it at once.
  min_backoff     = "1s"
  max_backoff     = "5m"
  give_up_after   = "24h"
  attempt_timeout = "30s"

  # How long delivered and failed deliveries stay in the log, and resolved
  # alerts in the history.
  log_retention      = "168h"
  resolved_retention = "2160h"

  # Servers' webhooks (/api/servers/:id/webhooks): their owners subscribe a
  # URL to server.started, server.stopped, server.crashed, backup.completed,
  # alert.firing … ; each delivery is signed JSON, sent and retried through
  # the same outbox. webhook_timeout bounds one POST. Users choose these
  # URLs: unless webhook_allow_private is true, the core refuses to connect
  # to loopback, private, link-local (the cloud metadata service) and other
  # internal addresses, whatever the name resolves to.
  webhook_timeout       = "10s"
  webhook_allow_private = false
}

# Templates come from POST /api/admin/templates, or from template_source
# plugins: GET /api/admin/template-sources lists them and their templates,
# POST …/import copies one in; POST /api/admin/templates/import?source=<name>
# converts an uploaded file. Pterodactyl eggs, for example:
#
#   plugin "eggs" {
#     path = "catalyst-templates-eggs"   # in plugin_dir
#     config {
#       directory = "/srv/catalyst/eggs"   # optional: eggs to offer
#     }
#   }
#
# (plugins/templates-eggs/README.md says what converts and what is reported.)

# Schedules (/api/servers/:id/schedules): a cron expression read in a time
# zone, and tasks (a console command, a power action, a backup) run in
# order, each some seconds after the previous. A scheduler plugin decides
# when schedules fire; each firing's slot is claimed in the database, so a
# slot runs once however many core replicas share the database. Every run
# is logged (…/schedules/:sid/runs).
schedules {
  # The scheduler plugin. The default, "schedule-cron" (5-field cron and
  # @hourly-style shortcuts; plugins/schedule-cron/README.md), needs no
  # plugin block: it is launched from plugin_dir when present. Name another
  # scheduler's plugin block here, or "" to fire nothing (schedules then
  # run only when asked: POST …/schedules/:sid/run).
  scheduler = "schedule-cron"

  # Slots that passed while no core was running:
  #   "skip"     – each missed schedule logs one skipped run and waits for
  #                its next slot;
  #   "run_once" – each missed schedule runs once when the core starts,
  #                however many slots it missed.
  # A slot at most 90 s old when the core starts counts as on time and runs.
  missed_runs = "skip"

  # The closest two slots of a schedule may be ("@every 30s" and the like
  # are refused below it).
  min_interval = "1m"

  # How long finished runs stay in the run log.
  run_retention = "720h"
}
