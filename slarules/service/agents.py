"""The per-assignee view (issue 12): open, at-risk and breached cycles now, met and missed
cycles started in a range, each credited to the assignee at the cycle's stop.

The credited assignee is the engine's answer (`engine/credit.py`), stored on each cycle row
when the ticket is measured (`service/recording.py`); this module only folds the filter
the way the rules compare text and shapes the store's counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slarules.engine.policy import fold
from slarules.errors import BAD_USER_INPUT, ServiceError
from slarules.store import Store
from slarules.store.agents import AgentCounts, AgentFilter, Agents

__all__ = ["AgentFilter", "AssigneeSummary", "assignee_summaries"]


@dataclass(frozen=True, slots=True)
class AssigneeSummary:
    assignee: str | None  # None: cycles credited to nobody (unassigned at the stop)
    open_count: int
    at_risk_count: int
    breached_count: int
    met_count: int
    missed_count: int
    service_level: float | None  # met / (met + missed) × 100, None when neither


def _summary(a: AgentCounts) -> AssigneeSummary:
    total = a.met + a.missed
    return AssigneeSummary(
        a.assignee,
        a.open,
        a.at_risk,
        a.breached,
        a.met,
        a.missed,
        (a.met / total * 100.0) if total else None,
    )


def assignee_summaries(
    store: Store, start: datetime, end: datetime, f: AgentFilter, now: datetime
) -> list[AssigneeSummary]:
    """One summary per credited assignee (unassigned last), as of `now`."""
    if end <= start:
        raise ServiceError(BAD_USER_INPUT, "`to` must be after `from`", key="to")
    folded = AgentFilter(
        level=f.level,
        department=None if f.department is None else fold(f.department),
        assignee=None if f.assignee is None else fold(f.assignee),
        metric=f.metric,
    )
    return [_summary(a) for a in Agents(store.sql).counts(start, end, folded, now)]
