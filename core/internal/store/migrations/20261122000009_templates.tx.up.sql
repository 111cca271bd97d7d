-- Templates gain config files the agent rewrites before each start, and
-- remember where an imported template came from: the template_source
-- plugin (source), its ID there (source_ref) and the version imported, so
-- a second import of the same template updates it instead of adding a
-- copy. A file an administrator uploaded through a source keeps the
-- source's name but has no source_ref, and is not unique. Images stay one JSON column; rows written before images had labels
-- hold bare references, which the store reads as images labelled with
-- their reference.

ALTER TABLE templates ADD COLUMN config_files {{.JSON}} NOT NULL DEFAULT '[]';
--bun:split

ALTER TABLE templates ADD COLUMN source TEXT NOT NULL DEFAULT '';
--bun:split

ALTER TABLE templates ADD COLUMN source_ref TEXT NOT NULL DEFAULT '';
--bun:split

ALTER TABLE templates ADD COLUMN source_version TEXT NOT NULL DEFAULT '';
--bun:split

CREATE UNIQUE INDEX templates_source_key ON templates (source, source_ref) WHERE source_ref <> '';
