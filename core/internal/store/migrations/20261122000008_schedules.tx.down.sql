DROP TABLE schedule_runs;
--bun:split

DROP TABLE schedules;
