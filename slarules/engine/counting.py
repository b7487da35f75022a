"""Is a cycle's business clock running at `now`, and when does that next change?

A cycle counts at `now` when it has not stopped, the ticket is not done, its
status category is not one the metric excludes, no pause condition of the
level that covers the metric holds on the ticket's current fields, and the
level's calendar is open at `now`. Fields change only with events, so without
a new event the answer flips only at the calendar's next boundary: the end of
the open range holding `now` (counting) or the start of the next one (closed
hours). Stopped, done or paused cycles never flip without an event
(`changes_at` is None); neither does a cycle on a calendar that never closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from slarules.engine.calendar import Calendar
from slarules.engine.measurement import Cycle
from slarules.engine.policy import Fields, Level, Policy
from slarules.engine.timers import excluded_categories

__all__ = ["STOPPED", "Clock", "clock", "held"]

# Look-ahead windows for the end of an open range: a week covers weekly hours,
# a year and a bit covers calendars open around the clock except holidays.
_HORIZONS = (timedelta(days=8), timedelta(days=400), timedelta(days=3660))


@dataclass(frozen=True, slots=True)
class Clock:
    """`counting`: the business clock runs now; `changes_at`: the next instant it flips
    without a new event (None: never)."""

    counting: bool
    changes_at: datetime | None


STOPPED = Clock(False, None)


def held(policy: Policy, level: Level, metric: str, fields: Fields) -> bool:
    """True when the ticket's fields keep the metric from counting under the level:
    done, a status category the metric excludes, or a pause condition that covers it."""
    category = policy.category(fields.get("status"))
    if category == "done" or category in excluded_categories(metric):
        return True
    return any(p.covers(metric) and p.holds(fields) for p in level.pauses)


def _always_open(cal: Calendar) -> bool:
    spec = cal.spec
    return (
        not spec.holidays
        and not spec.closed
        and all(spec.hours.get(d, ()) == ((0, 1440),) for d in range(7))
    )


def _next_close(cal: Calendar, now: datetime) -> datetime | None:
    """The end of the open range holding `now` (merged across midnight), or None."""
    if _always_open(cal):
        return None
    for horizon in _HORIZONS:
        end = now + horizon
        first = next(cal.open_intervals(now, end), None)
        if first is None:  # not open at `now` after all
            return now
        if first[1] < end:
            return first[1]
    return None


def _next_open(cal: Calendar, now: datetime) -> datetime | None:
    try:
        return cal.next_open(now)
    except ValueError:  # a calendar that never opens (again)
        return None


def clock(
    policy: Policy, level_name: str | None, cycle: Cycle, fields: Fields, now: datetime
) -> Clock:
    """The cycle's clock at `now` under the ticket's level and current fields."""
    if cycle.stopped_at is not None or cycle.state in ("met", "paused") or level_name is None:
        return STOPPED
    level = policy.levels.get(level_name)
    if level is None or held(policy, level, cycle.metric, fields):
        return STOPPED
    cal = level.calendar
    if cal.is_open(now):
        return Clock(True, _next_close(cal, now))
    return Clock(False, _next_open(cal, now))
