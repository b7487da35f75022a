-- slarules schema v8: the ticket filters' column indexes carry the ticket id (issue 18), as
-- SQLite's (where a log page walks the sort index testing each cycle's ticket id against
-- the id list of the tickets that meet its conditions, read from these indexes alone).
-- An equality on the first column still seeks. The expression indexes of priority and
-- source stay: their statistics come with them (a new one has none until ANALYZE, and the
-- planner's default estimate turned `priority + source` log pages from 8 to 96 ms).
DROP INDEX IF EXISTS "ix_ticket_level";
CREATE INDEX "ix_ticket_level_id" ON "ticket" ("level", "id");
DROP INDEX IF EXISTS "ix_ticket_department_key";
CREATE INDEX "ix_ticket_department_id" ON "ticket" ("department_key", "id");
DROP INDEX IF EXISTS "ix_ticket_assignee_key";
CREATE INDEX "ix_ticket_assignee_id" ON "ticket" ("assignee_key", "id");
-- The open cycles' index carries the metric: a ticket page of a metric in an open state
-- (`metric: RESOLUTION, state: ACTIVE`) collects its tickets from this index alone.
DROP INDEX IF EXISTS "ix_cycle_state_breach";
CREATE INDEX "ix_cycle_state_breach" ON "cycle" ("state", "breach_at", "ticket_id", "metric");
-- PostgreSQL: the running cycles by start, so a log page of an open state (ACTIVE,
-- PAUSED) walks them in order instead of sorting them all (2.8 against 0.7 ms bare at a
-- year of tickets). Only running cycles are in it: cheap to keep. SQLite's pages of an
-- open state collect and sort their few rows (its plan choice, store/logplans.py).
CREATE INDEX "ix_cycle_running_started" ON "cycle" ("started_at", "ticket_id", "metric", "idx")
  WHERE "state" IN ('active', 'paused');
