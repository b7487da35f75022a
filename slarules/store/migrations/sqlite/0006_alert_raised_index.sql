-- slarules schema v6: the alert outbox in the order alerts were raised.
-- `slaAlerts(after:)` replays `("created_at", "id") > (?, ?)` (or `"created_at" >= ?`)
-- ordered by raised instant then id; the `alerts` history page reads the same order
-- backwards. Without this index both scan the whole outbox.
CREATE INDEX "ix_alert_created_id" ON "alert" ("created_at", "id");
