-- Alerts, per-server webhooks and the delivery outbox.
--
-- alert_rules say what to watch: a server_id of NULL makes an admin-wide
-- rule (every server, or every node for node_offline). alerts are what the
-- rules raised: at most one open alert per rule and target (the partial
-- unique index), resolved when the condition clears or by hand.
-- deliveries is the outbox: every notification to an alert sink plugin or
-- a server's webhook is written here first and sent from here, retried
-- until it is delivered or fails for good; delivered rows are the delivery
-- log until they age out.

CREATE TABLE alert_rules (
	id          TEXT PRIMARY KEY,
	server_id   TEXT REFERENCES servers (id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	type        TEXT NOT NULL,
	threshold   DOUBLE PRECISION NOT NULL DEFAULT 0,
	for_seconds INTEGER NOT NULL DEFAULT 0,
	severity    TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
	enabled     BOOLEAN NOT NULL DEFAULT TRUE,
	created_at  {{.Timestamp}} NOT NULL,
	updated_at  {{.Timestamp}} NOT NULL
);
--bun:split

CREATE INDEX alert_rules_server_idx ON alert_rules (server_id);
--bun:split

CREATE TABLE alerts (
	id           TEXT PRIMARY KEY,
	rule_id      TEXT REFERENCES alert_rules (id) ON DELETE SET NULL,
	rule_name    TEXT NOT NULL,
	-- target is the server or node the alert is about.
	target       TEXT NOT NULL,
	server_id    TEXT REFERENCES servers (id) ON DELETE CASCADE,
	node_id      TEXT REFERENCES nodes (id) ON DELETE CASCADE,
	type         TEXT NOT NULL,
	severity     TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
	status       TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
	title        TEXT NOT NULL,
	body         TEXT NOT NULL DEFAULT '',
	value        TEXT NOT NULL DEFAULT '',
	-- occurrences counts the times the condition was seen again while the
	-- alert was open (a second crash), which raise no second alert.
	occurrences  INTEGER NOT NULL DEFAULT 1,
	opened_at    {{.Timestamp}} NOT NULL,
	last_seen_at {{.Timestamp}} NOT NULL,
	resolved_at  {{.Timestamp}},
	-- resolved_by is a user's ID, or empty when the condition cleared.
	resolved_by  TEXT NOT NULL DEFAULT ''
);
--bun:split

CREATE UNIQUE INDEX alerts_open_idx ON alerts (rule_id, target) WHERE status = 'open';
--bun:split

CREATE INDEX alerts_opened_idx ON alerts (opened_at);
--bun:split

CREATE INDEX alerts_server_idx ON alerts (server_id, opened_at);
--bun:split

CREATE TABLE webhooks (
	id         TEXT PRIMARY KEY,
	server_id  TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
	url        TEXT NOT NULL,
	-- events is a JSON array of event names.
	events     TEXT NOT NULL,
	secret     TEXT NOT NULL,
	enabled    BOOLEAN NOT NULL DEFAULT TRUE,
	created_at {{.Timestamp}} NOT NULL,
	updated_at {{.Timestamp}} NOT NULL
);
--bun:split

CREATE INDEX webhooks_server_idx ON webhooks (server_id);
--bun:split

CREATE TABLE deliveries (
	id              TEXT PRIMARY KEY,
	-- sink is an alert sink plugin's name, or "webhook:<id>".
	sink            TEXT NOT NULL,
	webhook_id      TEXT REFERENCES webhooks (id) ON DELETE CASCADE,
	event           TEXT NOT NULL,
	-- payload is the notification as the sink gets it, kept byte for byte
	-- (TEXT, not JSONB, so a webhook body is sent exactly as written).
	payload         TEXT NOT NULL,
	status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at {{.Timestamp}} NOT NULL,
	-- lease_until keeps a delivery being sent from being picked up again
	-- (by this core after a restart, or another replica) before it ends.
	lease_until     {{.Timestamp}},
	-- last_error is the latest failed attempt's error, kept once the
	-- delivery went through, and last_error_at when that attempt was.
	last_error      TEXT NOT NULL DEFAULT '',
	last_error_at   {{.Timestamp}},
	last_attempt_at {{.Timestamp}},
	delivered_at    {{.Timestamp}},
	created_at      {{.Timestamp}} NOT NULL
);
--bun:split

CREATE INDEX deliveries_due_idx ON deliveries (status, next_attempt_at);
--bun:split

CREATE INDEX deliveries_sink_idx ON deliveries (sink, id);
--bun:split

-- A sink's queue, without walking its delivery log.
CREATE INDEX deliveries_pending_idx ON deliveries (sink, id) WHERE status = 'pending';
--bun:split

-- The rules a fresh install starts with; administrators change or delete
-- them like any other.
INSERT INTO alert_rules (id, server_id, name, type, threshold, for_seconds, severity, enabled, created_at, updated_at) VALUES
	('01900000-0000-7000-8000-000000000001', NULL, 'Server crashed', 'server_crashed', 0, 0, 'warning', TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
	('01900000-0000-7000-8000-000000000002', NULL, 'Server crash loop', 'crash_loop', 0, 0, 'critical', TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
	('01900000-0000-7000-8000-000000000003', NULL, 'Install failed', 'install_failed', 0, 0, 'warning', TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
	('01900000-0000-7000-8000-000000000004', NULL, 'Backup failed', 'backup_failed', 0, 0, 'warning', TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
	('01900000-0000-7000-8000-000000000005', NULL, 'Transfer failed', 'transfer_failed', 0, 0, 'warning', TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
	('01900000-0000-7000-8000-000000000006', NULL, 'Node offline', 'node_offline', 0, 120, 'critical', TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);
