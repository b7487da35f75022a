"""List filters, the SQL statement of the effective-state rule, and keyset cursors.

Pages are keyset pages: the cursor holds the sort key and the row's unique
key, the next page starts strictly after it (a row value comparison that an
index can seek to), never at an `OFFSET`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson

from slarules.engine.policy import METRICS
from slarules.engine.reports import LOG_COLUMNS
from slarules.errors import BAD_USER_INPUT, ServiceError
from slarules.store.sql import Sql

STATES = ("active", "paused", "met", "breached")
# engine.alerts.is_breached in SQL: an active cycle is breached once now is past breach_at
BREACHED_NOW = '{c}."state" = \'active\' AND {c}."breach_at" < ?'
NO_LEVEL = "none"  # `level: "none"`: the tickets without an SLA (`set level none`, no level)


def effective_state_sql(c: str = "c") -> str:
    """engine.alerts.effective_state as a SQL expression (one `?`: now)."""
    return f"CASE WHEN {BREACHED_NOW.format(c=c)} THEN 'breached' ELSE {c}.\"state\" END"


DENSE_MATCHES = 2000  # above this many matching tickets, walk the due index instead of sorting


@dataclass(frozen=True, slots=True)
class TicketFilter:
    level: str | None = None
    department: str | None = None
    assignee: str | None = None
    metric: str | None = None
    state: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    breached_from: datetime | None = None
    breached_to: datetime | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    priority: str | None = None
    source: str | None = None
    has_sla: bool | None = None  # False: level none or no level; True: has a level
    order_by: str = "due"
    descending: bool = False


@dataclass(frozen=True, slots=True)
class LogFilter:
    department: str | None = None
    assignee: str | None = None
    level: str | None = None
    metric: str | None = None
    state: str | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
    order_by: str = "started_at"
    descending: bool = False
    priority: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    ids: tuple[str, ...]
    cursors: tuple[str, ...]
    has_next: bool
    total: int  # -1 when not asked for


@dataclass
class Where:
    parts: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, part: str, *params: Any) -> None:
        self.parts.append(part)
        self.params.extend(params)

    def extend(self, other: Where) -> None:
        self.parts.extend(other.parts)
        self.params.extend(other.params)

    def sql(self) -> str:
        return (" WHERE " + " AND ".join(self.parts)) if self.parts else ""


def cursor_of(obj: Any) -> str:
    """A page cursor: the sort key's values as compact JSON (orjson: a page encodes one per
    row), URL-safe base64 without padding. `parse_cursor` reads any JSON text, so the
    cursors of earlier versions (`json.dumps`, with spaces) still read."""
    try:
        text = orjson.dumps(obj)
    except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits
        text = json.dumps(obj).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def parse_cursor(text: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ServiceError(
            BAD_USER_INPUT, f"`after`: `{text}` is not a cursor of this list", key="after"
        ) from None


def _not_a_cursor() -> ServiceError:
    return ServiceError(BAD_USER_INPUT, "`after` is not a cursor of this list", key="after")


# -- keyset pages ----------------------------------------------------------------------

Kind = Literal["time", "text", "int"]


@dataclass(frozen=True, slots=True)
class Phase:
    """One index-friendly part of a keyset page: extra conditions and its ORDER BY."""

    where: Where
    order: str
    params: list[Any]


@dataclass(frozen=True, slots=True)
class SortKey:
    """A sort column (`expr`, with `params` for its `?`s) and the unique tie-breakers after
    it. A nullable column's NULLs sort last in both directions; its pages are read in two
    phases (values, then NULLs) so that each can walk an index in order."""

    name: str
    expr: str
    kind: Kind
    nullable: bool
    ties: tuple[tuple[str, Kind], ...]
    descending: bool = False
    params: tuple[Any, ...] = ()

    def columns_sql(self) -> tuple[str, list[Any]]:
        """The SELECT items to read the key of each row back from (after the row's own)."""
        return ", ".join([self.expr, *(t for t, _ in self.ties)]), list(self.params)

    def cursor(self, values: Sequence[Any]) -> str:
        return cursor_of([self.name, int(self.descending), *(_to_json(v) for v in values)])

    def phases(self, after: str | None, s: Sql) -> list[Phase]:
        """The parts of the page after the cursor's row (all of the list without one)."""
        d = "DESC" if self.descending else "ASC"
        op = "<" if self.descending else ">"
        ties = [t for t, _ in self.ties]
        values = self._values(after, s) if after else None
        out = []
        if not self.nullable or values is None or values[0] is not None:
            w = Where()
            if self.nullable:
                w.add(f"{self.expr} IS NOT NULL", *self.params)
            if values is not None:
                cols = [self.expr, *ties]
                w.add(
                    f"({', '.join(cols)}) {op} ({', '.join('?' * len(cols))})",
                    *self.params,
                    *values,
                )
            order = ", ".join(f"{c} {d}" for c in [self.expr, *ties])
            out.append(Phase(w, f"ORDER BY {order}", list(self.params)))
        if self.nullable:
            w = Where()
            w.add(f"{self.expr} IS NULL", *self.params)
            if values is not None and values[0] is None:
                w.add(f"({', '.join(ties)}) {op} ({', '.join('?' * len(ties))})", *values[1:])
            out.append(Phase(w, "ORDER BY " + ", ".join(f"{c} {d}" for c in ties), []))
        return out

    def _values(self, text: str, s: Sql) -> list[Any]:
        raw = parse_cursor(text)
        n = 1 + len(self.ties)
        if (
            not isinstance(raw, list)
            or len(raw) != 2 + n
            or raw[0] != self.name
            or raw[1] != int(self.descending)
        ):
            raise _not_a_cursor()
        kinds = [self.kind, *(k for _, k in self.ties)]
        return [
            _from_json(v, k, s, nullable=(i == 0 and self.nullable))
            for i, (v, k) in enumerate(zip(raw[2:], kinds, strict=True))
        ]


def _to_json(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.replace(tzinfo=None).isoformat(" ")
    return v


def _from_json(v: Any, kind: Kind, s: Sql, nullable: bool) -> Any:
    if v is None:
        if nullable:
            return None
        raise _not_a_cursor()
    if kind == "int":
        if not isinstance(v, int) or isinstance(v, bool):
            raise _not_a_cursor()
        return v
    if not isinstance(v, str):
        raise _not_a_cursor()
    if kind == "time":
        try:
            return s.tn(datetime.fromisoformat(v).replace(tzinfo=None))
        except ValueError:
            raise _not_a_cursor() from None
    return v


# -- filters ---------------------------------------------------------------------------


def state_sql(state: str, s: Sql, now: datetime, w: Where, alias: str = "c") -> None:
    if state not in STATES:
        raise ServiceError(BAD_USER_INPUT, f"unknown state `{state}`", key="state")
    if state == "breached":
        w.add(f"({alias}.\"state\" = 'breached' OR ({BREACHED_NOW.format(c=alias)}))", s.t(now))
    elif state == "active":
        w.add(f"{alias}.\"state\" = 'active' AND NOT ({BREACHED_NOW.format(c=alias)})", s.t(now))
    else:
        w.add(f'{alias}."state" = ?', state)


def check_metric(metric: str | None) -> None:
    if metric is not None and metric not in METRICS:
        raise ServiceError(BAD_USER_INPUT, f"unknown metric `{metric}`", key="metric")


def snake(name: str) -> str:
    out = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    return (
        out.removesuffix("_seconds")
        if out in ("target_seconds", "elapsed_seconds", "remaining_seconds")
        else out
    )


def field_sql(s: Sql, name: str, alias: str = "t") -> str:
    """A text field of the stored ticket JSON (the expression the 0004 indexes are on)."""
    if s.pg:
        return f"({alias}.\"fields\" ->> '{name}')"
    return f"json_extract({alias}.\"fields\", '$.{name}')"


def text_filters(f: TicketFilter | LogFilter, w: Where, s: Sql) -> None:
    """Level by name (`none`: no SLA); department and assignee by their folded keys (values
    come folded); priority and source as stored in the ticket's fields."""
    if f.level is not None:
        if f.level == NO_LEVEL:
            w.add('t."level" IS NULL')
        else:
            w.add('t."level" = ?', f.level)
    for col in ("department", "assignee"):
        value = getattr(f, col)
        if value is not None:
            w.add(f't."{col}_key" = ?', value)
    for name in ("priority", "source"):
        value = getattr(f, name)
        if value is not None:
            w.add(f"{field_sql(s, name)} = ?", value)


# -- sort columns ----------------------------------------------------------------------

LOG_TIES: tuple[tuple[str, Kind], ...] = (
    ('c."ticket_id"', "text"),
    ('c."metric"', "text"),
    ('c."idx"', "int"),
)
# column -> (expression, kind, nullable); `state` is the effective state (one `?`: now)
LOG_ORDER: dict[str, tuple[str, Kind, bool]] = {
    "ticket_id": ('c."ticket_id"', "text", False),
    "requester": ('t."requester"', "text", True),
    "department": ('t."department"', "text", True),
    "assignee": ('t."assignee"', "text", True),
    "level": ('t."level"', "text", True),
    "metric": ('c."metric"', "text", False),
    "index": ('c."idx"', "int", False),
    "started_at": ('c."started_at"', "time", False),
    "due_at": ('c."due_at"', "time", True),
    "stopped_at": ('c."stopped_at"', "time", True),
    "state": (f"({effective_state_sql()})", "text", False),
    "target": ('c."target"', "int", False),
    "elapsed": ('c."elapsed"', "int", False),
    "remaining": ('c."remaining"', "int", False),
    "ruleset_version": ('c."ruleset_version"', "text", False),
}
assert set(LOG_ORDER) == set(LOG_COLUMNS)
ORDER = {k: v[0] for k, v in LOG_ORDER.items()}

TICKET_ORDER: dict[str, tuple[str, Kind, bool]] = {
    "due": ('t."due_key"', "time", False),
    "id": ('t."id"', "text", False),
    "created_at": ('t."created_at"', "time", False),
    "level": ('t."level"', "text", True),
    "department": ('t."department"', "text", True),
    "assignee": ('t."assignee"', "text", True),
    "requester": ('t."requester"', "text", True),
}


def log_sort(f: LogFilter, s: Sql, now: datetime) -> SortKey:
    col = snake(f.order_by or "started_at")
    spec = LOG_ORDER.get(col)
    if spec is None:
        raise ServiceError(
            BAD_USER_INPUT,
            f"orderBy `{f.order_by}` is not a column of the SLA log ({', '.join(LOG_COLUMNS)})",
            key="filter.orderBy",
        )
    expr, kind, nullable = spec
    ties = LOG_TIES[1:] if col == "ticket_id" else LOG_TIES
    if col == "metric":
        ties = (LOG_TIES[0], LOG_TIES[2])
    elif col == "index":
        ties = LOG_TIES[:2]
    params = (s.t(now),) if col == "state" else ()
    return SortKey(col, expr, kind, nullable, ties, bool(f.descending), params)


def ticket_sort(f: TicketFilter) -> SortKey:
    name = snake(f.order_by or "due")
    name = {"due_at": "due", "due_key": "due"}.get(name, name)
    spec = TICKET_ORDER.get(name)
    if spec is None:
        raise ServiceError(
            BAD_USER_INPUT,
            f"orderBy `{f.order_by}` is not a sort of tickets ({', '.join(TICKET_ORDER)})",
            key="filter.orderBy",
        )
    expr, kind, nullable = spec
    ties: tuple[tuple[str, Kind], ...] = () if name == "id" else (('t."id"', "text"),)
    return SortKey(name, expr, kind, nullable, ties, bool(f.descending))
