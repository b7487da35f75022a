-- slarules schema v4: indexes for reports, SLA-log pages and exports at a year of tickets.
-- Keyset pages of the SLA log: the sort column, then the row's unique key (ticket, metric,
-- index), so `(sort, ticket_id, metric, idx) > (?, ?, ?, ?)` seeks and reads one page.
-- The started_at one also serves the compliance range (it replaces ix_cycle_started_at).
DROP INDEX IF EXISTS "ix_cycle_started_at";
CREATE INDEX "ix_cycle_started_key" ON "cycle" ("started_at", "ticket_id", "metric", "idx");
CREATE INDEX "ix_cycle_due_key" ON "cycle" ("due_at", "ticket_id", "metric", "idx");
CREATE INDEX "ix_cycle_stopped_key" ON "cycle" ("stopped_at", "ticket_id", "metric", "idx");
-- `metric` filters and compliance per metric over a range
CREATE INDEX "ix_cycle_metric_started" ON "cycle" ("metric", "started_at");
-- tickets sorted by creation (keyset on created_at, id)
DROP INDEX IF EXISTS "ix_ticket_created_at";
CREATE INDEX "ix_ticket_created_id" ON "ticket" ("created_at", "id");
-- priority and source filters read the stored fields (the same expressions as store/filters.py)
CREATE INDEX "ix_ticket_priority" ON "ticket" (json_extract("fields", '$.priority'));
CREATE INDEX "ix_ticket_source" ON "ticket" (json_extract("fields", '$.source'));
