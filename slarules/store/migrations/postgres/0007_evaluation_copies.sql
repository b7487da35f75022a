-- slarules schema v7: a ticket's evaluation log may hold copies. A reload whose new
-- version measures the ticket as the previous one did records the new version's run as
-- one row here: log rows "seq" .. "seq" + "count" - 1 are rows "source" .. "source" +
-- "count" - 1 of the same log under "ruleset_version" (readers expand it), instead of
-- copying the rows: the log's size grows by one row per such reload, not by a run.
CREATE TABLE "evaluation_copy" (
  "ticket_id" TEXT NOT NULL REFERENCES "ticket" ("id") ON DELETE CASCADE,
  "seq" INTEGER NOT NULL,
  "count" INTEGER NOT NULL,
  "source" INTEGER NOT NULL,
  "ruleset_version" TEXT NOT NULL,
  PRIMARY KEY ("ticket_id", "seq")
);
