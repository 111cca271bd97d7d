-- Node enrolment: a one-time deployment token, exchanged by
-- `catalyst-agent configure` for a long-lived credential. Only hashes are kept.

ALTER TABLE nodes ADD COLUMN deploy_token_hash TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE nodes ADD COLUMN deploy_token_expires_at {{.Timestamp}};
--bun:split
ALTER TABLE nodes ADD COLUMN credential_hash TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE nodes ADD COLUMN agent_version TEXT NOT NULL DEFAULT '';
