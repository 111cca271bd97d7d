-- Why a server is in its state, in a sentence for people: the reason an
-- install failed or a process crashed, as the agent or the core saw it.

ALTER TABLE servers ADD COLUMN state_reason TEXT NOT NULL DEFAULT '';
