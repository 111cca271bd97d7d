-- Sessions, two-factor, API keys, SSH keys and subusers.

ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE users ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT FALSE;
--bun:split
ALTER TABLE users ADD COLUMN recovery_codes {{.JSON}} NOT NULL DEFAULT '[]';
--bun:split
-- Access tokens carry the session version they were issued under; bumping
-- it (password change, "log out everywhere") refuses every older token.
ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 0;
--bun:split

CREATE TABLE refresh_tokens (
	id          TEXT PRIMARY KEY,
	user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	family_id   TEXT NOT NULL,
	token_hash  TEXT NOT NULL,
	expires_at  {{.Timestamp}} NOT NULL,
	revoked_at  {{.Timestamp}},
	created_at  {{.Timestamp}} NOT NULL,
	ip          TEXT NOT NULL DEFAULT '',
	user_agent  TEXT NOT NULL DEFAULT ''
);
--bun:split
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
--bun:split
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
--bun:split
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
--bun:split

CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	prefix       TEXT NOT NULL,
	key_hash     TEXT NOT NULL,
	scopes       {{.JSON}},
	allowed_ips  {{.JSON}} NOT NULL,
	last_used_at {{.Timestamp}},
	expires_at   {{.Timestamp}},
	created_at   {{.Timestamp}} NOT NULL
);
--bun:split
CREATE UNIQUE INDEX api_keys_prefix_key ON api_keys (prefix);
--bun:split
CREATE INDEX api_keys_user_idx ON api_keys (user_id);
--bun:split

CREATE TABLE ssh_keys (
	id          TEXT PRIMARY KEY,
	user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	public_key  TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	created_at  {{.Timestamp}} NOT NULL
);
--bun:split
CREATE UNIQUE INDEX ssh_keys_user_fingerprint_key ON ssh_keys (user_id, fingerprint);
--bun:split
CREATE INDEX ssh_keys_fingerprint_idx ON ssh_keys (fingerprint);
--bun:split

CREATE TABLE subusers (
	id          TEXT PRIMARY KEY,
	server_id   TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
	user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	permissions {{.JSON}} NOT NULL,
	created_at  {{.Timestamp}} NOT NULL,
	updated_at  {{.Timestamp}} NOT NULL
);
--bun:split
CREATE UNIQUE INDEX subusers_server_user_key ON subusers (server_id, user_id);
--bun:split
CREATE INDEX subusers_user_idx ON subusers (user_id);
