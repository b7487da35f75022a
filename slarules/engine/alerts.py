"""Alerts and schedules of a measured ticket (pure): what to raise, when to look again.

One definition of each rule the store, the scheduler, `/metrics` and the API
rely on:

- `breach_instant`: when an active cycle turns breached if nothing changes;
  `effective_state`: a stored cycle's state at a later instant (an active
  cycle is breached once `now` is past its breach instant: E > T).
- `reached`: which thresholds raise an alert (max age, stopped cycles only
  for thresholds crossed since the previous measurement), with stable ids.
- `next_wakeup`: the earliest instant the ticket's stored state changes
  (a threshold, a future event), never `now` or earlier (no busy loop).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from slarules.engine.measurement import Cycle, Measurement

__all__ = [
    "MAX_AGE",
    "Alert",
    "alert_id",
    "breach_instant",
    "due_key",
    "effective_state",
    "is_breached",
    "next_threshold",
    "next_wakeup",
    "reached",
    "threshold_key",
]

MAX_AGE = 86_400.0  # seconds: older thresholds raise no alert (an imported backlog)
AlertKind = Literal["warning", "breach"]


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert (semantics.md §Alerts): a reached threshold of one cycle of one ticket."""

    id: str
    kind: AlertKind
    ticket_id: str
    metric: str
    cycle_index: int
    cycle_started_at: datetime
    at: datetime  # the instant the threshold was reached
    level: str | None
    percent: float | None = None
    before_seconds: int | None = None
    assignee: str | None = None
    department: str | None = None
    ruleset_version: str = ""


def threshold_key(kind: str, percent: float | None, before: int | None) -> str:
    """`breach`, `warning:p80` or `warning:b900` (a `warn before` in seconds)."""
    if kind == "breach":
        return "breach"
    if percent is not None:
        return f"warning:p{percent:g}"
    return f"warning:b{before}"


def alert_id(
    ticket_id: str,
    metric: str,
    cycle_started_at: datetime,
    kind: str,
    percent: float | None = None,
    before: int | None = None,
) -> str:
    """A short, stable, collision-resistant id; the same inputs always give the same id."""
    if cycle_started_at.tzinfo is None:
        raise ValueError("cycle_started_at must be timezone-aware")
    started = cycle_started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    key = "\x1f".join((ticket_id, metric, started, threshold_key(kind, percent, before)))
    return hashlib.sha256(key.encode()).hexdigest()[:24]


# -- states --------------------------------------------------------------------------


def breach_instant(c: Cycle) -> datetime | None:
    """When an active cycle turns breached if nothing changes (None otherwise)."""
    if c.state != "active":
        return None
    for th in c.thresholds:
        if th.kind == "breach" and not th.reached:
            return th.at
    return c.due_at


def is_breached(breach_at: datetime | None, now: datetime) -> bool:
    """Has an active cycle with this breach instant turned breached by `now`?

    Strictly after: at the breach instant itself E == T, which is still met
    (semantics.md: met when E <= T). The store's SQL states the same rule."""
    return breach_at is not None and breach_at < now


def effective_state(state: str, breach_at: datetime | None, now: datetime) -> str:
    """A stored cycle's state as of `now` (only an active cycle's state moves on its own)."""
    if state == "active" and is_breached(breach_at, now):
        return "breached"
    return state


# -- schedules -----------------------------------------------------------------------


def next_threshold(c: Cycle, now: datetime) -> datetime | None:
    """The earliest alert threshold of the cycle not yet reached (the scheduler's index)."""
    ahead = [th.at for th in c.thresholds if not th.reached and th.at is not None]
    if not c.thresholds and c.state == "active" and c.due_at is not None and c.due_at > now:
        ahead.append(c.due_at)
    return min(ahead) if ahead else None


def due_key(m: Measurement) -> datetime | None:
    """The earliest due instant of a running cycle (the ticket list's sort key)."""
    dues = [c.due_at for c in m.cycles if c.stopped_at is None and c.due_at is not None]
    return min(dues) if dues else None


def next_wakeup(
    m: Measurement, now: datetime, later_events: Iterable[datetime] = ()
) -> datetime | None:
    """The earliest instant the stored state changes: a threshold or a future event.

    Never `now` or earlier, so a scheduler polling it cannot spin: a threshold
    already due is looked at again one second later."""
    nexts = [t for c in m.cycles if (t := next_threshold(c, now)) is not None]
    nexts.extend(later_events)
    if nexts and min(nexts) <= now:
        nexts = [n for n in nexts if n > now] + [now + timedelta(seconds=1)]
    return min(nexts) if nexts else None


# -- alerts --------------------------------------------------------------------------


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def reached(
    m: Measurement, previous: datetime | None, now: datetime, max_age: float = MAX_AGE
) -> tuple[dict[str, Alert], set[str]]:
    """(alerts to raise by id, ids of every reached threshold) of one measurement.

    A breach counts from its instant on for an active cycle (the engine's
    whole seconds report it reached one second later). Thresholds more than
    `max_age` seconds old are not raised (an import of old tickets).
    Stopped cycles raise only thresholds crossed after `previous` (the last
    measurement): an imported or late-recorded history does not raise
    alerts for instants nobody could have been warned about.
    """
    raise_: dict[str, Alert] = {}
    seen: set[str] = set()
    oldest = now - timedelta(seconds=max_age)
    if m.decision.level is None:
        return raise_, seen
    for c in m.cycles:
        for th in c.thresholds:
            if th.at is None or th.at > now:
                continue
            # an active cycle whose breach instant has come is breached a moment later
            # (E > T): raise it now rather than a whole second late
            if not th.reached and not (th.kind == "breach" and c.state == "active"):
                continue
            aid = alert_id(m.ticket_id, c.metric, c.started_at, th.kind, th.percent, th.before)
            seen.add(aid)
            if c.stopped_at is not None and (previous is None or th.at <= previous):
                continue
            if th.at < oldest:
                continue
            raise_[aid] = Alert(
                id=aid,
                kind=th.kind,
                ticket_id=m.ticket_id,
                metric=c.metric,
                cycle_index=c.index,
                cycle_started_at=c.started_at,
                at=th.at,
                level=m.decision.level,
                percent=th.percent,
                before_seconds=th.before,
                assignee=_text(m.fields.get("assignee")),
                department=_text(m.fields.get("department")),
                ruleset_version=m.ruleset_version,
            )
    return raise_, seen
