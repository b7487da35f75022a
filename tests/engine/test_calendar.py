"""Calendar API edges: the `always` fast path, naive instants, bounded searches."""

from __future__ import annotations

import types
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from slarules.engine.calendar import Calendar, CalendarSpec, always

NY = ZoneInfo("America/New_York")
WEEKDAYS = {d: ((540, 1020),) for d in range(5)}  # Mon-Fri 09:00-17:00


def at(*args: int, tz: timezone | ZoneInfo = UTC) -> datetime:
    return datetime(*args, tzinfo=tz)  # type: ignore[misc]


def test_always_is_real_time_minus_pauses() -> None:
    cal = always()
    a, b = at(2026, 3, 8), at(2026, 3, 9, 12)
    assert cal.name == "always" and cal.spec.timezone == "UTC"
    assert cal.elapsed(a, b) == 36 * 3600
    assert cal.elapsed(b, a) == 0
    pause = [(at(2026, 3, 8, 1), at(2026, 3, 8, 3))]
    assert cal.elapsed(a, b, pause) == 34 * 3600
    assert cal.add(a, 3600) == at(2026, 3, 8, 1)
    assert cal.add(a, 3 * 3600, pause) == at(2026, 3, 8, 5)
    assert cal.is_open(a) and cal.next_open(a) == a
    assert list(cal.open_intervals(a, b)) == [(a, b)]


def test_always_matches_a_table_calendar() -> None:
    """A 24×7 UTC calendar forced onto the table path agrees with the fast path."""
    slow = Calendar(
        CalendarSpec(
            "x", "UTC", {d: ((0, 1440),) for d in range(7)}, closed=frozenset({date(1999, 1, 1)})
        )
    )
    fast = always()
    a = at(2026, 12, 30, 7, 15)
    for d in (0, 1, 3600, 86400 * 3 + 17):
        assert slow.add(a, d) == fast.add(a, d)
        assert slow.elapsed(a, a + timedelta(seconds=d)) == d


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.is_open(datetime(2026, 3, 9, 10)),
        lambda c: c.next_open(datetime(2026, 3, 9, 10)),
        lambda c: c.add(datetime(2026, 3, 9, 10), 60),
        lambda c: c.elapsed(datetime(2026, 3, 9, 10), at(2026, 3, 9, 11)),
        lambda c: c.elapsed(at(2026, 3, 9, 10), datetime(2026, 3, 9, 11)),
        lambda c: list(c.open_intervals(datetime(2026, 3, 9), at(2026, 3, 10))),
        lambda c: c.elapsed(
            at(2026, 3, 9), at(2026, 3, 10), [(datetime(2026, 3, 9, 1), at(2026, 3, 9, 2))]
        ),
        lambda c: c.add(at(2026, 3, 9), 60, [(at(2026, 3, 9, 1), datetime(2026, 3, 9, 2))]),
    ],
)
@pytest.mark.parametrize(
    "cal", [always(), Calendar(CalendarSpec("b", "America/New_York", WEEKDAYS))]
)
def test_naive_instants_are_rejected(cal: Calendar, call: types.FunctionType) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(cal)


def test_negative_duration_is_rejected() -> None:
    for cal in (always(), Calendar(CalendarSpec("b", "UTC", WEEKDAYS))):
        with pytest.raises(ValueError, match="negative"):
            cal.add(at(2026, 3, 9), -1)


def test_outputs_are_utc_and_whole_seconds() -> None:
    cal = Calendar(CalendarSpec("b", "America/New_York", WEEKDAYS))
    t = datetime(2026, 3, 9, 9, 0, 0, 999_999, tzinfo=NY)
    got = cal.add(t, 60)
    assert got.tzinfo is UTC and got == at(2026, 3, 9, 13, 1)
    assert cal.add(t, 0) == at(2026, 3, 9, 13)  # microseconds truncated
    assert cal.elapsed(t, t + timedelta(microseconds=2)) == 1  # [09:00:00, 09:00:01)
    assert cal.next_open(at(2026, 3, 7)) == datetime(2026, 3, 9, 9, tzinfo=NY)


def test_never_open_calendar_raises_instead_of_looping() -> None:
    cal = Calendar(CalendarSpec("none", "Europe/Berlin", {}))
    a = at(2026, 1, 1)
    assert cal.elapsed(a, at(2027, 6, 1)) == 0
    assert not cal.is_open(a)
    assert cal.add(a, 0) == a
    with pytest.raises(ValueError, match="never open"):
        cal.add(a, 1)
    with pytest.raises(ValueError, match="never open"):
        cal.next_open(a)
    assert list(cal.open_intervals(a, at(2026, 2, 1))) == []


def test_all_days_closed_for_ten_years_raises() -> None:
    first = date(2026, 1, 1)
    closed = frozenset(first + timedelta(days=k) for k in range(366 * 12))
    cal = Calendar(CalendarSpec("closed", "UTC", WEEKDAYS, closed=closed))
    with pytest.raises(ValueError, match="no opening in 10 years"):
        cal.add(at(2026, 1, 1), 60)
    with pytest.raises(ValueError, match="no opening in 10 years"):
        cal.next_open(at(2026, 1, 1))
    # The search restarts its count after an opening: one open day in year 9 is found.
    reopened = Calendar(
        CalendarSpec("x", "UTC", WEEKDAYS, closed=closed - {date(2034, 6, 1)})
    )  # a Thursday
    assert reopened.add(at(2026, 1, 1), 60) == at(2034, 6, 1, 9, 1)


def test_open_intervals_is_lazy_and_merges_across_years() -> None:
    cal = Calendar(
        CalendarSpec(
            "x",
            "Asia/Kolkata",
            {d: ((0, 1440),) for d in range(7)},
            closed=frozenset({date(2026, 6, 1)}),
        )
    )
    kolkata = ZoneInfo("Asia/Kolkata")
    it = cal.open_intervals(
        datetime(2025, 12, 30, tzinfo=kolkata), datetime(2026, 1, 3, tzinfo=kolkata)
    )
    assert next(it) == (
        datetime(2025, 12, 30, tzinfo=kolkata),
        datetime(2026, 1, 3, tzinfo=kolkata),
    )
    assert list(it) == []
    many = cal.open_intervals(at(2000, 1, 1), at(2200, 1, 1))
    # One interval merged over 26 years; nothing after the closed day is built yet.
    assert next(many) == (at(2000, 1, 1), datetime(2026, 6, 1, tzinfo=kolkata))
    assert max(cal._years) == 2026


def test_elapsed_across_years_and_holidays_of_two_countries() -> None:
    spec = CalendarSpec("x", "Europe/Berlin", WEEKDAYS, (("DE", None), ("BR", "SP")))
    cal = Calendar(spec)
    berlin = ZoneInfo("Europe/Berlin")
    # 2026-11-20 (Fri) is a BR holiday only, 2026-12-25 both, 2026-12-26 a Saturday.
    assert not cal.is_open(datetime(2026, 11, 20, 10, tzinfo=berlin))
    assert cal.is_open(datetime(2026, 11, 19, 10, tzinfo=berlin))
    a = datetime(2026, 12, 21, tzinfo=berlin)
    b = datetime(2027, 1, 5, tzinfo=berlin)
    # Dec 21-24 (4 days), Dec 28-31 (4), Jan 1 holiday, Jan 4 (1): 9 days of 8h.
    assert cal.elapsed(a, b) == 9 * 8 * 3600
    assert cal.add(a, 9 * 8 * 3600) == datetime(2027, 1, 4, 17, tzinfo=berlin)
    # Several years in one call.
    assert cal.elapsed(a, b + timedelta(days=3 * 365)) == (
        cal.elapsed(a, datetime(2028, 6, 1, tzinfo=berlin))
        + cal.elapsed(datetime(2028, 6, 1, tzinfo=berlin), b + timedelta(days=3 * 365))
    )


def test_overlapping_or_touching_pauses_count_once() -> None:
    cal = Calendar(CalendarSpec("b", "UTC", WEEKDAYS))
    a, b = at(2026, 3, 9), at(2026, 3, 10)  # Monday: 8h open
    overlapping = [
        (at(2026, 3, 9, 10), at(2026, 3, 9, 12)),
        (at(2026, 3, 9, 11), at(2026, 3, 9, 13)),
    ]
    touching = [(at(2026, 3, 9, 10), at(2026, 3, 9, 11)), (at(2026, 3, 9, 11), at(2026, 3, 9, 13))]
    for pauses in (overlapping, touching):
        assert cal.elapsed(a, b, pauses) == 5 * 3600
        assert cal.add(a, 2 * 3600, pauses) == at(2026, 3, 9, 14)
