"""List filters, the SQL statement of the effective-state rule, and list cursors."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slarules.engine.policy import METRICS
from slarules.engine.reports import LOG_COLUMNS
from slarules.errors import BAD_USER_INPUT, ServiceError
from slarules.store.sql import Sql

STATES = ("active", "paused", "met", "breached")
# engine.alerts.is_breached in SQL: an active cycle is breached once now is past breach_at
BREACHED_NOW = '{c}."state" = \'active\' AND {c}."breach_at" < ?'


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


@dataclass(frozen=True, slots=True)
class Page:
    ids: tuple[str, ...]
    cursors: tuple[str, ...]
    has_next: bool
    total: int


@dataclass
class Where:
    parts: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, part: str, *params: Any) -> None:
        self.parts.append(part)
        self.params.extend(params)

    def sql(self) -> str:
        return (" WHERE " + " AND ".join(self.parts)) if self.parts else ""


def cursor_of(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def parse_cursor(text: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ServiceError(
            BAD_USER_INPUT, f"`after`: `{text}` is not a cursor of this list", key="after"
        ) from None


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


ORDER = {
    "ticket_id": 'c."ticket_id"',
    "requester": 't."requester"',
    "department": 't."department"',
    "assignee": 't."assignee"',
    "level": 't."level"',
    "metric": 'c."metric"',
    "index": 'c."idx"',
    "started_at": 'c."started_at"',
    "due_at": 'c."due_at"',
    "stopped_at": 'c."stopped_at"',
    "state": "eff_state",
    "target": 'c."target"',
    "elapsed": 'c."elapsed"',
    "remaining": 'c."remaining"',
    "ruleset_version": 'c."ruleset_version"',
}
assert set(ORDER) == set(LOG_COLUMNS)


def text_filters(f: TicketFilter | LogFilter, w: Where) -> None:
    """Level by name; department and assignee by their folded keys (values come folded)."""
    if f.level is not None:
        w.add('t."level" = ?', f.level)
    for col in ("department", "assignee"):
        value = getattr(f, col)
        if value is not None:
            w.add(f't."{col}_key" = ?', value)
