-- slarules schema v3: each open ticket's engine state after its last event (a resumable
-- fold), so a new event folds onto it instead of replaying the whole history. Keyed by
-- ruleset and engine version: a checkpoint of another version is ignored (rebuilt).
CREATE TABLE "checkpoint" (
  "ticket_id" TEXT NOT NULL PRIMARY KEY REFERENCES "ticket" ("id") ON DELETE CASCADE,
  "ruleset_version" TEXT NOT NULL,
  "engine_version" TEXT NOT NULL,
  "last_at" TIMESTAMP NOT NULL,
  "evaluations" INTEGER NOT NULL,
  "state" JSONB NOT NULL
);
