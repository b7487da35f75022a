"""The evaluation log by ruleset version, and restamping rows to a new version.

A measurement under version V appends to a ticket's log only the runs of V not in it
yet (values carry their version), so saving it needs the log's length and V's rows
only (`version_rows`): however many versions the log holds, a re-measure reads none
of the others. A reload that measures a ticket the same as before copies the previous
version's run under the new one in SQL (`copy_runs`) and restamps the stored cycles
(`restamp_cycles`): the rows a replay would write, without reading them into Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from slarules.engine.measurement import Cycle, Evaluation
from slarules.store.cycles import CYCLE_INSERT, cycle_json
from slarules.store.sql import Sql, chunks
from slarules.store.times import FAR_FUTURE, from_db, to_db

__all__ = [
    "copy_runs",
    "cycle_spans",
    "log_lengths",
    "restamp_cycles",
    "save_restamped",
    "version_rows",
]

_FIELDS = '"at", "matched", "level_before", "level_after", "decided_by", "note"'


def log_lengths(sql: Sql, cur: Any, ids: Iterable[str], version: str) -> dict[str, tuple[int, int]]:
    """Per ticket: (rows in its evaluation log, rows of `version` among them)."""
    wanted = list(dict.fromkeys(ids))
    out = {t: (0, 0) for t in wanted}
    for part in chunks(wanted):
        sql.execute(
            cur,
            'SELECT "ticket_id", COUNT(*), '
            'SUM(CASE WHEN "ruleset_version" = ? THEN 1 ELSE 0 END) FROM "evaluation" '
            f'WHERE "ticket_id" IN ({sql.marks(len(part))}) GROUP BY "ticket_id"',
            [version, *part],
        )
        out.update((r[0], (int(r[1]), int(r[2] or 0))) for r in cur.fetchall())
    return out


def version_rows(
    sql: Sql, cur: Any, ids: Iterable[str], version: str
) -> dict[str, list[tuple[int, Evaluation]]]:
    """Each ticket's evaluations of `version` with their `seq`, in log order."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, list[tuple[int, Evaluation]]] = {t: [] for t in wanted}
    for part in chunks(wanted):
        sql.execute(
            cur,
            f'SELECT "ticket_id", "seq", {_FIELDS} FROM "evaluation" '
            f'WHERE "ruleset_version" = ? AND "ticket_id" IN ({sql.marks(len(part))}) '
            'ORDER BY "ticket_id", "seq"',
            [version, *part],
        )
        for r in cur.fetchall():
            ev = Evaluation(from_db(r[2]), version, tuple(Sql.unj(r[3])), r[4], r[5], r[6], r[7])
            out[r[0]].append((int(r[1]), ev))
    return out


def copy_runs(sql: Sql, cur: Any, copies: Sequence[tuple[str, int, int]], version: str) -> None:
    """Append to each ticket's log a copy of its rows `seq` in [start, end) under `version`
    (at `end` on): (ticket id, start, end) per ticket."""
    sql.executemany(
        cur,
        'INSERT INTO "evaluation" ("ticket_id", "seq", "ruleset_version", '
        f"{_FIELDS}) "
        f'SELECT "ticket_id", "seq" + ?, ?, {_FIELDS} FROM "evaluation" '
        'WHERE "ticket_id" = ? AND "seq" >= ? AND "seq" < ? ORDER BY "seq"',
        [(end - start, version, t, start, end) for t, start, end in copies],
    )


def restamp_cycles(sql: Sql, cur: Any, ids: Sequence[str], version: str, now: datetime) -> None:
    """Every cycle row of these tickets: measured under `version` at `now` (the stopped
    cycles of a ticket that measures the same under it; the running ones were saved)."""
    at = sql.t(now)
    for part in chunks(list(ids)):
        sql.execute(
            cur,
            'UPDATE "cycle" SET "ruleset_version" = ?, "measured_at" = ? '
            f'WHERE "ticket_id" IN ({sql.marks(len(part))})',
            [version, at, *part],
        )


def cycle_spans(
    sql: Sql, cur: Any, ids: Iterable[str]
) -> dict[str, list[tuple[str, int, datetime, datetime | None, str | None]]]:
    """Each ticket's stored cycles as (metric, index, started, stopped, credited assignee)."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, list[tuple[str, int, datetime, datetime | None, str | None]]]
    out = {t: [] for t in wanted}
    for part in chunks(wanted):
        sql.execute(
            cur,
            'SELECT "ticket_id", "metric", "idx", "started_at", "stopped_at", '
            '"credited_assignee" FROM "cycle" '
            f'WHERE "ticket_id" IN ({sql.marks(len(part))}) ORDER BY "ticket_id", "id"',
            part,
        )
        for r in cur.fetchall():
            stop = None if r[4] is None else from_db(r[4])
            out[r[0]].append((r[1], int(r[2]), from_db(r[3]), stop, r[5]))
    return out


def save_restamped(
    sql: Sql,
    cur: Any,
    version: str,
    now: datetime,
    cycles: Sequence[tuple[str, Cycle, datetime | None, datetime | None, str | None]],
    tickets: Sequence[tuple[str, datetime | None, datetime | None]],
    points: Sequence[tuple[str, int, dict[str, Any]]],
) -> None:
    """Save restamped tickets whose replay is unchanged: their running `cycles` rewritten
    (ticket id, cycle, breach instant, next threshold, credited assignee), their ticket
    rows' version, instant and keys (`tickets`: id, due key, next wake-up; the fields and
    level stand), their checkpoints' version, log length and state (`points`)."""
    measured = sql.t(now)
    sql.executemany(
        cur,
        'DELETE FROM "cycle" WHERE "ticket_id" = ? AND "metric" = ? AND "idx" = ?',
        [(t, c.metric, c.index) for t, c, _, _, _ in cycles],
    )
    rows = []
    for t, c, breach_at, nxt, credited in cycles:
        w, tl, th = cycle_json(c)
        rows.append(
            (
                t,
                c.metric,
                c.index,
                c.state,
                sql.t(c.started_at),
                sql.t(c.stopped_at),
                sql.t(c.due_at),
                sql.t(c.breached_at),
                sql.t(breach_at),
                c.target,
                c.elapsed,
                c.remaining,
                measured,
                c.ruleset_version,
                sql.t(nxt),
                w,
                tl,
                th,
                credited,
                credited.casefold() if credited else None,
            )
        )
    sql.executemany(cur, CYCLE_INSERT, rows)
    sql.executemany(
        cur,
        'UPDATE "ticket" SET "ruleset_version" = ?, "measured_at" = ?, "due_key" = ?, '
        '"next_at" = ? WHERE "id" = ?',
        [
            (version, measured, sql.tn(to_db(due)) if due else sql.tn(FAR_FUTURE), sql.t(nxt), t)
            for t, due, nxt in tickets
        ],
    )
    sql.executemany(
        cur,
        'UPDATE "checkpoint" SET "ruleset_version" = ?, "evaluations" = ?, "state" = ? '
        'WHERE "ticket_id" = ?',
        [(version, n, Sql.j(state), t) for t, n, state in points],
    )
