-- Schedules and their runs.
--
-- A schedule belongs to one server: a cron expression in a time zone and
-- an ordered list of tasks (tasks, JSON). next_run_at is the next slot the
-- expression names; last_run_at the last one that ran (or was skipped).
-- schedule_runs logs each run: slot is the instant a cron firing was for
-- (NULL for a run asked for by hand). The unique index on (schedule_id,
-- slot) is what makes a slot run once even when several core replicas each
-- hear it fire: the second insert of a slot fails and that replica does
-- nothing. NULL slots never collide.

CREATE TABLE schedules (
	id               TEXT PRIMARY KEY,
	server_id        TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
	name             TEXT NOT NULL,
	cron             TEXT NOT NULL,
	timezone         TEXT NOT NULL DEFAULT 'UTC',
	enabled          BOOLEAN NOT NULL DEFAULT TRUE,
	only_when_online BOOLEAN NOT NULL DEFAULT FALSE,
	tasks            {{.JSON}} NOT NULL,
	last_run_at      {{.Timestamp}},
	next_run_at      {{.Timestamp}},
	created_at       {{.Timestamp}} NOT NULL,
	updated_at       {{.Timestamp}} NOT NULL
);
--bun:split

CREATE INDEX schedules_server_idx ON schedules (server_id);
--bun:split

CREATE TABLE schedule_runs (
	id          TEXT PRIMARY KEY,
	schedule_id TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
	server_id   TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
	slot        {{.Timestamp}},
	-- trigger is cron, catch_up (a slot missed while no core ran) or manual.
	trigger     TEXT NOT NULL CHECK (trigger IN ('cron', 'catch_up', 'manual')),
	status      TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'skipped')),
	tasks       {{.JSON}} NOT NULL,
	error       TEXT NOT NULL DEFAULT '',
	started_at  {{.Timestamp}} NOT NULL,
	finished_at {{.Timestamp}},
	-- updated_at is the running core's heartbeat: a run that stops being
	-- updated was cut off by a core that died, and is marked failed.
	updated_at  {{.Timestamp}} NOT NULL
);
--bun:split

CREATE UNIQUE INDEX schedule_runs_slot_idx ON schedule_runs (schedule_id, slot);
--bun:split

CREATE INDEX schedule_runs_schedule_idx ON schedule_runs (schedule_id, id);
--bun:split

CREATE INDEX schedule_runs_running_idx ON schedule_runs (status, updated_at);
