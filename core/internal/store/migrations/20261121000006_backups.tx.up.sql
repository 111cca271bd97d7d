-- Backups. The archives live in backup stores on the agents (backup_store
-- plugins declared in agent.hcl); the core keeps the record of each: which
-- node's store holds it under which key, and what it holds. node_id is the
-- node whose store has the object, which stays where it was made when the
-- server is transferred to another node.

CREATE TABLE backups (
	id           TEXT PRIMARY KEY,
	server_id    TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
	node_id      TEXT NOT NULL REFERENCES nodes (id),
	store        TEXT NOT NULL,
	key          TEXT NOT NULL,
	name         TEXT NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('creating', 'completed', 'failed')),
	error        TEXT NOT NULL DEFAULT '',
	size         BIGINT NOT NULL DEFAULT 0,
	sha256       TEXT NOT NULL DEFAULT '',
	files        BIGINT NOT NULL DEFAULT 0,
	bytes        BIGINT NOT NULL DEFAULT 0,
	compression  TEXT NOT NULL DEFAULT '',
	locked       BOOLEAN NOT NULL DEFAULT FALSE,
	created_by   TEXT REFERENCES users (id) ON DELETE SET NULL,
	created_at   {{.Timestamp}} NOT NULL,
	completed_at {{.Timestamp}}
);
--bun:split

CREATE INDEX backups_server_created_idx ON backups (server_id, created_at);
--bun:split

-- A node's backups still being made are found when its agent reconnects.
CREATE INDEX backups_node_status_idx ON backups (node_id, status);
--bun:split

-- How many backups a server keeps; NULL takes the core's backups.limit.
ALTER TABLE servers ADD COLUMN backup_limit INTEGER;
