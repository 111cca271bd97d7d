-- Crash handling and resource history.
--
-- Each server gets a restart policy (what its agent does when the process
-- exits unasked) and how its last process ended. Zero/empty policy fields
-- mean the defaults (wire.DefaultRestartPolicy): on_crash, 5 restarts in
-- 600 s, 5000 ms backoff doubling up to 60 s.

ALTER TABLE servers ADD COLUMN restart_mode TEXT NOT NULL DEFAULT '';

--bun:split

ALTER TABLE servers ADD COLUMN restart_max INTEGER NOT NULL DEFAULT 0;

--bun:split

ALTER TABLE servers ADD COLUMN restart_window_seconds INTEGER NOT NULL DEFAULT 0;

--bun:split

ALTER TABLE servers ADD COLUMN restart_backoff_ms INTEGER NOT NULL DEFAULT 0;

--bun:split

ALTER TABLE servers ADD COLUMN clean_exit_is_crash BOOLEAN NOT NULL DEFAULT FALSE;

--bun:split

ALTER TABLE servers ADD COLUMN last_exit_code INTEGER;

--bun:split

ALTER TABLE servers ADD COLUMN last_oom_killed BOOLEAN NOT NULL DEFAULT FALSE;

--bun:split

ALTER TABLE servers ADD COLUMN crashed_at {{.Timestamp}};

--bun:split

-- Samples, written in batches. at is Unix seconds, so that both databases
-- downsample with the same integer arithmetic (at / step * step).
CREATE TABLE server_metrics (
	server_id          TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
	at                 BIGINT NOT NULL,
	cpu_percent        DOUBLE PRECISION NOT NULL,
	memory_bytes       BIGINT NOT NULL,
	memory_limit_bytes BIGINT NOT NULL,
	pids               BIGINT NOT NULL,
	net_rx_bytes       BIGINT NOT NULL,
	net_tx_bytes       BIGINT NOT NULL,
	disk_bytes         BIGINT NOT NULL,
	PRIMARY KEY (server_id, at)
);

--bun:split

CREATE INDEX server_metrics_at_idx ON server_metrics (at);

--bun:split

CREATE TABLE node_metrics (
	node_id            TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
	at                 BIGINT NOT NULL,
	cpu_percent        DOUBLE PRECISION NOT NULL,
	memory_used_bytes  BIGINT NOT NULL,
	memory_total_bytes BIGINT NOT NULL,
	disk_used_bytes    BIGINT NOT NULL,
	disk_total_bytes   BIGINT NOT NULL,
	load1              DOUBLE PRECISION NOT NULL,
	load5              DOUBLE PRECISION NOT NULL,
	load15             DOUBLE PRECISION NOT NULL,
	containers         INTEGER NOT NULL,
	PRIMARY KEY (node_id, at)
);

--bun:split

CREATE INDEX node_metrics_at_idx ON node_metrics (at);
