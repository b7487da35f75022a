"""Read-only access to stored histories and ruleset versions (previews, captures, the past).

A `Histories` reader has its own connection, opened read-only (SQLite
`mode=ro`, PostgreSQL `default_transaction_read_only`), so it is safe on a
database a server is using and can be opened in each worker process. It
never migrates or writes: it streams ticket heads with their events in
batches, keyset by id, reads what the service last stored for them (`measured`:
the ticket row, its cycles and its checkpoint) and the sources of ruleset versions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from slarules.engine.policy import cycle_order
from slarules.settings import DatabaseConfig
from slarules.store import codec
from slarules.store.rows import CheckpointRow, EventRow, TicketHead
from slarules.store.sql import Sql, chunks
from slarules.store.times import from_db, to_db

_HEAD = (
    'SELECT "id", "created_at", "created_by", "initial_fields", "done", "measured_at" '
    'FROM "ticket" '
)
# created since T, still open, or with an event since T
_ACTIVE = (
    '("created_at" >= ? OR NOT "done" OR EXISTS (SELECT 1 FROM "event" e '
    'WHERE e."ticket_id" = "ticket"."id" AND e."at" >= ?))'
)

_CYCLE = (
    'SELECT "ticket_id", "metric", "idx", "state", "started_at", "stopped_at", "due_at", '
    '"target", "elapsed", "remaining", "ruleset_version" FROM "cycle" '
)


class StoredRuleset(NamedTuple):
    """A ruleset version as it went live: its files (in order) and their texts."""

    version: str
    loaded_at: datetime
    files: tuple[str, ...]
    sources: dict[str, str]


class Stored(NamedTuple):
    """One ticket as stored: its head and its events by `at`, then as recorded."""

    head: TicketHead
    events: list[EventRow]


@dataclass(frozen=True, slots=True)
class StoredCycle:
    """A stored cycle's figures as of the ticket's `measured_at` (the SLA log's columns)."""

    metric: str
    index: int
    state: str
    started_at: datetime
    stopped_at: datetime | None
    due_at: datetime | None
    target: int
    elapsed: int
    remaining: int
    ruleset_version: str


class Measured(NamedTuple):
    """A ticket as the service last measured it under `version` (at the head's
    `measured_at`): level, deciding rule, the text columns of the SLA log, its cycles,
    and its checkpoint under that version (None: none)."""

    version: str
    level: str | None
    decided_by: str | None
    requester: str | None
    department: str | None
    assignee: str | None
    cycles: tuple[StoredCycle, ...]
    checkpoint: CheckpointRow | None


class ReadOnlyError(Exception):
    """The database cannot be opened for reading (one line)."""


def _connect(config: DatabaseConfig) -> Any:
    if config.provider == "sqlite":
        if config.filename in (None, ":sharedmemory:"):
            raise ReadOnlyError("an in-memory SQLite database cannot be read from another process")
        try:
            conn = sqlite3.connect(f"file:{config.filename}?mode=ro", uri=True, timeout=10)
            conn.execute('SELECT 1 FROM "ticket" LIMIT 1')
        except sqlite3.Error as e:
            raise ReadOnlyError(f"database {config.display}: {e}") from None
        return conn
    import psycopg2

    kw = config.pony_kwargs()
    kw.pop("provider")
    if "database" in kw:
        kw["dbname"] = kw.pop("database")
    kw["options"] = "-c timezone=UTC -c default_transaction_read_only=on"
    try:
        conn = psycopg2.connect(connect_timeout=10, **kw)
    except psycopg2.Error as e:
        line = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ReadOnlyError(f"database {config.display}: {line}") from None
    conn.autocommit = True  # each statement its own (read-only) snapshot: no long transaction
    return conn


def _instant(value: Any) -> datetime:
    """`times.from_db`, parsing SQLite's text in one call (the common case of a page)."""
    if value.__class__ is str:
        try:
            return _fromiso(value + "+00:00")  # naive UTC text, as the store writes it
        except ValueError:
            pass
    return from_db(value)


_fromiso = datetime.fromisoformat


def _json_column(rows: Sequence[Any], i: int) -> list[Any]:
    """Column `i` of these rows decoded (`Sql.unj`): SQLite's texts in one `json.loads`."""
    values = [r[i] for r in rows]
    if values and all(v.__class__ is str for v in values):
        try:
            got = json.loads("[" + ",".join(values) + "]")
        except ValueError:
            got = None
        if isinstance(got, list) and len(got) == len(values):
            return got
    return [Sql.unj(v) for v in values]


class Histories:
    """A read-only reader; call `close` when done (or use it as a context manager)."""

    def __init__(self, config: DatabaseConfig) -> None:
        self.config = config
        self.pg = config.provider == "postgres"
        self.conn = _connect(config)

    def __enter__(self) -> Histories:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    def _rows(self, text: str, params: Sequence[Any] = ()) -> list[Any]:
        cur = self.conn.cursor()
        try:
            cur.execute(text.replace("?", "%s") if self.pg else text, tuple(params))
            return list(cur.fetchall())
        finally:
            cur.close()

    def _t(self, at: datetime) -> Any:
        naive = to_db(at)
        return naive if self.pg else naive.isoformat(" ")

    # -- tickets -----------------------------------------------------------------------

    def ids_since(self, since: datetime, after: str | None, limit: int) -> list[str]:
        """One page (keyset by id) of the tickets created or active since `since`."""
        t = self._t(since)
        where = _ACTIVE + (' AND "id" > ?' if after is not None else "")
        params: list[Any] = [t, t] + ([after] if after is not None else [])
        rows = self._rows(
            f'SELECT "id" FROM "ticket" WHERE {where} ORDER BY "id" LIMIT ?', [*params, limit]
        )
        return [r[0] for r in rows]

    def pages_since(self, since: datetime, size: int = 500) -> Iterator[list[str]]:
        """Every page of ids created or active since `since`, in id order."""
        after: str | None = None
        while True:
            ids = self.ids_since(since, after, size)
            if not ids:
                return
            yield ids
            if len(ids) < size:
                return
            after = ids[-1]

    def count_since(self, since: datetime) -> int:
        t = self._t(since)
        return int(self._rows(f'SELECT COUNT(*) FROM "ticket" WHERE {_ACTIVE}', [t, t])[0][0])

    def tickets(self, ids: Sequence[str]) -> list[Stored]:
        """These tickets with their events, in the order asked (unknown ids left out)."""
        heads: dict[str, TicketHead] = {}
        events: dict[str, list[EventRow]] = {}
        for part in chunks(list(dict.fromkeys(ids))):
            marks = ",".join("?" * len(part))
            rows = self._rows(_HEAD + f'WHERE "id" IN ({marks})', part)
            for r, initial in zip(rows, _json_column(rows, 3), strict=True):
                heads[r[0]] = TicketHead(
                    r[0],
                    _instant(r[1]),
                    r[2],
                    codec.decode_fields(initial),
                    bool(r[4]),
                    None if r[5] is None else _instant(r[5]),
                )
                events[r[0]] = []
            rows = self._rows(
                'SELECT "ticket_id", "event_id", "at", "type", "payload" FROM "event" '
                f'WHERE "ticket_id" IN ({marks}) ORDER BY "ticket_id", "at", "id"',
                part,
            )
            for r, payload in zip(rows, _json_column(rows, 4), strict=True):
                events[r[0]].append(EventRow(r[1], _instant(r[2]), r[3], payload))
        return [Stored(heads[t], events[t]) for t in dict.fromkeys(ids) if t in heads]

    def measured(self, heads: Sequence[TicketHead], version: str) -> dict[str, Measured]:
        """What the service last stored for those of these tickets last measured under
        `version`: the ticket row's verdict, its cycles' figures (write order; not their
        timelines), its checkpoint under `version` (open tickets)."""
        by_id = {h.id: h for h in heads}
        out: dict[str, Measured] = {}
        for part in chunks(list(by_id)):
            marks = ",".join("?" * len(part))
            rows = self._rows(
                'SELECT "id", "level", "decided_by", "requester", "department", "assignee" '
                f'FROM "ticket" WHERE "id" IN ({marks}) AND "ruleset_version" = ?',
                [*part, version],
            )
            if not rows:
                continue
            mine = [r[0] for r in rows]
            marks = ",".join("?" * len(mine))
            cycles: dict[str, list[StoredCycle]] = {t: [] for t in mine}
            for r in self._rows(_CYCLE + f'WHERE "ticket_id" IN ({marks}) ORDER BY "id"', mine):
                cycles[r[0]].append(
                    StoredCycle(
                        r[1],
                        r[2],
                        r[3],
                        _instant(r[4]),
                        None if r[5] is None else _instant(r[5]),
                        None if r[6] is None else _instant(r[6]),
                        r[7],
                        r[8],
                        r[9],
                        r[10],
                    )
                )
            for got in cycles.values():  # rows are rewritten in place: not in write order
                got.sort(key=lambda c: cycle_order(c.metric, c.index))
            opened = [t for t in mine if not by_id[t].done]
            points: dict[str, CheckpointRow] = {}
            if opened:
                marks = ",".join("?" * len(opened))
                for r in self._rows(
                    'SELECT "ticket_id", "ruleset_version", "engine_version", "last_at", '
                    '"evaluations", "state" FROM "checkpoint" '
                    f'WHERE "ticket_id" IN ({marks}) AND "ruleset_version" = ?',
                    [*opened, version],
                ):
                    points[r[0]] = CheckpointRow(
                        r[0], r[1], r[2], from_db(r[3]), r[4], Sql.unj(r[5])
                    )
            for r in rows:
                out[r[0]] = Measured(
                    version, r[1], r[2], r[3], r[4], r[5], tuple(cycles[r[0]]), points.get(r[0])
                )
        return out

    # -- ruleset versions ----------------------------------------------------------------

    def _ruleset(self, r: Sequence[Any]) -> StoredRuleset:
        files = Sql.unj(r[2]) or []
        return StoredRuleset(r[0], from_db(r[1]), tuple(files), dict(Sql.unj(r[3]) or {}))

    def ruleset(self, version: str) -> StoredRuleset | None:
        rows = self._rows(
            'SELECT "version", "loaded_at", "files", "sources" FROM "ruleset" WHERE "version" = ?',
            [version],
        )
        return self._ruleset(rows[0]) if rows else None

    def ruleset_at(self, at: datetime) -> StoredRuleset | None:
        """The version live at `at`: the last one loaded at or before it (None: none yet)."""
        rows = self._rows(
            'SELECT "version", "loaded_at", "files", "sources" FROM "ruleset" '
            'WHERE "loaded_at" <= ? ORDER BY "loaded_at" DESC, "version" LIMIT 1',
            [self._t(at)],
        )
        return self._ruleset(rows[0]) if rows else None
