"""The evaluation log by ruleset version, its copies, and restamping rows to a new version.

A measurement under version V appends to a ticket's log only the runs of V not in it
yet (values carry their version), so saving it needs the log's length and V's entries
only (`log_lengths`, `version_rows`): however many versions the log holds, a re-measure
reads none of the others. A reload that measures a ticket as the previous version did
records the new version's run as a *copy* (one `evaluation_copy` row: these entries are
those earlier ones under V; `copy_runs`), which every reader expands (`with_copies`),
and restamps the stored cycles in SQL (`restamp_cycles`, `save_restamped`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from slarules.engine.measurement import Evaluation
from slarules.store.cycles import CYCLE_COLUMNS, CYCLE_INSERT
from slarules.store.rows import EventRow
from slarules.store.sql import Sql, chunks
from slarules.store.times import from_db

__all__ = [
    "CYCLE_UPDATE",
    "checkpoint_marks",
    "copy_runs",
    "cycle_spans",
    "cycle_update",
    "log_lengths",
    "restamp_cycles",
    "stale_sources",
    "stopped_horizons",
    "update_events",
    "version_log",
    "version_rows",
    "with_copies",
    "write_restamped",
]

_FIELDS = '"at", "matched", "level_before", "level_after", "decided_by", "note"'
Copy = tuple[int, int, int, str]  # (seq, count, source, ruleset version)


def _copies(sql: Sql, cur: Any, ids: Iterable[str]) -> dict[str, list[Copy]]:
    """Each ticket's copy rows (see migration 0007), by `seq`."""
    out: dict[str, list[Copy]] = {}
    for part in chunks(list(dict.fromkeys(ids))):
        sql.execute(
            cur,
            'SELECT "ticket_id", "seq", "count", "source", "ruleset_version" '
            f'FROM "evaluation_copy" WHERE "ticket_id" IN ({sql.marks(len(part))}) '
            'ORDER BY "ticket_id", "seq"',
            part,
        )
        for r in cur.fetchall():
            out.setdefault(r[0], []).append((int(r[1]), int(r[2]), int(r[3]), r[4]))
    return out


def _spliced(rows: Sequence[Evaluation], copies: Sequence[Copy]) -> list[Evaluation]:
    """A log from its stored rows (in `seq` order) and its copies (a row's place in the
    log is its `seq`; a copy's rows are earlier rows under another version)."""
    log: list[Evaluation] = []
    it = iter(rows)
    for seq, count, source, version in copies:
        while len(log) < seq:
            log.append(next(it))
        log.extend(replace(e, ruleset_version=version) for e in log[source : source + count])
    log.extend(it)
    return log


def with_copies(
    sql: Sql, cur: Any, logs: dict[str, list[Evaluation]]
) -> dict[str, list[Evaluation]]:
    """Each ticket's whole log (`logs`: its stored rows in order) with its copies in place."""
    for t, copies in _copies(sql, cur, logs).items():
        logs[t] = _spliced(logs[t], copies)
    return logs


def log_lengths(sql: Sql, cur: Any, ids: Iterable[str], version: str) -> dict[str, tuple[int, int]]:
    """Per ticket: (entries in its evaluation log, entries of `version` among them)."""
    wanted = list(dict.fromkeys(ids))
    out = {t: (0, 0) for t in wanted}
    for table, n in (("evaluation", "1"), ("evaluation_copy", '"count"')):
        for part in chunks(wanted):
            sql.execute(
                cur,
                f'SELECT "ticket_id", SUM({n}), '
                f'SUM(CASE WHEN "ruleset_version" = ? THEN {n} ELSE 0 END) FROM "{table}" '
                f'WHERE "ticket_id" IN ({sql.marks(len(part))}) GROUP BY "ticket_id"',
                [version, *part],
            )
            for r in cur.fetchall():
                a, b = out[r[0]]
                out[r[0]] = (a + int(r[1] or 0), b + int(r[2] or 0))
    return out


def version_log(
    sql: Sql, cur: Any, ids: Sequence[str], version: str
) -> tuple[dict[str, int], dict[str, list[tuple[int, Evaluation]]]]:
    """Each ticket's log length and its entries of `version` with their `seq` (the only
    ones a measurement under it can find there already: an evaluation carries its
    version)."""
    if not ids:
        return {}, {}
    lengths = log_lengths(sql, cur, ids, version)
    mine = [t for t, (_, n) in lengths.items() if n]
    logs = version_rows(sql, cur, mine, version)
    return {t: n for t, (n, _) in lengths.items()}, {t: logs.get(t, []) for t in lengths}


def _rows(r: Sequence[Any], version: str) -> Evaluation:
    return Evaluation(from_db(r[0]), version, tuple(Sql.unj(r[1])), r[2], r[3], r[4], r[5])


def version_rows(
    sql: Sql, cur: Any, ids: Iterable[str], version: str
) -> dict[str, list[tuple[int, Evaluation]]]:
    """Each ticket's evaluations of `version` with their `seq`, in log order (a ticket
    whose log copies rows under `version` is read whole, the others only those rows)."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, list[tuple[int, Evaluation]]] = {t: [] for t in wanted}
    copies = _copies(sql, cur, wanted)
    whole = [t for t in wanted if any(c[3] == version for c in copies.get(t, ()))]
    for t, log in _whole(sql, cur, whole, copies).items():
        out[t] = [(i, e) for i, e in enumerate(log) if e.ruleset_version == version]
    rest = [t for t in wanted if t not in set(whole)]
    for part in chunks(rest):
        sql.execute(
            cur,
            f'SELECT "ticket_id", "seq", {_FIELDS} FROM "evaluation" '
            f'WHERE "ruleset_version" = ? AND "ticket_id" IN ({sql.marks(len(part))}) '
            'ORDER BY "ticket_id", "seq"',
            [version, *part],
        )
        for r in cur.fetchall():
            out[r[0]].append((int(r[1]), _rows(r[2:], version)))
    return out


def _whole(
    sql: Sql, cur: Any, ids: Sequence[str], copies: dict[str, list[Copy]]
) -> dict[str, list[Evaluation]]:
    logs: dict[str, list[Evaluation]] = {t: [] for t in ids}
    for part in chunks(list(ids)):
        sql.execute(
            cur,
            f'SELECT "ticket_id", "ruleset_version", {_FIELDS} FROM "evaluation" '
            f'WHERE "ticket_id" IN ({sql.marks(len(part))}) ORDER BY "ticket_id", "seq"',
            part,
        )
        for r in cur.fetchall():
            logs[r[0]].append(_rows(r[2:], r[1]))
    return {t: _spliced(log, copies.get(t, [])) for t, log in logs.items()}


def copy_runs(sql: Sql, cur: Any, copies: Sequence[tuple[str, int, int]], version: str) -> None:
    """Append to each ticket's log its entries [start, end) under `version` (at `end` on),
    as one copy row each: (ticket id, start, end) per ticket."""
    sql.executemany(
        cur,
        'INSERT INTO "evaluation_copy" ("ticket_id", "seq", "count", "source", '
        '"ruleset_version") VALUES (?,?,?,?,?)',
        [(t, end, end - start, start, version) for t, start, end in copies],
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


Span = tuple[str, int, datetime, datetime, str | None]


def cycle_spans(sql: Sql, cur: Any, ids: Iterable[str]) -> dict[str, list[Span]]:
    """Each ticket's stored stopped cycles as (metric, index, started, stopped, credited
    assignee)."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, list[Span]] = {t: [] for t in wanted}
    for part in chunks(wanted):
        sql.execute(
            cur,
            'SELECT "ticket_id", "metric", "idx", "started_at", "stopped_at", '
            '"credited_assignee" FROM "cycle" WHERE "stopped_at" IS NOT NULL AND '
            f'"ticket_id" IN ({sql.marks(len(part))}) ORDER BY "ticket_id", "id"',
            part,
        )
        for r in cur.fetchall():
            out[r[0]].append((r[1], int(r[2]), from_db(r[3]), from_db(r[4]), r[5]))
    return out


def stopped_horizons(
    sql: Sql, cur: Any, ids: Iterable[str]
) -> dict[str, list[tuple[str, int, int, int]]]:
    """Each ticket's stopped cycles as (metric, index, started, last instant their figures
    read: the later of stopped and due), POSIX seconds."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, list[tuple[str, int, int, int]]] = {t: [] for t in wanted}
    for part in chunks(wanted):
        sql.execute(
            cur,
            'SELECT "ticket_id", "metric", "idx", "started_at", "stopped_at", "due_at" FROM '
            f'"cycle" WHERE "stopped_at" IS NOT NULL AND "ticket_id" IN ({sql.marks(len(part))})',
            part,
        )
        for r in cur.fetchall():
            stop = _posix(from_db(r[4]))
            due = stop if r[5] is None else max(stop, _posix(from_db(r[5])))
            out[r[0]].append((r[1], int(r[2]), _posix(from_db(r[3])), due))
    return out


def _posix(t: datetime) -> int:
    return int(t.timestamp())


# The columns of a stored cycle that measuring it again may change (not its ticket,
# metric, index, span or credit), and the statement that rewrites them in place.
_KEPT = {"ticket_id", "metric", "idx", "started_at", "stopped_at", "credited_assignee"}
_FIGURES = tuple(c for c in CYCLE_COLUMNS if c not in _KEPT and c != "credited_assignee_key")
_AT = [CYCLE_COLUMNS.index(c) for c in (*_FIGURES, "ticket_id", "metric", "idx")]
CYCLE_UPDATE = (
    'UPDATE "cycle" SET '
    + ", ".join(f'"{c}" = ?' for c in _FIGURES)
    + ' WHERE "ticket_id" = ? AND "metric" = ? AND "idx" = ?'
)


def cycle_update(row: Sequence[Any]) -> tuple[Any, ...]:
    """A `CYCLE_INSERT` row as the parameters of `CYCLE_UPDATE`."""
    return tuple(row[i] for i in _AT)


def write_restamped(
    sql: Sql,
    cur: Any,
    whole: Sequence[str],
    keys: Sequence[tuple[str, str, int]],
    cycles: Sequence[tuple[Any, ...]],
    updates: Sequence[tuple[Any, ...]],
    tickets: Sequence[tuple[Any, ...]],
    points: Sequence[tuple[Any, ...]],
) -> None:
    """Save restamped tickets, encoded: every cycle of the `whole` tickets and the cycles
    `keys` (ticket id, metric, index) of the others rewritten as `cycles` (`CYCLE_INSERT`
    rows), their ticket rows' stamps (`tickets`: version, instant, due key, next wake-up,
    id; the fields and level stand) and their checkpoints' (`points`: version, log
    length, state, id)."""
    for part in chunks(list(whole)):
        sql.execute(cur, f'DELETE FROM "cycle" WHERE "ticket_id" IN ({sql.marks(len(part))})', part)
    sql.executemany(
        cur, 'DELETE FROM "cycle" WHERE "ticket_id" = ? AND "metric" = ? AND "idx" = ?', keys
    )
    sql.executemany(cur, CYCLE_INSERT, cycles)
    sql.executemany(cur, CYCLE_UPDATE, updates)
    sql.executemany(
        cur,
        'UPDATE "ticket" SET "ruleset_version" = ?, "measured_at" = ?, "due_key" = ?, '
        '"next_at" = ? WHERE "id" = ?',
        tickets,
    )
    sql.executemany(
        cur,
        'UPDATE "checkpoint" SET "ruleset_version" = ?, "evaluations" = ?, "state" = ? '
        'WHERE "ticket_id" = ?',
        points,
    )


def update_events(sql: Sql, cur: Any, ids: Iterable[str]) -> dict[str, list[EventRow]]:
    """Each ticket's stored `update` events, in the order of `TicketRepo.events` (by `at`,
    then as recorded): what a re-decide reads when the rules read no field the other
    events change (`engine.redecide`)."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, list[EventRow]] = {t: [] for t in wanted}
    for part in chunks(wanted):
        sql.execute(
            cur,
            'SELECT "ticket_id", "event_id", "at", "type", "payload" FROM "event" '
            f'WHERE "type" = ? AND "ticket_id" IN ({sql.marks(len(part))}) '
            'ORDER BY "ticket_id", "at", "id"',
            ["update", *part],
        )
        for r in cur.fetchall():
            out[r[0]].append(EventRow(r[1], from_db(r[2]), r[3], Sql.unj(r[4])))
    return out


def stale_sources(
    sql: Sql, cur: Any, version: str
) -> list[tuple[str, tuple[str, ...], dict[str, str]]]:
    """The other ruleset versions open tickets were last measured under whose sources the
    store keeps (`ruleset` table): (version, files in order, file texts) each."""
    sql.execute(
        cur,
        'SELECT "r"."version", "r"."files", "r"."sources" FROM "ruleset" "r" WHERE '
        '"r"."version" <> ? AND "r"."version" IN (SELECT DISTINCT "ruleset_version" '
        'FROM "ticket" WHERE NOT "done" AND "ruleset_version" <> ?) ORDER BY "r"."version"',
        [version, version],
    )
    return [(r[0], tuple(Sql.unj(r[1]) or ()), dict(Sql.unj(r[2]) or {})) for r in cur.fetchall()]


def checkpoint_marks(sql: Sql, cur: Any, ids: Iterable[str]) -> dict[str, tuple[str, int, Any]]:
    """Each ticket's checkpoint as (ruleset version, log length, last event's instant),
    without its state: whether it is still the one a plan was made from."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, tuple[str, int, Any]] = {}
    for part in chunks(wanted):
        sql.execute(
            cur,
            'SELECT "ticket_id", "ruleset_version", "evaluations", "last_at" FROM "checkpoint" '
            f'WHERE "ticket_id" IN ({sql.marks(len(part))})',
            part,
        )
        out.update((r[0], (r[1], int(r[2]), from_db(r[3]))) for r in cur.fetchall())
    return out
