-- slarules schema v8: the ticket filters' indexes carry the ticket id (issue 18).
-- A log page with conditions on the ticket row counts the matching tickets in their index,
-- and when there are a few thousand walks the sort index testing each cycle's ticket id
-- against that id list: read from the index alone, without a ticket row per id.
-- They replace the single-column indexes (an equality on the first column still seeks).
DROP INDEX IF EXISTS "ix_ticket_level";
CREATE INDEX "ix_ticket_level_id" ON "ticket" ("level", "id");
DROP INDEX IF EXISTS "ix_ticket_department_key";
CREATE INDEX "ix_ticket_department_id" ON "ticket" ("department_key", "id");
DROP INDEX IF EXISTS "ix_ticket_assignee_key";
CREATE INDEX "ix_ticket_assignee_id" ON "ticket" ("assignee_key", "id");
DROP INDEX IF EXISTS "ix_ticket_priority";
CREATE INDEX "ix_ticket_priority_source" ON "ticket" (
  json_extract("fields", '$.priority'), json_extract("fields", '$.source'), "id"
);
DROP INDEX IF EXISTS "ix_ticket_source";
CREATE INDEX "ix_ticket_source_id" ON "ticket" (json_extract("fields", '$.source'), "id");
-- The open cycles' index carries the metric: a ticket page of a metric in an open state
-- (`metric: RESOLUTION, state: ACTIVE`) collects its tickets from this index alone.
DROP INDEX IF EXISTS "ix_cycle_state_breach";
CREATE INDEX "ix_cycle_state_breach" ON "cycle" ("state", "breach_at", "ticket_id", "metric");
