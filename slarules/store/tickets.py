"""The ticket repository: ticket rows, events and the derived rows of measurements.

Theory of operation. Events are the source of truth; the service measures a
ticket and hands the result here (`save`) in the same write transaction as
the events, so the stored rows answer list filters exactly at any later
instant: the ticket's current fields, level, `due_key` and `next_at`, its
`cycle` rows (with `breach_at`), and its append-only `evaluation` log.
This module knows SQL and rows, not SLA rules: every instant it stores was
derived by the engine (`slarules.engine.alerts`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from slarules.engine.measurement import Evaluation
from slarules.store import codec, rewrites, runs
from slarules.store.cycles import (
    CYCLE_COLUMNS,
    CYCLE_SELECT,
    cycle_row,
)
from slarules.store.pages import PageReads
from slarules.store.rows import CheckpointRow, Derived, EventRow, TicketHead
from slarules.store.sql import Sql, chunks
from slarules.store.times import FAR_FUTURE, from_db, opt_from_db, to_db

_HEAD = (
    'SELECT "id", "created_at", "created_by", "initial_fields", "done", "measured_at" '
    'FROM "ticket" '
)
EVAL_INSERT = (
    'INSERT INTO "evaluation" ("ticket_id", "seq", "at", "ruleset_version", "matched", '
    '"level_before", "level_after", "decided_by", "note") VALUES (?,?,?,?,?,?,?,?,?)'
)
T = TypeVar("T")
# text columns lists filter and group on, each with its case-folded `_key` twin
KEY_COLUMNS = ("requester", "department", "assignee")
TICKET_SAVED = (  # the ticket row's columns a measurement sets (`save`), its id first
    "id",
    "fields",
    "level",
    "decided_by",
    *KEY_COLUMNS,
    *(f"{c}_key" for c in KEY_COLUMNS),
    "done",
    "ruleset_version",
    "measured_at",
    "due_key",
    "next_at",
)


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) and v != "" else None


def _is_unique_violation(e: BaseException) -> bool:
    return type(e).__name__ in ("IntegrityError", "UniqueViolation")


def retry_unique(fn: Callable[[], T]) -> T:
    """Run a write once more after a unique violation (a concurrent insert of the same
    ticket or event won the race; the second try sees it as existing)."""
    try:
        return fn()
    except Exception as e:
        if not _is_unique_violation(e):
            raise
    return fn()


def _head(r: Sequence[Any]) -> TicketHead:
    return TicketHead(
        r[0], from_db(r[1]), r[2], codec.decode_fields(Sql.unj(r[3])), bool(r[4]), opt_from_db(r[5])
    )


class TicketRepository(PageReads):
    """Tickets, events and derived rows; every method is sync (run it in a thread)."""

    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        self._stopped = {}  # PageReads: stopped cycles by change mark

    # -- ticket rows -----------------------------------------------------------------

    def heads(
        self, cur: Any, ids: Iterable[str], *, lock: bool = False, open_only: bool = False
    ) -> dict[str, TicketHead]:
        """Ticket rows by id (locked for the transaction on PostgreSQL with `lock`)."""
        s = self.sql
        out: dict[str, TicketHead] = {}
        extra = ' AND NOT "done"' if open_only else ""
        for part in chunks(sorted(set(ids))):
            s.execute(
                cur,
                _HEAD
                + f'WHERE "id" IN ({s.marks(len(part))}){extra} ORDER BY "id"'
                # PG: concurrent batches on one ticket queue up here
                + (s.lock if lock else ""),
                part,
            )
            out.update((r[0], _head(r)) for r in cur.fetchall())
        return out

    def due_heads(self, cur: Any, now: datetime, limit: int) -> dict[str, TicketHead]:
        """Tickets whose `next_at` has come (the scheduler), earliest first; rows other
        processes hold are skipped (PostgreSQL)."""
        s = self.sql
        skip = " FOR UPDATE SKIP LOCKED" if s.pg else ""
        s.execute(
            cur,
            _HEAD + 'WHERE "next_at" <= ? ORDER BY "next_at", "id" LIMIT ?' + skip,
            (s.t(now), limit),
        )
        return {r[0]: _head(r) for r in cur.fetchall()}

    def insert_ticket(self, cur: Any, head: TicketHead, ruleset_version: str) -> None:
        s = self.sql
        stored = Sql.j(codec.encode_fields(head.initial_fields))
        s.execute(
            cur,
            'INSERT INTO "ticket" ("id", "created_at", "created_by", "initial_fields", '
            '"fields", "done", "ruleset_version", "measured_at", "due_key") '
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (
                head.id,
                s.t(head.created_at),
                head.created_by,
                stored,
                stored,
                False,
                ruleset_version,
                s.t(head.created_at),
                s.tn(FAR_FUTURE),
            ),
        )

    def look_again(self, cur: Any, ids: Sequence[str], at: datetime) -> None:
        """Set `next_at` of these tickets (one that cannot be measured now: later)."""
        s = self.sql
        for part in chunks(list(ids)):
            s.execute(
                cur,
                f'UPDATE "ticket" SET "next_at" = ? WHERE "id" IN ({s.marks(len(part))})',
                [s.t(at), *part],
            )

    def open_ids(self) -> list[str]:
        """Every ticket that is not done (a reload re-measures them)."""
        s = self.sql
        with s.read() as cur:
            s.execute(cur, 'SELECT "id" FROM "ticket" WHERE NOT "done" ORDER BY "id"')
            return [r[0] for r in cur.fetchall()]

    # -- events ----------------------------------------------------------------------

    def events(self, cur: Any, ids: Iterable[str]) -> dict[str, list[EventRow]]:
        """Each ticket's stored events by `at`, then as recorded."""
        s = self.sql
        wanted = list(dict.fromkeys(ids))
        out: dict[str, list[EventRow]] = {t: [] for t in wanted}
        for part in chunks(wanted):
            s.execute(
                cur,
                'SELECT "ticket_id", "event_id", "at", "type", "payload" FROM "event" '
                f'WHERE "ticket_id" IN ({s.marks(len(part))}) ORDER BY "ticket_id", "at", "id"',
                part,
            )
            for r in cur.fetchall():
                out[r[0]].append(EventRow(r[1], from_db(r[2]), r[3], Sql.unj(r[4])))
        return out

    def event_marks(self, cur: Any, ids: Iterable[str]) -> dict[str, tuple[int, int]]:
        """(count, last row id) of each ticket's stored events: events are only appended,
        so an equal mark means the same events (a measure made from them still holds)."""
        s = self.sql
        wanted = list(dict.fromkeys(ids))
        out: dict[str, tuple[int, int]] = {t: (0, 0) for t in wanted}
        for part in chunks(wanted):
            s.execute(
                cur,
                'SELECT "ticket_id", COUNT(*), MAX("id") FROM "event" '
                f'WHERE "ticket_id" IN ({s.marks(len(part))}) GROUP BY "ticket_id"',
                part,
            )
            out.update((r[0], (int(r[1]), int(r[2]))) for r in cur.fetchall())
        return out

    def events_named(
        self, cur: Any, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], EventRow]:
        """The stored events among these (ticket id, event id) pairs (duplicate checks)."""
        s = self.sql
        wanted = sorted(set(pairs))
        out: dict[tuple[str, str], EventRow] = {}
        for t in sorted({t for t, _ in wanted}):
            ids = [e for tt, e in wanted if tt == t]
            for part in chunks(ids):
                s.execute(
                    cur,
                    'SELECT "event_id", "at", "type", "payload" FROM "event" '
                    f'WHERE "ticket_id" = ? AND "event_id" IN ({s.marks(len(part))})',
                    [t, *part],
                )
                for r in cur.fetchall():
                    out[(t, r[0])] = EventRow(r[0], from_db(r[1]), r[2], Sql.unj(r[3]))
        return out

    def insert_events(
        self, cur: Any, rows: Sequence[tuple[str, EventRow]], recorded_at: datetime
    ) -> None:
        s = self.sql
        at = s.t(recorded_at)
        s.executemany(
            cur,
            'INSERT INTO "event" ("ticket_id", "event_id", "at", "type", "payload", '
            '"recorded_at") VALUES (?,?,?,?,?,?)',
            [(t, e.event_id, s.t(e.at), e.type, Sql.j(e.payload), at) for t, e in rows],
        )

    # -- checkpoints --------------------------------------------------------------------

    def checkpoints(self, cur: Any, ids: Iterable[str]) -> dict[str, CheckpointRow]:
        s = self.sql
        out: dict[str, CheckpointRow] = {}
        for part in chunks(sorted(set(ids))):
            s.execute(
                cur,
                'SELECT "ticket_id", "ruleset_version", "engine_version", "last_at", '
                '"evaluations", "state" FROM "checkpoint" '
                f'WHERE "ticket_id" IN ({s.marks(len(part))})',
                part,
            )
            for r in cur.fetchall():
                out[r[0]] = CheckpointRow(r[0], r[1], r[2], from_db(r[3]), r[4], Sql.unj(r[5]))
        return out

    def put_checkpoints(self, cur: Any, rows: Sequence[CheckpointRow]) -> None:
        """Upsert these checkpoints (one per ticket)."""
        s = self.sql
        s.executemany(
            cur,
            'INSERT INTO "checkpoint" ("ticket_id", "ruleset_version", "engine_version", '
            '"last_at", "evaluations", "state") VALUES (?,?,?,?,?,?) '
            'ON CONFLICT ("ticket_id") DO UPDATE SET '
            '"ruleset_version" = excluded."ruleset_version", '
            '"engine_version" = excluded."engine_version", "last_at" = excluded."last_at", '
            '"evaluations" = excluded."evaluations", "state" = excluded."state"',
            [
                (
                    r.ticket_id,
                    r.ruleset_version,
                    r.engine_version,
                    s.t(r.last_at),
                    r.evaluations,
                    Sql.j(r.state),
                )
                for r in rows
            ],
        )

    def drop_checkpoints(self, cur: Any, ids: Sequence[str]) -> None:
        s = self.sql
        for part in chunks(list(ids)):
            s.execute(
                cur,
                f'DELETE FROM "checkpoint" WHERE "ticket_id" IN ({s.marks(len(part))})',
                part,
            )

    # -- derived rows -------------------------------------------------------------------

    def evaluations(self, cur: Any, ids: Iterable[str]) -> dict[str, list[Evaluation]]:
        """Each ticket's evaluation log, in the order it was written."""
        s = self.sql
        wanted = list(dict.fromkeys(ids))
        out: dict[str, list[Evaluation]] = {t: [] for t in wanted}
        for part in chunks(wanted):
            s.execute(
                cur,
                'SELECT "ticket_id", "at", "ruleset_version", "matched", "level_before", '
                '"level_after", "decided_by", "note" FROM "evaluation" '
                f'WHERE "ticket_id" IN ({s.marks(len(part))}) ORDER BY "ticket_id", "seq"',
                part,
            )
            for r in cur.fetchall():
                out[r[0]].append(
                    Evaluation(
                        at=from_db(r[1]),
                        ruleset_version=r[2],
                        matched=tuple(Sql.unj(r[3])),
                        level_before=r[4],
                        level_after=r[5],
                        decided_by=r[6],
                        note=r[7],
                    )
                )
        return runs.with_copies(s, cur, out)  # a reload's copied runs in place

    def save(
        self, cur: Any, derived: Sequence[Derived], logs: dict[str, int], now: datetime
    ) -> None:
        """Rewrite the cycle rows and ticket row of measured tickets and append their new
        evaluations (`logs`: how many evaluations each ticket's log holds already). Only
        the columns that changed are written (`store.rewrites`): a partial measurement's
        cycles by (metric, index), a whole one's replacing the ticket's cycles."""
        s = self.sql
        whole = [d.measurement.ticket_id for d in derived if not d.partial]
        keys = [
            (d.measurement.ticket_id, c.metric, c.index)
            for d in derived
            if d.partial
            for c in d.measurement.cycles
        ]
        stored: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for part in chunks(whole):
            s.execute(cur, CYCLE_SELECT + f'WHERE "ticket_id" IN ({s.marks(len(part))})', part)
            stored.update((tuple(r[:3]), tuple(r)) for r in cur.fetchall())
        kept = dict(stored)  # the whole measurements' stored cycles: those not rewritten go
        for r in rewrites.select_keys(s, cur, CYCLE_SELECT, ("ticket_id", "metric", "idx"), keys):
            stored[r[:3]] = r
        cycle_rows, eval_rows, ticket_rows = [], [], []
        measured = s.t(now)
        for d in derived:
            m = d.measurement
            for c, breach_at, nxt, credited in zip(
                m.cycles, d.breach_at, d.cycle_next_at, d.credited, strict=True
            ):
                cycle_rows.append(cycle_row(s, m.ticket_id, c, breach_at, nxt, credited, measured))
            seq = logs.get(m.ticket_id, 0)
            for i, ev in enumerate(d.new_evaluations, start=seq):
                eval_rows.append(
                    (
                        m.ticket_id,
                        i,
                        s.t(ev.at),
                        ev.ruleset_version,
                        Sql.j(list(ev.matched)),
                        ev.level_before,
                        ev.level_after,
                        ev.decided_by,
                        ev.note,
                    )
                )
            f = m.fields
            ticket_rows.append(
                (
                    m.ticket_id,
                    Sql.j(codec.encode_fields(f)),
                    m.decision.level,
                    m.decision.decided_by,
                    *(_text(f.get(c)) for c in KEY_COLUMNS),
                    *(d.keys.get(c) for c in KEY_COLUMNS),
                    bool(m.done),
                    m.ruleset_version,
                    measured,
                    s.tn(to_db(d.due_key)) if d.due_key else s.tn(FAR_FUTURE),
                    s.t(d.next_at),
                )
            )
        rewrites.rewrite(s, cur, "cycle", CYCLE_COLUMNS, (0, 1, 2), stored, cycle_rows, kept)
        s.executemany(cur, EVAL_INSERT, eval_rows)
        heads: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        select = "SELECT " + ", ".join(f'"{c}"' for c in TICKET_SAVED) + ' FROM "ticket" '
        for part in chunks([r[0] for r in ticket_rows]):
            s.execute(cur, select + f'WHERE "id" IN ({s.marks(len(part))})', part)
            heads.update(((r[0],), tuple(r)) for r in cur.fetchall())
        rewrites.rewrite(s, cur, "ticket", TICKET_SAVED, (0,), heads, ticket_rows)

    def counts(self) -> dict[str, int]:
        """Row counts per table (health and tests)."""
        s = self.sql
        out = {}
        with s.read() as cur:
            for table in ("ticket", "event", "cycle", "evaluation", "ruleset", "alert"):
                s.execute(cur, f'SELECT COUNT(*) FROM "{table}"')
                out[table] = int(cur.fetchone()[0])
        return out

    def stale_open_ids(self, version: str) -> list[str]:
        """Open tickets last measured under another ruleset version (start-up catch-up)."""
        s = self.sql
        with s.read() as cur:
            s.execute(
                cur,
                'SELECT "id" FROM "ticket" WHERE NOT "done" AND "ruleset_version" <> ? '
                'ORDER BY "id"',
                (version,),
            )
            return [r[0] for r in cur.fetchall()]
