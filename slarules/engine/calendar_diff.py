"""Which local days two calendars open differently (`changed_days`), and whether a span meets one.

A calendar's open instants within local date `d` (from its local midnight to the next)
are the ranges of `d`'s weekday, unless `d` is a holiday or a closed day: they depend
on `d`, its weekday's hours and the zone alone (a boundary in a DST gap moves to the
gap's end, still on `d`; `24:00` is the next local midnight, the end of `d`). So two
calendars in the same zone with the same holiday source open alike on every day but
those of the weekdays whose hours differ and the closed days of one and not the other
that would otherwise be open. Any business-time figure over `[a, b]` (elapsed time,
the instants a duration is reached at, counting from `a` or on from a later instant
up to `b`) reads only the local days from `a`'s to `b`'s: when none of them changed,
both calendars give the same figure (`tests/engine/test_calendar_diff.py`).

Another zone or another holiday source may change any day: `changed_days` says None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from slarules.engine.calendar import Calendar, _holiday_dates

__all__ = ["DayDiff", "changed_days"]


@dataclass(frozen=True, slots=True)
class DayDiff:
    """The local days (in `zone`) two calendars may open differently: `days`, and every
    day of `weekdays` (0 = Monday)."""

    zone: ZoneInfo
    days: frozenset[date] = frozenset()
    weekdays: frozenset[int] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.days and not self.weekdays

    def meets(self, a: int, b: int) -> bool:
        """Does a changed day lie among the local days from POSIX `a`'s to `b`'s?"""
        if self.empty:
            return False
        first = datetime.fromtimestamp(min(a, b), self.zone).date()
        last = datetime.fromtimestamp(max(a, b), self.zone).date()
        if self.weekdays:
            if (last - first).days >= 6:
                return True
            d = first
            while d <= last:
                if d.weekday() in self.weekdays:
                    return True
                d += timedelta(days=1)
        return any(first <= d <= last for d in self.days)


def _hours(c: Calendar, weekday: int) -> tuple[tuple[int, int], ...]:
    return tuple((s, e) for s, e in c.spec.hours.get(weekday, ()) if e > s)


def changed_days(a: Calendar, b: Calendar) -> DayDiff | None:
    """The days `a` and `b` may open differently (see the module doc); None: any day."""
    sa, sb = a.spec, b.spec
    if sa.timezone != sb.timezone or tuple(sa.holidays) != tuple(sb.holidays):
        return None
    weekdays = frozenset(d for d in range(7) if _hours(a, d) != _hours(b, d))
    days = set()
    for d in sa.closed ^ sb.closed:
        if d.weekday() in weekdays or not _hours(a, d.weekday()):
            continue  # already changed, or closed anyway on that weekday
        if any(d in _holiday_dates(c, s, d.year) for c, s in sa.holidays):
            continue  # a holiday under both
        days.add(d)
    return DayDiff(a.zone, frozenset(days), weekdays)
