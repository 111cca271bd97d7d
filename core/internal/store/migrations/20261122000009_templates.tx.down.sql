DROP INDEX templates_source_key;
--bun:split

ALTER TABLE templates DROP COLUMN source_version;
--bun:split

ALTER TABLE templates DROP COLUMN source_ref;
--bun:split

ALTER TABLE templates DROP COLUMN source;
--bun:split

ALTER TABLE templates DROP COLUMN config_files;
