"""Calendar arithmetic against a brute-force oracle, on random calendars and instants.

The oracle shares no code with the implementation. It finds each range boundary as the
first instant (on the minute grid) whose local wall time is at or after the boundary,
by scanning the zone's real UTC → local conversion (this is the spec's rule: a boundary
in a gap moves to the gap end, an ambiguous one takes its first occurrence). Business
time is then counted by stepping through minutes. The zones below change offsets only
on whole minutes in the years drawn, so every boundary lies on the minute grid.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from slarules.engine.calendar import Calendar, CalendarSpec

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "America/Sao_Paulo",  # DST changed at local midnight until 2019
    "Australia/Lord_Howe",  # 30-minute DST
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/Santiago",  # midnight changes, southern hemisphere
    "Asia/Kolkata",
    "America/St_Johns",
    "Africa/Casablanca",  # Ramadan changes
    "Pacific/Apia",  # skipped 2011-12-30
]
HOLIDAYS = [("US", None), ("BR", "SP"), ("DE", "BY")]
SPAN_DAYS = 9
PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _posix(t: datetime) -> int:
    return int(t.timestamp())


def _dt(u: int) -> datetime:
    return datetime.fromtimestamp(u, UTC)


@cache
def _holiday_dates(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdiv, years=year))


@dataclass
class Oracle:
    spec: CalendarSpec
    intervals: list[tuple[int, int]]  # sorted, may touch

    def is_open(self, u: int) -> bool:
        # The latest interval starting at or before u (intervals are sorted, disjoint).
        i = bisect_right(self.intervals, (u, 2**62)) - 1
        return i >= 0 and u < self.intervals[i][1]


def _wall(zone: ZoneInfo, u: int) -> datetime:
    return datetime.fromtimestamp(u, zone).replace(tzinfo=None)


def _boundary(zone: ZoneInfo, wall: datetime) -> int:
    """First minute-grid instant whose local wall time is >= `wall`."""
    naive = int((wall - datetime(1970, 1, 1)).total_seconds())
    offsets = set()
    for h in range(-36, 37, 3):
        off = datetime.fromtimestamp(naive + 3600 * h, zone).utcoffset()
        assert off is not None
        offsets.add(int(off.total_seconds()))
    u = naive - max(offsets)
    while _wall(zone, u) < wall:
        u += 60
    return u


def _oracle(spec: CalendarSpec, first: date, last: date) -> Oracle:
    zone = ZoneInfo(spec.timezone)
    intervals = []
    d = first
    while d <= last:
        off = d in spec.closed or any(d in _holiday_dates(c, s, d.year) for c, s in spec.holidays)
        if not off:
            for s, e in spec.hours.get(d.weekday(), ()):
                start = datetime(d.year, d.month, d.day) + timedelta(minutes=s)
                end = datetime(d.year, d.month, d.day) + timedelta(minutes=e)
                us, ue = _boundary(zone, start), _boundary(zone, end)
                if ue > us:
                    intervals.append((us, ue))
        d += timedelta(days=1)
    return Oracle(spec, intervals)


def _paused(pauses: Sequence[tuple[int, int]], u: int) -> bool:
    return any(s <= u < e for s, e in pauses)


def oracle_elapsed(o: Oracle, a: int, b: int, pauses: Sequence[tuple[int, int]] = ()) -> int:
    return sum(60 for u in range(a, b, 60) if o.is_open(u) and not _paused(pauses, u))


def oracle_add(
    o: Oracle, a: int, d: int, limit: int, pauses: Sequence[tuple[int, int]] = ()
) -> int | None:
    if d == 0:
        return a
    acc = 0
    for u in range(a, limit, 60):
        if o.is_open(u) and not _paused(pauses, u):
            acc += 60
            if acc >= d:
                return u + 60 - (acc - d)
    return None


# ---- strategies ------------------------------------------------------------------


@st.composite
def day_ranges(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    kind = draw(st.sampled_from(["none", "full", "random", "random", "random"]))
    if kind == "none":
        return ()
    if kind == "full":
        return ((0, 1440),)
    # Quarter hours plus the DST-prone early morning at minute resolution.
    points = draw(
        st.lists(
            st.one_of(st.integers(0, 96).map(lambda q: q * 15), st.integers(0, 240)),
            min_size=2,
            max_size=6,
            unique=True,
        )
    )
    points.sort()
    return tuple((points[i], points[i + 1]) for i in range(0, len(points) - 1, 2))


@st.composite
def calendars(draw: st.DrawFn) -> tuple[CalendarSpec, date]:
    zone = draw(st.sampled_from(ZONES))
    hours = {d: r for d in range(7) if (r := draw(day_ranges()))}
    assume(hours)
    hols = tuple(draw(st.lists(st.sampled_from(HOLIDAYS), max_size=2, unique=True)))
    start = draw(st.dates(date(2008, 1, 1), date(2030, 12, 31)))
    if draw(st.booleans()):  # snap the window to a DST change of the zone
        start = _near_transition(zone, start) - timedelta(days=draw(st.integers(0, 4)))
    closed = frozenset(
        draw(
            st.lists(st.integers(0, SPAN_DAYS).map(lambda k: start + timedelta(days=k)), max_size=3)
        )
    )
    return CalendarSpec("random", zone, hours, hols, closed), start


def _near_transition(zone_name: str, d: date) -> date:
    zone = ZoneInfo(zone_name)

    def off(x: date) -> timedelta | None:
        return datetime(x.year, x.month, x.day, 12, tzinfo=zone).utcoffset()

    for k in range(366):
        x = d + timedelta(days=k)
        if off(x) != off(x - timedelta(days=1)):
            return x - timedelta(days=1)
    return d


@st.composite
def scenarios(draw: st.DrawFn, oracle: bool = True) -> tuple[Calendar, Oracle, int, int]:
    spec, start = draw(calendars())
    # Oracle window: from a day before `start` (instants are drawn from `start` local
    # midnight on, which may be up to a day off in UTC) to SPAN_DAYS + 2 days after.
    o = (
        _oracle(spec, start - timedelta(days=2), start + timedelta(days=SPAN_DAYS + 2))
        if oracle
        else Oracle(spec, [])
    )
    lo = _posix(datetime(start.year, start.month, start.day, tzinfo=UTC))
    hi = lo + SPAN_DAYS * 86400
    return Calendar(spec), o, lo, hi


def minute(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(0, (hi - lo) // 60).map(lambda k: lo + 60 * k)


@st.composite
def pause_lists(draw: st.DrawFn, lo: int, hi: int) -> list[tuple[int, int]]:
    points = sorted(draw(st.lists(minute(lo - 86400, hi), max_size=6, unique=True)))
    return [(points[i], points[i + 1]) for i in range(0, len(points) - 1, 2)]


# ---- properties ------------------------------------------------------------------


@PROFILE
@given(data=st.data())
def test_elapsed_matches_oracle(data: st.DataObject) -> None:
    cal, o, lo, hi = data.draw(scenarios())
    a, b = sorted((data.draw(minute(lo, hi)), data.draw(minute(lo, hi))))
    pauses = data.draw(pause_lists(lo, hi))
    assert cal.elapsed(_dt(a), _dt(b)) == oracle_elapsed(o, a, b)
    dt_pauses = [(_dt(s), _dt(e)) for s, e in pauses]
    assert cal.elapsed(_dt(a), _dt(b), dt_pauses) == oracle_elapsed(o, a, b, pauses)
    assert cal.elapsed(_dt(b), _dt(a)) == 0


@PROFILE
@given(data=st.data())
def test_add_matches_oracle(data: st.DataObject) -> None:
    cal, o, lo, hi = data.draw(scenarios())
    a = data.draw(minute(lo, hi))
    pauses = data.draw(pause_lists(lo, hi))
    budget = oracle_elapsed(o, a, hi)
    assume(budget > 0)
    d = data.draw(st.integers(0, budget // 60)) * 60
    limit = hi
    got = cal.add(_dt(a), d)
    assert _posix(got) == oracle_add(o, a, d, limit)
    expect = oracle_add(o, a, d, limit, pauses)
    if expect is not None:
        dt_pauses = [(_dt(s), _dt(e)) for s, e in pauses]
        assert _posix(cal.add(_dt(a), d, dt_pauses)) == expect


@PROFILE
@given(data=st.data())
def test_open_intervals_is_open_next_open_match_oracle(data: st.DataObject) -> None:
    cal, o, lo, hi = data.draw(scenarios())
    a, b = sorted((data.draw(minute(lo, hi)), data.draw(minute(lo, hi))))
    got = [(_posix(s), _posix(e)) for s, e in cal.open_intervals(_dt(a), _dt(b))]
    merged: list[tuple[int, int]] = []
    for s, e in o.intervals:
        s, e = max(s, a), min(e, b)
        if s >= e:
            continue
        if merged and merged[-1][1] == s:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    assert got == merged
    for u in (a, b, data.draw(minute(lo, hi))):
        assert cal.is_open(_dt(u)) == o.is_open(u)
        starts = [s for s, _ in o.intervals]
        nxt = u if o.is_open(u) else next((s for s in starts if s > u), None)
        if nxt is not None and nxt < o.intervals[-1][1]:
            assert _posix(cal.next_open(_dt(u))) == nxt


@PROFILE
@given(data=st.data())
def test_add_elapsed_round_trip_on_seconds(data: st.DataObject) -> None:
    """Second-grid instants and durations: add is the earliest instant reaching d."""
    cal, _, lo, hi = data.draw(scenarios(oracle=False))
    a = data.draw(st.integers(lo, hi))
    pauses = (
        [(_dt(s), _dt(e)) for s, e in data.draw(pause_lists(lo, hi))]
        if data.draw(st.booleans())
        else []
    )
    d = data.draw(st.integers(0, 30 * 3600))
    x = cal.add(_dt(a), d, pauses)
    assert x >= _dt(a)
    assert cal.elapsed(_dt(a), x, pauses) == d
    if d > 0:
        assert cal.elapsed(_dt(a), x - timedelta(seconds=1), pauses) < d
        assert cal.is_open(x - timedelta(seconds=1))
    else:
        assert x == _dt(a)


@PROFILE
@given(data=st.data())
def test_elapsed_additive_and_monotone(data: st.DataObject) -> None:
    cal, _, lo, hi = data.draw(scenarios(oracle=False))
    a, b, c = sorted(data.draw(st.integers(lo - 86400 * 400, hi + 86400 * 400)) for _ in range(3))
    pauses = [(_dt(s), _dt(e)) for s, e in data.draw(pause_lists(lo, hi))]
    for ps in ((), pauses):
        ab = cal.elapsed(_dt(a), _dt(b), ps)
        bc = cal.elapsed(_dt(b), _dt(c), ps)
        ac = cal.elapsed(_dt(a), _dt(c), ps)
        assert ab + bc == ac
        assert 0 <= ab <= ac and 0 <= bc <= ac
        assert ac <= c - a
    assert cal.elapsed(_dt(a), _dt(c), pauses) <= cal.elapsed(_dt(a), _dt(c))


def test_oracle_sanity() -> None:
    """The oracle itself: a spring-forward day in New York, 00:00-24:00, is 23 hours."""
    spec = CalendarSpec("x", "America/New_York", {6: ((0, 1440),)})
    o = _oracle(spec, date(2026, 3, 8), date(2026, 3, 8))
    assert o.intervals == [
        (_posix(datetime(2026, 3, 8, 5, tzinfo=UTC)), _posix(datetime(2026, 3, 9, 4, tzinfo=UTC)))
    ]
