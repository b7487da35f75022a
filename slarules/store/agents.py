"""Per-assignee counts of stored cycles, grouped on the credited assignee (schema v5).

Each cycle row carries the assignee it is credited to (the service asks the
engine: the assignee when the cycle stopped, today's while it runs). One
aggregate query, no re-measure: open cycles read as of `now` with the
effective-state rule (`filters.BREACHED_NOW`), finished ones as stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slarules.store.filters import BREACHED_NOW, Where, check_metric
from slarules.store.sql import Sql

__all__ = ["AgentCounts", "AgentFilter", "Agents"]


@dataclass(frozen=True, slots=True)
class AgentFilter:
    """Text values come folded (department, assignee), level by name."""

    level: str | None = None
    department: str | None = None
    assignee: str | None = None
    metric: str | None = None


@dataclass(frozen=True, slots=True)
class AgentCounts:
    assignee: str | None  # one spelling of the folded name (MAX); None: unassigned
    open: int  # running cycles (not stopped), any start
    at_risk: int  # running, not paused, not breached now, a warning reached
    breached: int  # running and breached now
    met: int  # started in [start, end), stopped within target
    missed: int  # started in [start, end), breached (stopped or still running)


class Agents:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def counts(
        self, start: datetime, end: datetime, f: AgentFilter, now: datetime
    ) -> list[AgentCounts]:
        s = self.sql
        check_metric(f.metric)
        w = Where()
        if f.level is not None:
            w.add('t."level" = ?', f.level)
        if f.department is not None:
            w.add('t."department_key" = ?', f.department)
        if f.assignee is not None:
            w.add('c."credited_assignee_key" = ?', f.assignee)
        if f.metric is not None:
            w.add('c."metric" = ?', f.metric)
        breached_now = BREACHED_NOW.format(c="c")
        running = 'c."stopped_at" IS NULL'
        breached = f"(c.\"state\" = 'breached' OR ({breached_now}))"
        warned = "c.\"warnings\" <> '[]'::jsonb" if s.pg else "c.\"warnings\" <> '[]'"
        in_range = 'c."started_at" >= ? AND c."started_at" < ?'
        # a threshold ahead at the last measure (next_at) that now has passed is a warning
        # when the cycle is not breached (the breach threshold is the last one)
        at_risk = (
            f"{running} AND c.\"state\" = 'active' AND NOT ({breached_now}) "
            f'AND ({warned} OR c."next_at" <= ?)'
        )
        t_now, t0, t1 = s.t(now), s.t(start), s.t(end)
        select = (
            'SELECT c."credited_assignee_key", MAX(c."credited_assignee"), '
            f"SUM(CASE WHEN {running} THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN {at_risk} THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN {running} AND {breached} THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN {in_range} AND c.\"state\" = 'met' THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN {in_range} AND {breached} THEN 1 ELSE 0 END) "
            'FROM "cycle" c JOIN "ticket" t ON t."id" = c."ticket_id"'
        )
        params = [t_now, t_now, t_now, t0, t1, t0, t1, t_now]
        # only assignees with something to show: a running cycle or one started in range
        w.add(f"({running} OR ({in_range}))", t0, t1)
        sql = f'{select}{w.sql()} GROUP BY c."credited_assignee_key"'
        with s.read() as cur:
            s.execute(cur, sql, [*params, *w.params])
            rows = cur.fetchall()
        out = [
            AgentCounts(
                r[1], int(r[2] or 0), int(r[3] or 0), int(r[4] or 0), int(r[5] or 0), int(r[6] or 0)
            )
            for r in rows
        ]
        out.sort(key=lambda a: (a.assignee is None, (a.assignee or "").casefold()))
        return out
