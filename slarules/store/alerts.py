"""The alert outbox: alert rows planned in the re-measure transaction, claimed for delivery.

Theory of operation. Every re-measure (an event, a reload, the scheduler
reaching a ticket's `next_at`) calls `plan` inside its write transaction: a
reached threshold of a running cycle (or of a stopped one, when it was
crossed after the ticket's previous measurement) gets an alert row with its
stable id, unless one exists; a pending alert whose threshold is no longer
reached is cancelled. Inserting and cancelling commit with the re-measure,
so a crash never loses an alert nor makes one twice. Webhook delivery then
`claim`s due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several
processes share the work) with a lease: a process that dies after claiming
leaves the row to be claimed again once the lease runs out.

Statuses: `pending` (webhook to deliver at `next_attempt_at`), `claimed`
(lease until `next_attempt_at`), `delivered` (2xx), `published` (no webhook:
subscriptions only), `cancelled` (no longer due; may become pending again).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slarules.alerts.ids import alert_id
from slarules.engine.measurement import Measurement
from slarules.store.sql import Sql, chunks
from slarules.store.times import from_db, opt_from_db, rfc3339

NOTIFY_CHANNEL = "slarules_alerts"
RELOAD_CHANNEL = "slarules_reload"
OPEN = ("pending", "claimed")
MAX_AGE = 86_400.0  # seconds: older thresholds raise no alert

INSERT = (
    'INSERT INTO "alert" ("id", "ticket_id", "metric", "cycle_index", "cycle_started_at", '
    '"kind", "percent", "before_seconds", "due_at", "status", "attempts", "next_attempt_at", '
    '"claimed_by", "delivered_at", "created_at", "payload") '
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING"
)


@dataclass(frozen=True, slots=True)
class PlannedAlert:
    """An alert to raise: its row values and its API payload."""

    id: str
    ticket_id: str
    metric: str
    cycle_index: int
    cycle_started_at: datetime
    kind: str
    percent: float | None
    before_seconds: int | None
    due_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ClaimedAlert:
    id: str
    due_at: datetime
    attempts: int
    payload: dict[str, Any]


def alert_payload(a: PlannedAlert, m: Measurement) -> dict[str, Any]:
    """The JSON of an alert: the GraphQL `Alert` fields (webhook body and subscription)."""
    f = m.fields
    text = {
        k: (f.get(k) if isinstance(f.get(k), str) and f.get(k) else None)
        for k in ("assignee", "department")
    }
    return {
        "id": a.id,
        "kind": a.kind.upper(),
        "ticketId": a.ticket_id,
        "metric": a.metric.upper(),
        "cycleIndex": a.cycle_index,
        "percent": a.percent,
        "beforeSeconds": a.before_seconds,
        "at": rfc3339(a.due_at),
        "level": m.decision.level,
        "assignee": text["assignee"],
        "department": text["department"],
        "rulesetVersion": m.ruleset_version,
    }


def reached_alerts(
    m: Measurement, previous: datetime | None, now: datetime, max_age: float = MAX_AGE
) -> tuple[dict[str, PlannedAlert], set[str]]:
    """(alerts to raise by id, ids of every reached threshold) of one measurement.

    A breach counts from its instant on for an active cycle (the engine's
    whole seconds report it reached one second later). Thresholds more than
    `max_age` seconds old are not raised either (an import of old tickets).

    Stopped cycles raise only thresholds crossed after `previous` (the last
    measurement): an imported or late-recorded history does not raise
    alerts for instants nobody could have been warned about.
    """
    raise_: dict[str, PlannedAlert] = {}
    reached: set[str] = set()
    oldest = now - timedelta(seconds=max_age)
    if m.decision.level is None:
        return raise_, reached
    for c in m.cycles:
        for th in c.thresholds:
            if th.at is None or th.at > now:
                continue
            # an active cycle whose breach instant has come is breached a moment later
            # (E > T): raise it now rather than a whole second late
            if not th.reached and not (th.kind == "breach" and c.state == "active"):
                continue
            aid = alert_id(m.ticket_id, c.metric, c.started_at, th.kind, th.percent, th.before)
            reached.add(aid)
            if c.stopped_at is not None and (previous is None or th.at <= previous):
                continue
            if th.at < oldest:
                continue
            a = PlannedAlert(
                aid,
                m.ticket_id,
                c.metric,
                c.index,
                c.started_at,
                th.kind,
                th.percent,
                th.before,
                th.at,
                {},
            )
            a.payload.update(alert_payload(a, m))
            raise_[aid] = a
    return raise_, reached


class AlertOutbox:
    """Outbox SQL (sync; called inside the repository's transactions or on its own)."""

    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        self.webhook = False  # set by the app: without a webhook alerts are only published
        self.max_age = MAX_AGE

    def plan(
        self,
        cur: Any,
        ms: Sequence[Measurement],
        previous: Mapping[str, datetime | None],
        now: datetime,
    ) -> list[PlannedAlert]:
        """Raise and cancel alerts of these measured tickets; the newly raised ones."""
        s = self.sql
        wanted: dict[str, PlannedAlert] = {}
        reached: set[str] = set()
        for m in ms:
            raise_, got = reached_alerts(m, previous.get(m.ticket_id), now, self.max_age)
            wanted.update(raise_)
            reached |= got
        existing: dict[str, str] = {}
        ids = [m.ticket_id for m in ms]
        for part in chunks(ids):
            s.execute(
                cur,
                f'SELECT "id", "status" FROM "alert" WHERE "ticket_id" IN ({s.marks(len(part))})',
                part,
            )
            existing.update({r[0]: r[1] for r in cur.fetchall()})
        cancel = [a for a, st in existing.items() if st in OPEN and a not in reached]
        revive = [a for a, st in existing.items() if st == "cancelled" and a in wanted]
        new = [a for a in wanted.values() if a.id not in existing]
        status = "pending" if self.webhook else "published"
        for part in chunks(cancel):
            s.execute(
                cur,
                'UPDATE "alert" SET "status" = \'cancelled\', "claimed_by" = NULL '
                f'WHERE "id" IN ({s.marks(len(part))})',
                part,
            )
        rows = [
            (
                a.id,
                a.ticket_id,
                a.metric,
                a.cycle_index,
                s.t(a.cycle_started_at),
                a.kind,
                a.percent,
                a.before_seconds,
                s.t(a.due_at),
                status,
                0,
                s.t(now) if self.webhook else None,
                None,
                None,
                s.t(now),
                Sql.j(a.payload),
            )
            for a in new
        ]
        s.executemany(cur, INSERT, rows)
        for aid in revive:
            a = wanted[aid]
            s.execute(
                cur,
                'UPDATE "alert" SET "status" = ?, "next_attempt_at" = ?, "payload" = ?, '
                '"due_at" = ? WHERE "id" = ? AND "status" = \'cancelled\'',
                (status, s.t(now) if self.webhook else None, Sql.j(a.payload), s.t(a.due_at), aid),
            )
        raised = new + [wanted[a] for a in revive]
        if s.pg:
            for a in raised:  # delivered to every process's listener at commit
                s.execute(cur, "SELECT pg_notify(?, ?)", (NOTIFY_CHANNEL, Sql.j(a.payload)))
        return raised

    # -- webhook delivery ------------------------------------------------------------

    def claim(self, owner: str, now: datetime, lease: float, limit: int = 50) -> list[ClaimedAlert]:
        """Take due alerts for delivery (pending, or claimed with an expired lease)."""
        s = self.sql
        skip = " FOR UPDATE SKIP LOCKED" if s.pg else ""
        with s.write() as cur:
            s.execute(
                cur,
                'SELECT "id", "due_at", "attempts", "payload" FROM "alert" '
                "WHERE \"status\" IN ('pending', 'claimed') AND \"next_attempt_at\" <= ? "
                'ORDER BY "next_attempt_at", "id" LIMIT ?' + skip,
                (s.t(now), limit),
            )
            rows = cur.fetchall()
            if not rows:
                return []
            until = s.t(now + timedelta(seconds=lease))
            s.executemany(
                cur,
                'UPDATE "alert" SET "status" = \'claimed\', "claimed_by" = ?, '
                '"next_attempt_at" = ?, "attempts" = "attempts" + 1 WHERE "id" = ?',
                [(owner, until, r[0]) for r in rows],
            )
        return [ClaimedAlert(r[0], from_db(r[1]), int(r[2]) + 1, Sql.unj(r[3])) for r in rows]

    def delivered(self, ids: Sequence[str], at: datetime) -> None:
        if not ids:
            return
        s = self.sql
        with s.write() as cur:
            s.executemany(
                cur,
                'UPDATE "alert" SET "status" = \'delivered\', "delivered_at" = ?, '
                '"claimed_by" = NULL, "next_attempt_at" = NULL WHERE "id" = ?',
                [(s.t(at), i) for i in ids],
            )

    def retry(self, retries: Sequence[tuple[str, datetime]]) -> None:
        """Failed attempts: pending again at their backoff instants (unless cancelled meanwhile)."""
        if not retries:
            return
        s = self.sql
        with s.write() as cur:
            s.executemany(
                cur,
                'UPDATE "alert" SET "status" = \'pending\', "claimed_by" = NULL, '
                '"next_attempt_at" = ? WHERE "id" = ? AND "status" = \'claimed\'',
                [(s.t(at), i) for i, at in retries],
            )

    def next_attempt(self) -> datetime | None:
        """The earliest instant a webhook delivery (or an expired lease) is due."""
        s = self.sql
        with s.read() as cur:
            best = None
            for status in OPEN:  # two probes of `ix_alert_status_next`
                s.execute(
                    cur,
                    'SELECT MIN("next_attempt_at") FROM "alert" WHERE "status" = ?',
                    (status,),
                )
                v = opt_from_db(cur.fetchone()[0])
                if v is not None and (best is None or v < best):
                    best = v
            return best

    def list(self, ticket_id: str | None = None) -> list[dict[str, Any]]:
        """Alert rows as dicts (tests and diagnostics)."""
        s = self.sql
        where, params = ("", ()) if ticket_id is None else (' WHERE "ticket_id" = ?', (ticket_id,))
        with s.read() as cur:
            s.execute(
                cur,
                'SELECT "id", "ticket_id", "metric", "kind", "percent", "before_seconds", '
                '"due_at", "status", "attempts", "delivered_at", "payload" FROM "alert"'
                + where
                + ' ORDER BY "due_at", "id"',
                params,
            )
            return [
                {
                    "id": r[0],
                    "ticket_id": r[1],
                    "metric": r[2],
                    "kind": r[3],
                    "percent": r[4],
                    "before_seconds": r[5],
                    "due_at": from_db(r[6]),
                    "status": r[7],
                    "attempts": r[8],
                    "delivered_at": opt_from_db(r[9]),
                    "payload": Sql.unj(r[10]),
                }
                for r in cur.fetchall()
            ]

    def status_counts(self) -> dict[str, int]:
        s = self.sql
        with s.read() as cur:
            s.execute(cur, 'SELECT "status", COUNT(*) FROM "alert" GROUP BY "status"')
            return {r[0]: int(r[1]) for r in cur.fetchall()}


def payload_text(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)
