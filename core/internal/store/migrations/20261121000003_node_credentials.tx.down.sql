ALTER TABLE nodes DROP COLUMN agent_version;
--bun:split
ALTER TABLE nodes DROP COLUMN credential_hash;
--bun:split
ALTER TABLE nodes DROP COLUMN deploy_token_expires_at;
--bun:split
ALTER TABLE nodes DROP COLUMN deploy_token_hash;
