ALTER TABLE servers DROP COLUMN backup_limit;
--bun:split
DROP TABLE backups;
