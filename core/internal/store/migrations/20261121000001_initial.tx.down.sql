DROP TABLE audit_log;
--bun:split
DROP TABLE allocations;
--bun:split
DROP TABLE servers;
--bun:split
DROP TABLE templates;
--bun:split
DROP TABLE nodes;
--bun:split
DROP TABLE users;
