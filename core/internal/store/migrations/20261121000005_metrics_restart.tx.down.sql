DROP TABLE node_metrics;

--bun:split

DROP TABLE server_metrics;

--bun:split

ALTER TABLE servers DROP COLUMN crashed_at;

--bun:split

ALTER TABLE servers DROP COLUMN last_oom_killed;

--bun:split

ALTER TABLE servers DROP COLUMN last_exit_code;

--bun:split

ALTER TABLE servers DROP COLUMN clean_exit_is_crash;

--bun:split

ALTER TABLE servers DROP COLUMN restart_backoff_ms;

--bun:split

ALTER TABLE servers DROP COLUMN restart_window_seconds;

--bun:split

ALTER TABLE servers DROP COLUMN restart_max;

--bun:split

ALTER TABLE servers DROP COLUMN restart_mode;
