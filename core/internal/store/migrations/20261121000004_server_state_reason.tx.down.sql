ALTER TABLE servers DROP COLUMN state_reason;
