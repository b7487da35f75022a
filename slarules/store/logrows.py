"""A row of the SLA log as the store reads it: its SELECT over a cycle `c` and its ticket
`t`, the driver tuple as a `LogRow`, and PostgreSQL's page-first statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slarules.engine.reports import LogRow
from slarules.store.filters import Where, effective_state_sql
from slarules.store.times import from_db, opt_from_db

__all__ = ["DONE", "LOG_SELECT", "log_row_of", "page_first"]

LOG_SELECT = (
    'c."ticket_id", t."requester", t."department", t."assignee", t."level", '
    'c."metric", c."idx", c."started_at", c."due_at", c."stopped_at", '
    f'{effective_state_sql()} AS eff_state, c."target", c."elapsed", c."remaining", '
    'c."ruleset_version", t."done"'
)  # one `?`: now
DONE = 15  # the position of t."done" in LOG_SELECT (the columns before it are LOG_COLUMNS)


# the cycle columns a log row and its sort keys read (`page_first`)
_LOG_CYCLE = (
    'c."ticket_id", c."metric", c."idx", c."state", c."breach_at", c."started_at", '
    'c."due_at", c."stopped_at", c."target", c."elapsed", c."remaining", c."ruleset_version"'
)


def page_first(cols: str, where: Where, order: str) -> str:
    """PostgreSQL, a page with neither a ticket condition nor a ticket sort: its cycles
    first, then their tickets; every cycle has its ticket (a foreign key), so the join drops
    no row. Without it the planner joined every matching cycle before the limit (the open
    cycles: 6.8 against 3.6 ms bare). Its `?`s: now, the columns', the conditions', the
    order's, the limit, the order's again."""
    inner = f'SELECT {_LOG_CYCLE} FROM "cycle" c{where.sql()} {order} LIMIT ?'
    return (
        f"SELECT {LOG_SELECT}, {cols} FROM ({inner}) c "
        f'JOIN "ticket" t ON t."id" = c."ticket_id" {order}'
    )


def log_row_of(r: Sequence[Any]) -> LogRow:
    """A `LOG_SELECT` tuple as a log row (instants aware UTC)."""
    return LogRow(
        ticket_id=r[0],
        requester=r[1],
        department=r[2],
        assignee=r[3],
        level=r[4] or "",
        metric=r[5],
        index=r[6],
        started_at=from_db(r[7]),
        due_at=opt_from_db(r[8]),
        stopped_at=opt_from_db(r[9]),
        state=r[10],
        target=r[11],
        elapsed=r[12],
        remaining=r[13],
        ruleset_version=r[14],
    )
