DROP TABLE deliveries;
--bun:split

DROP TABLE webhooks;
--bun:split

DROP TABLE alerts;
--bun:split

DROP TABLE alert_rules;
