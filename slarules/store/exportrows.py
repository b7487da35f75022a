"""An export's chunks without the join (issue 18): the cycle columns of the log's SELECT,
and the ticket columns from one read per ticket of the export, not one per cycle row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slarules.store.filters import effective_state_sql
from slarules.store.sql import Sql, chunks

__all__ = ["CYCLE_LOG_SELECT", "TICKETS_KEPT", "with_tickets"]

CYCLE_LOG_SELECT = (
    'c."ticket_id", c."metric", c."idx", c."started_at", c."due_at", c."stopped_at", '
    f'{effective_state_sql()} AS eff_state, c."target", c."elapsed", c."remaining", '
    'c."ruleset_version"'
)  # one `?`: now
TICKET_LOG_SELECT = '"id", "requester", "department", "assignee", "level", "done"'
TICKETS_KEPT = 50_000  # an export's ticket columns kept at most (memory stays flat)


def with_tickets(
    s: Sql, cur: Any, rows: Sequence[Sequence[Any]], tickets: dict[str, Sequence[Any]]
) -> list[tuple[Any, ...]]:
    """`CYCLE_LOG_SELECT` rows → `store.queries.LOG_SELECT` rows, the ticket columns read
    once per ticket (kept in `tickets` across an export's chunks)."""
    missing = [t for t in dict.fromkeys(r[0] for r in rows) if t not in tickets]
    if len(tickets) + len(missing) > TICKETS_KEPT:
        tickets.clear()
        missing = list(dict.fromkeys(r[0] for r in rows))
    for part in chunks(missing):
        s.execute(
            cur,
            f'SELECT {TICKET_LOG_SELECT} FROM "ticket" WHERE "id" IN ({s.marks(len(part))})',
            part,
        )
        for r in cur.fetchall():
            tickets[r[0]] = r[1:]
    out = []
    for r in rows:
        t = tickets.get(r[0])
        if t is not None:  # as the join: a cycle of no ticket is not a row
            out.append((r[0], t[0], t[1], t[2], t[3], *r[1:11], t[4], *r[11:]))
    return out
