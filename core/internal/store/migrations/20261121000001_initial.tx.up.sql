-- Users, nodes, templates, servers, allocations and the audit log.
-- {{.Timestamp}} and {{.JSON}} are the dialect's type names (see migrations.go).

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL,
	username      TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	admin         BOOLEAN NOT NULL DEFAULT FALSE,
	created_at    {{.Timestamp}} NOT NULL,
	updated_at    {{.Timestamp}} NOT NULL
);
--bun:split

CREATE UNIQUE INDEX users_email_key ON users (email);
--bun:split

CREATE UNIQUE INDEX users_username_key ON users (username);
--bun:split

CREATE TABLE nodes (
	id                  TEXT PRIMARY KEY,
	name                TEXT NOT NULL,
	fqdn                TEXT NOT NULL,
	memory_mb           BIGINT NOT NULL,
	memory_overallocate INTEGER NOT NULL DEFAULT 0,
	disk_mb             BIGINT NOT NULL,
	disk_overallocate   INTEGER NOT NULL DEFAULT 0,
	maintenance         BOOLEAN NOT NULL DEFAULT FALSE,
	last_seen_at        {{.Timestamp}},
	created_at          {{.Timestamp}} NOT NULL,
	updated_at          {{.Timestamp}} NOT NULL
);
--bun:split

CREATE UNIQUE INDEX nodes_name_key ON nodes (name);
--bun:split

CREATE TABLE templates (
	id                 TEXT PRIMARY KEY,
	name               TEXT NOT NULL,
	description        TEXT NOT NULL DEFAULT '',
	author             TEXT NOT NULL DEFAULT '',
	images             {{.JSON}} NOT NULL,
	startup            TEXT NOT NULL,
	stop_command       TEXT NOT NULL DEFAULT '',
	startup_done       {{.JSON}} NOT NULL,
	install_image      TEXT NOT NULL DEFAULT '',
	install_entrypoint TEXT NOT NULL DEFAULT '',
	install_script     TEXT NOT NULL DEFAULT '',
	variables          {{.JSON}} NOT NULL,
	denylist           {{.JSON}} NOT NULL,
	features           {{.JSON}} NOT NULL,
	created_at         {{.Timestamp}} NOT NULL,
	updated_at         {{.Timestamp}} NOT NULL
);
--bun:split

CREATE UNIQUE INDEX templates_name_key ON templates (name);
--bun:split

CREATE TABLE servers (
	id          TEXT PRIMARY KEY,
	short_id    TEXT NOT NULL,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	owner_id    TEXT NOT NULL REFERENCES users (id),
	node_id     TEXT NOT NULL REFERENCES nodes (id),
	template_id TEXT NOT NULL REFERENCES templates (id),
	state       TEXT NOT NULL,
	memory_mb   BIGINT NOT NULL,
	cpu_percent BIGINT NOT NULL,
	disk_mb     BIGINT NOT NULL,
	pids_limit  BIGINT NOT NULL,
	image       TEXT NOT NULL,
	startup     TEXT NOT NULL,
	environment {{.JSON}} NOT NULL,
	crash_count INTEGER NOT NULL DEFAULT 0,
	created_at  {{.Timestamp}} NOT NULL,
	updated_at  {{.Timestamp}} NOT NULL
);
--bun:split

CREATE UNIQUE INDEX servers_short_id_key ON servers (short_id);
--bun:split

CREATE INDEX servers_owner_idx ON servers (owner_id);
--bun:split

CREATE INDEX servers_node_idx ON servers (node_id);
--bun:split

CREATE TABLE allocations (
	id         TEXT PRIMARY KEY,
	node_id    TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
	ip         TEXT NOT NULL,
	port       INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
	server_id  TEXT REFERENCES servers (id) ON DELETE SET NULL,
	is_primary BOOLEAN NOT NULL DEFAULT FALSE,
	created_at {{.Timestamp}} NOT NULL
);
--bun:split

CREATE UNIQUE INDEX allocations_node_ip_port_key ON allocations (node_id, ip, port);
--bun:split

CREATE INDEX allocations_server_idx ON allocations (server_id);
--bun:split

CREATE TABLE audit_log (
	id          TEXT PRIMARY KEY,
	created_at  {{.Timestamp}} NOT NULL,
	actor_id    TEXT,
	actor_type  TEXT NOT NULL,
	ip          TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL,
	target_type TEXT NOT NULL DEFAULT '',
	target_id   TEXT NOT NULL DEFAULT '',
	server_id   TEXT,
	outcome     TEXT NOT NULL,
	metadata    {{.JSON}} NOT NULL
);
--bun:split

CREATE INDEX audit_log_created_idx ON audit_log (created_at);
--bun:split

CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);
--bun:split

CREATE INDEX audit_log_server_idx ON audit_log (server_id, id);
--bun:split

CREATE INDEX audit_log_action_idx ON audit_log (action, id);
