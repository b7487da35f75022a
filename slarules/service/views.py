"""What the service returns: tickets as of `now`, recorded batches, pages of the SLA log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slarules.engine.measurement import Cycle, Evaluation, Measurement
from slarules.engine.reports import LogRow


@dataclass(frozen=True, slots=True)
class EventView:
    event_id: str | None
    at: datetime
    type: str
    payload: Mapping[str, Any]  # the API's JSON


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as the API shows it, with figures as of `now`."""

    id: str
    created_at: datetime
    created_by: str
    fields: Mapping[str, Any]  # typed current fields
    level: str | None
    decided_by: str | None
    done: bool
    ruleset_version: str
    cycles: tuple[Cycle, ...]
    evaluations: tuple[Evaluation, ...]  # the append-only log
    events: tuple[EventView, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class RecordResult:
    applied: int
    duplicates: int
    tickets: tuple[TicketView, ...]


@dataclass(frozen=True, slots=True)
class LogPage:
    rows: tuple[LogRow, ...]
    cursors: tuple[str, ...]
    has_next: bool
    total: int


def appended(log: Sequence[Evaluation], runs: Iterable[Evaluation]) -> tuple[Evaluation, ...]:
    """The runs of a measurement not yet in the ticket's log (the log is append-only:
    a re-measure under another version adds its runs, never replaces the old ones)."""
    if not log:
        return tuple(runs)
    kept = Counter(log)
    out = []
    for e in runs:
        if kept[e]:
            kept[e] -= 1
        else:
            out.append(e)
    return tuple(out)


def view_of(
    m: Measurement,
    created_at: datetime,
    created_by: str,
    log: Sequence[Evaluation],
    events: Sequence[EventView],
    evaluations: bool = True,
) -> TicketView:
    """The view of a measurement (`evaluations=False`: without its evaluation log)."""
    return TicketView(
        id=m.ticket_id,
        created_at=created_at,
        created_by=created_by,
        fields=m.fields,
        level=m.decision.level,
        decided_by=m.decision.decided_by,
        done=m.done,
        ruleset_version=m.ruleset_version,
        cycles=m.cycles,
        evaluations=(*log, *appended(log, m.evaluations)) if evaluations else (),
        events=tuple(events),
    )
