-- slarules schema v1 (PostgreSQL). Datetimes are naive UTC (session time zone UTC).
CREATE TABLE "ticket" (
  "id" TEXT NOT NULL PRIMARY KEY,
  "created_at" TIMESTAMP NOT NULL,
  "created_by" TEXT NOT NULL,
  "initial_fields" JSONB NOT NULL,
  "fields" JSONB NOT NULL,
  "level" TEXT,
  "decided_by" TEXT,
  "requester" TEXT,
  "department" TEXT,
  "assignee" TEXT,
  "done" BOOLEAN NOT NULL,
  "ruleset_version" TEXT NOT NULL,
  "measured_at" TIMESTAMP NOT NULL,
  "due_key" TIMESTAMP NOT NULL,
  "next_at" TIMESTAMP
);
CREATE INDEX "ix_ticket_due_key_id" ON "ticket" ("due_key", "id");
CREATE INDEX "ix_ticket_next_at" ON "ticket" ("next_at");
CREATE INDEX "ix_ticket_created_at" ON "ticket" ("created_at");
CREATE INDEX "ix_ticket_level" ON "ticket" ("level");
CREATE INDEX "ix_ticket_department" ON "ticket" ("department");
CREATE INDEX "ix_ticket_assignee" ON "ticket" ("assignee");
CREATE INDEX "ix_ticket_requester" ON "ticket" ("requester");

CREATE TABLE "event" (
  "id" BIGSERIAL PRIMARY KEY,
  "ticket_id" TEXT NOT NULL REFERENCES "ticket" ("id") ON DELETE CASCADE,
  "event_id" TEXT NOT NULL,
  "at" TIMESTAMP NOT NULL,
  "type" TEXT NOT NULL,
  "payload" JSONB NOT NULL,
  "recorded_at" TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX "ux_event_ticket_event_id" ON "event" ("ticket_id", "event_id");

CREATE TABLE "cycle" (
  "id" BIGSERIAL PRIMARY KEY,
  "ticket_id" TEXT NOT NULL REFERENCES "ticket" ("id") ON DELETE CASCADE,
  "metric" TEXT NOT NULL,
  "idx" INTEGER NOT NULL,
  "state" TEXT NOT NULL,
  "started_at" TIMESTAMP NOT NULL,
  "stopped_at" TIMESTAMP,
  "due_at" TIMESTAMP,
  "breached_at" TIMESTAMP,
  "breach_at" TIMESTAMP,
  "target" INTEGER NOT NULL,
  "elapsed" INTEGER NOT NULL,
  "remaining" INTEGER NOT NULL,
  "measured_at" TIMESTAMP NOT NULL,
  "ruleset_version" TEXT NOT NULL,
  "next_at" TIMESTAMP,
  "warnings" JSONB NOT NULL,
  "timeline" JSONB NOT NULL,
  "thresholds" JSONB NOT NULL
);
CREATE INDEX "ix_cycle_ticket" ON "cycle" ("ticket_id", "metric", "idx");
-- "breached, or active and due before X": two range scans of one index
CREATE INDEX "ix_cycle_state_due" ON "cycle" ("state", "due_at", "ticket_id");
-- the alert scheduler's "next threshold to reach"
-- "breached as of now": stored breached, or active with breach_at < now
CREATE INDEX "ix_cycle_state_breach" ON "cycle" ("state", "breach_at", "ticket_id");
CREATE INDEX "ix_cycle_next_at" ON "cycle" ("next_at");
CREATE INDEX "ix_cycle_started_at" ON "cycle" ("started_at");

CREATE TABLE "evaluation" (
  "id" BIGSERIAL PRIMARY KEY,
  "ticket_id" TEXT NOT NULL REFERENCES "ticket" ("id") ON DELETE CASCADE,
  "seq" INTEGER NOT NULL,
  "at" TIMESTAMP NOT NULL,
  "ruleset_version" TEXT NOT NULL,
  "matched" JSONB NOT NULL,
  "level_before" TEXT,
  "level_after" TEXT,
  "decided_by" TEXT,
  "note" TEXT
);
CREATE INDEX "ix_evaluation_ticket" ON "evaluation" ("ticket_id", "seq");

CREATE TABLE "ruleset" (
  "version" TEXT NOT NULL PRIMARY KEY,
  "loaded_at" TIMESTAMP NOT NULL,
  "files" JSONB NOT NULL,
  "sources" JSONB NOT NULL
);

CREATE TABLE "alert" (
  "id" TEXT NOT NULL PRIMARY KEY,
  "ticket_id" TEXT NOT NULL,
  "metric" TEXT NOT NULL,
  "cycle_index" INTEGER NOT NULL,
  "cycle_started_at" TIMESTAMP NOT NULL,
  "kind" TEXT NOT NULL,
  "percent" DOUBLE PRECISION,
  "before_seconds" INTEGER,
  "due_at" TIMESTAMP NOT NULL,
  "status" TEXT NOT NULL,
  "attempts" INTEGER NOT NULL,
  "next_attempt_at" TIMESTAMP,
  "claimed_by" TEXT,
  "delivered_at" TIMESTAMP,
  "created_at" TIMESTAMP NOT NULL,
  "payload" JSONB NOT NULL
);
CREATE INDEX "ix_alert_status_next" ON "alert" ("status", "next_attempt_at");
CREATE INDEX "ix_alert_ticket" ON "alert" ("ticket_id");
