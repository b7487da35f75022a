-- slarules schema v2: case-folded twins of the text columns that lists filter and group on
-- (the rules compare text with full case folding; filters and compliance groups do too).
-- Rows written before v2 are filled in by the store when it opens (Python's casefold).
ALTER TABLE "ticket" ADD COLUMN "requester_key" TEXT;
ALTER TABLE "ticket" ADD COLUMN "department_key" TEXT;
ALTER TABLE "ticket" ADD COLUMN "assignee_key" TEXT;
DROP INDEX "ix_ticket_department";
DROP INDEX "ix_ticket_assignee";
DROP INDEX "ix_ticket_requester";
CREATE INDEX "ix_ticket_department_key" ON "ticket" ("department_key");
CREATE INDEX "ix_ticket_assignee_key" ON "ticket" ("assignee_key");
CREATE INDEX "ix_ticket_requester_key" ON "ticket" ("requester_key");
