"""`engine.calendar_diff`: the days two calendars open differently, as a table, and the
claim the re-measure rests on: over a span that meets none of them, every business-time
figure is the same under both (DST in both hemispheres)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest

from slarules.engine.calendar import Calendar, CalendarSpec
from slarules.engine.calendar_diff import changed_days

WEEK = {d: ((540, 720), (780, 1080)) for d in range(5)}  # mon-fri 09-12, 13-18


def cal(
    zone: str = "America/New_York",
    hours: dict[int, tuple[tuple[int, int], ...]] | None = None,
    closed: tuple[date, ...] = (),
    holidays: tuple[tuple[str, str | None], ...] = (),
) -> Calendar:
    return Calendar(
        CalendarSpec("c", zone, WEEK if hours is None else hours, holidays, frozenset(closed))
    )


D = date(2026, 3, 10)  # a Tuesday
BASE = cal()
# (edit, new calendar, changed days or None: any day, changed weekdays)
CASES: list[tuple[str, Calendar, set[date] | None, set[int]]] = [
    ("nothing", cal(), set(), set()),
    ("a closed weekday", cal(closed=(D,)), {D}, set()),
    ("a closed Sunday (closed anyway)", cal(closed=(date(2026, 3, 8),)), set(), set()),
    ("two closed days", cal(closed=(D, date(2026, 3, 11))), {D, date(2026, 3, 11)}, set()),
    ("one weekday's hours", cal(hours={**WEEK, 4: ((540, 720),)}), set(), {4}),
    ("a Saturday opened", cal(hours={**WEEK, 5: ((600, 720),)}), set(), {5}),
    ("a closed day on a changed weekday", cal(hours={**WEEK, 1: ()}, closed=(D,)), set(), {1}),
    ("another zone", cal(zone="Europe/Berlin"), None, set()),
    ("a holiday source", cal(holidays=(("US", None),)), None, set()),
]


@pytest.mark.parametrize(("edit", "new", "days", "weekdays"), CASES, ids=[c[0] for c in CASES])
def test_changed_days(edit: str, new: Calendar, days: set[date] | None, weekdays: set[int]) -> None:
    got = changed_days(BASE, new)
    if days is None:
        assert got is None
        return
    assert got is not None
    assert got.days == days and got.weekdays == weekdays
    assert changed_days(new, BASE) == got  # symmetric


def test_a_closed_holiday_is_no_change() -> None:
    us = (("US", None),)
    july4 = date(2026, 7, 3)  # observed: Independence Day falls on a Saturday
    got = changed_days(cal(holidays=us), cal(holidays=us, closed=(july4,)))
    assert got is not None and got.empty


def _u(y: int, m: int, d: int, h: int = 0) -> int:
    return int(datetime(y, m, d, h, tzinfo=UTC).timestamp())


# (zone, a changed day on or by a DST change of that zone's hemisphere)
DST = [
    ("America/New_York", date(2026, 3, 8)),  # spring forward, a Sunday
    ("America/New_York", date(2026, 3, 9)),  # the Monday after
    ("America/New_York", date(2026, 11, 2)),  # the Monday after falling back
    ("Australia/Sydney", date(2026, 4, 6)),  # the Monday after falling back (south)
    ("Australia/Sydney", date(2026, 10, 5)),  # the Monday after springing forward
    ("America/Sao_Paulo", date(2026, 3, 4)),
]


@pytest.mark.parametrize(("zone", "day"), DST)
def test_a_span_meeting_no_changed_day_measures_alike(zone: str, day: date) -> None:
    hours = {d: ((0, 120), (540, 1080)) for d in range(7)}  # the DST-prone early morning too
    a = cal(zone, hours)
    b = cal(zone, {**hours}, closed=(day,))
    diff = changed_days(a, b)
    assert diff is not None and diff.days == {day}
    rnd = random.Random(f"{zone}{day}")
    mid = _u(day.year, day.month, day.day, 12)
    met = missed = 0
    for _ in range(3000):
        start = mid + rnd.randint(-10 * 86400, 10 * 86400)
        end = start + rnd.randint(0, 5 * 86400)
        x = rnd.randint(0, 40 * 3600)
        elapsed = a.elapsed_posix(start, end)
        reached = a.add_posix(start, x)
        ahead = a.add_posix(end, x)
        last = max(end, reached, ahead)
        if diff.meets(start, last):
            met += 1
            continue
        missed += 1
        assert b.elapsed_posix(start, end) == elapsed
        assert b.add_posix(start, x) == reached
        assert b.add_posix(end, x) == ahead
        pauses = [(start + 3600, start + 7200)] if end > start + 7200 else []
        assert b.elapsed_paused(start, end, pauses) == a.elapsed_paused(start, end, pauses)
        assert b.add_paused(start, x, pauses) == a.add_paused(start, x, pauses)
    assert met and missed  # both sides of the claim were tried
    # and a span that does meet it measures otherwise (the diff is not empty for nothing)
    assert a.elapsed_posix(mid - 86400, mid + 86400) != b.elapsed_posix(mid - 86400, mid + 86400)
