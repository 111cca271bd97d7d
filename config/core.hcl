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
}

log {
  # trace, debug, info, warn or error.
  level = "info"
  # "text" for a terminal, "json" for a log collector.
  format = "text"
}
