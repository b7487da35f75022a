-- slarules schema v5: the assignee each cycle is credited to (engine/credit.py: the ticket's
-- assignee when the cycle stopped; the current one while it runs), with its case-folded key,
-- for the per-assignee report. Rows written before v5 get the ticket's assignee as stored
-- (the best the database knows without a replay); re-measuring a ticket rewrites them.
ALTER TABLE "cycle" ADD COLUMN "credited_assignee" TEXT;
ALTER TABLE "cycle" ADD COLUMN "credited_assignee_key" TEXT;
UPDATE "cycle" SET
  "credited_assignee" = (SELECT t."assignee" FROM "ticket" t WHERE t."id" = "cycle"."ticket_id"),
  "credited_assignee_key" = (
    SELECT COALESCE(t."assignee_key", LOWER(t."assignee")) FROM "ticket" t
    WHERE t."id" = "cycle"."ticket_id"
  );
CREATE INDEX "ix_cycle_credited_assignee_key" ON "cycle" ("credited_assignee_key");
