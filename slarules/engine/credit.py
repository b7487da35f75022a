"""Who a cycle is credited to: the ticket's assignee when the cycle stopped.

Per-agent reports credit each finished cycle to the assignee holding the
ticket at the cycle's stop (the fields after every event at that instant),
not to today's assignee; a cycle still running is credited to the current
one. The field history comes from `timers.replay` (the one definition of how
events change fields); when no event of the history sets or unsets
`assignee`, it never changed and the current fields answer without a replay.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slarules.engine.measurement import Measurement
from slarules.engine.policy import Policy, is_unset
from slarules.engine.ticket import TicketHistory
from slarules.engine.timers import replay

__all__ = ["ASSIGNEE", "credited_assignees"]

ASSIGNEE = "assignee"


def _name(fields: Mapping[str, Any]) -> str | None:
    v = fields.get(ASSIGNEE)
    if is_unset(v):
        return None
    return v if isinstance(v, str) else str(v)


def _touches_assignee(history: TicketHistory, now: datetime) -> bool:
    return any(
        e.at <= now and e.type == "update" and (ASSIGNEE in e.set or ASSIGNEE in e.unset)
        for e in history.events
    )


def credited_assignees(
    policy: Policy, history: TicketHistory, measured: Measurement
) -> tuple[str | None, ...]:
    """Per cycle of `measured` (same order): the assignee at its stop, or now if running."""
    if not measured.cycles:
        return ()
    if not _touches_assignee(history, measured.now):
        current = _name(measured.fields)
        return tuple(current for _ in measured.cycles)
    rp = replay(policy, history, measured.now)
    out = []
    for c in measured.cycles:
        at = c.stopped_at if c.stopped_at is not None else measured.now
        i = bisect_right(rp.instants, int(at.timestamp())) - 1
        out.append(_name(rp.snapshots[max(i, 0)]))
    return tuple(out)
