DROP TABLE subusers;
--bun:split
DROP TABLE ssh_keys;
--bun:split
DROP TABLE api_keys;
--bun:split
DROP TABLE refresh_tokens;
--bun:split
ALTER TABLE users DROP COLUMN session_version;
--bun:split
ALTER TABLE users DROP COLUMN recovery_codes;
--bun:split
ALTER TABLE users DROP COLUMN totp_enabled;
--bun:split
ALTER TABLE users DROP COLUMN totp_secret;
