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

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slarules.engine.alerts import Alert
from slarules.store.sql import Sql, chunks
from slarules.store.times import from_db, opt_from_db

NOTIFY_CHANNEL = "slarules_alerts"
RELOAD_CHANNEL = "slarules_reload"
OPEN = ("pending", "claimed")

INSERT = (
    'INSERT INTO "alert" ("id", "ticket_id", "metric", "cycle_index", "cycle_started_at", '
    '"kind", "percent", "before_seconds", "due_at", "status", "attempts", "next_attempt_at", '
    '"claimed_by", "delivered_at", "created_at", "payload") '
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING"
)


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """What the alert history and the subscription replay select (empty: everything)."""

    kinds: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    level: str | None = None
    department: str | None = None
    assignee: str | None = None
    ticket_id: str | None = None
    at_from: datetime | None = None  # the alert's instant (`at`), inclusive
    at_to: datetime | None = None  # exclusive


@dataclass(frozen=True, slots=True)
class StoredAlert:
    id: str
    created_at: datetime  # when it was raised (the order of replay and history)
    payload: str


SHOWN = ("pending", "claimed", "delivered", "published")  # raised and not cancelled since


@dataclass(frozen=True, slots=True)
class ClaimedAlert:
    id: str
    due_at: datetime
    attempts: int
    payload: str  # the alert's JSON as the service encoded it


class AlertOutbox:
    """Outbox SQL (sync; called inside the repository's transactions or on its own)."""

    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        self.webhook = False  # set by the app: without a webhook alerts are only published

    def plan(
        self,
        cur: Any,
        ticket_ids: Sequence[str],
        wanted: Mapping[str, tuple[Alert, str]],
        reached: set[str],
        now: datetime,
    ) -> list[Alert]:
        """Raise `wanted` (alert, encoded payload) and cancel pending alerts of these tickets
        whose threshold is no longer `reached`, in the caller's transaction; the raised ones.

        On PostgreSQL each raised alert's id is sent with NOTIFY at commit (a
        payload stays small whatever the ticket holds: the receivers read the row)."""
        s = self.sql
        existing: dict[str, str] = {}
        for part in chunks(list(ticket_ids)):
            s.execute(
                cur,
                f'SELECT "id", "status" FROM "alert" WHERE "ticket_id" IN ({s.marks(len(part))})',
                part,
            )
            existing.update({r[0]: r[1] for r in cur.fetchall()})
        cancel = [a for a, st in existing.items() if st in OPEN and a not in reached]
        revive = [a for a, st in existing.items() if st == "cancelled" and a in wanted]
        new = [aid for aid in wanted if aid not in existing]
        status = "pending" if self.webhook else "published"
        for part in chunks(cancel):
            s.execute(
                cur,
                'UPDATE "alert" SET "status" = \'cancelled\', "claimed_by" = NULL '
                f'WHERE "id" IN ({s.marks(len(part))})',
                part,
            )
        rows = []
        for aid in new:
            a, payload = wanted[aid]
            rows.append(
                (
                    a.id,
                    a.ticket_id,
                    a.metric,
                    a.cycle_index,
                    s.t(a.cycle_started_at),
                    a.kind,
                    a.percent,
                    a.before_seconds,
                    s.t(a.at),
                    status,
                    0,
                    s.t(now) if self.webhook else None,
                    None,
                    None,
                    s.t(now),
                    payload,
                )
            )
        s.executemany(cur, INSERT, rows)
        for aid in revive:
            a, payload = wanted[aid]
            s.execute(
                cur,
                'UPDATE "alert" SET "status" = ?, "next_attempt_at" = ?, "payload" = ?, '
                '"due_at" = ? WHERE "id" = ? AND "status" = \'cancelled\'',
                (status, s.t(now) if self.webhook else None, payload, s.t(a.at), aid),
            )
        raised = [wanted[aid][0] for aid in (*new, *revive)]
        if s.pg:
            for a in raised:  # delivered to every process's listener at commit
                s.execute(cur, "SELECT pg_notify(?, ?)", (NOTIFY_CHANNEL, a.id))
        return raised

    def payloads(self, ids: Sequence[str]) -> dict[str, str]:
        """The stored payloads of these alerts (a listener heard their ids)."""
        s = self.sql
        out: dict[str, str] = {}
        with s.read() as cur:
            for part in chunks(list(ids)):
                s.execute(
                    cur,
                    f'SELECT "id", "payload" FROM "alert" WHERE "id" IN ({s.marks(len(part))})',
                    part,
                )
                out.update({r[0]: _text(r[1]) for r in cur.fetchall()})
        return out

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
        return [ClaimedAlert(r[0], from_db(r[1]), int(r[2]) + 1, _text(r[3])) for r in rows]

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

    # -- reading back: subscription replay, history ------------------------------------

    def _where(self, q: AlertQuery) -> tuple[builtins.list[str], builtins.list[Any]]:
        s = self.sql
        # On SQLite `+` keeps the planner off `ix_alert_status_next` (nearly every row is
        # shown, so it selects nothing) and on `ix_alert_created_id`, the order read.
        status = '"status"' if s.pg else '+"status"'
        parts = [f"{status} IN ({s.marks(len(SHOWN))})"]
        params: builtins.list[Any] = builtins.list(SHOWN)
        for column, values in (("kind", q.kinds), ("metric", q.metrics)):
            if values:
                parts.append(f'"{column}" IN ({s.marks(len(values))})')
                params.extend(values)
        if q.ticket_id is not None:
            parts.append('"ticket_id" = ?')
            params.append(q.ticket_id)
        for key, value in (("level", q.level), ("department", q.department)):
            if value is not None:
                parts.append(f"{self._field(key)} = ?")
                params.append(value)
        if q.assignee is not None:
            parts.append(f"{self._field('assignee')} = ?")
            params.append(q.assignee)
        if q.at_from is not None:
            parts.append('"due_at" >= ?')
            params.append(s.t(q.at_from))
        if q.at_to is not None:
            parts.append('"due_at" < ?')
            params.append(s.t(q.at_to))
        return parts, params

    def _field(self, key: str) -> str:
        """A payload key as SQL text (keys are fixed names, never user input)."""
        return (
            f"(\"payload\"->>'{key}')" if self.sql.pg else f"json_extract(\"payload\", '$.{key}')"
        )

    def position(self, alert_id: str) -> datetime | None:
        """When a stored alert was raised (None: no such alert)."""
        s = self.sql
        with s.read() as cur:
            s.execute(cur, 'SELECT "created_at" FROM "alert" WHERE "id" = ?', (alert_id,))
            row = cur.fetchone()
        return None if row is None else from_db(row[0])

    def raised_since(
        self,
        q: AlertQuery,
        start: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> builtins.list[StoredAlert]:
        """Alerts in the order they were raised: from `start` (inclusive) or strictly after
        the (raised, id) position `after`; at most `limit` (page with the last one)."""
        s = self.sql
        parts, params = self._where(q)
        if after is not None:
            at = s.t(after[0])
            parts.append('("created_at" > ? OR ("created_at" = ? AND "id" > ?))')
            params.extend((at, at, after[1]))
        elif start is not None:
            parts.append('"created_at" >= ?')
            params.append(s.t(start))
        sql = (
            'SELECT "id", "created_at", "payload" FROM "alert" WHERE '
            + " AND ".join(parts)
            + ' ORDER BY "created_at", "id" LIMIT ?'
        )
        with s.read() as cur:
            s.execute(cur, sql, [*params, limit])
            return [StoredAlert(r[0], from_db(r[1]), _text(r[2])) for r in cur.fetchall()]

    def history(
        self, q: AlertQuery, first: int, before: tuple[datetime, str] | None
    ) -> builtins.list[StoredAlert]:
        """Newest raised first, strictly before the (raised, id) position `before`; up to
        `first + 1` rows (the extra one says there is a next page)."""
        s = self.sql
        parts, params = self._where(q)
        if before is not None:
            at = s.t(before[0])
            parts.append('("created_at" < ? OR ("created_at" = ? AND "id" < ?))')
            params.extend((at, at, before[1]))
        sql = (
            'SELECT "id", "created_at", "payload" FROM "alert" WHERE '
            + " AND ".join(parts)
            + ' ORDER BY "created_at" DESC, "id" DESC LIMIT ?'
        )
        with s.read() as cur:
            s.execute(cur, sql, [*params, first + 1])
            return [StoredAlert(r[0], from_db(r[1]), _text(r[2])) for r in cur.fetchall()]


def _text(value: Any) -> str:
    """A JSON column as text (PostgreSQL's driver may hand back the parsed value)."""
    return value if isinstance(value, str) else Sql.j(value)
