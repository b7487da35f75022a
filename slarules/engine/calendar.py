"""Business time: open ranges of a week in an IANA zone, minus holidays and closed days.

Theory of operation
-------------------
A calendar is a set of disjoint half-open *open intervals* on the real time
line. Weekly hours are wall-clock ranges in the calendar's zone; each range of
a local date becomes the real interval between its two boundary instants. A
boundary's instant is the first instant whose local wall time is at or after
the boundary: a boundary in a DST gap therefore moves to the end of the gap,
an ambiguous one takes its first occurrence (fold=0), and `24:00` is the next
local midnight. A range whose two boundaries fall in the same gap is empty.
Holidays (``holidays`` package, public category, observed days as the package
gives them) and ``closed`` dates drop every range of their local date.

Everything internal is integer POSIX seconds. The intervals are built lazily
per *local* calendar year into a `YearTable`: sorted ``starts``/``ends``
arrays (touching intervals merged) and a running total ``cum`` (business
seconds before interval i). Business time before an instant ``u`` within its
year is then one bisect: ``B(u) = cum[i] + min(u, ends[i]) - starts[i]``, so

- ``elapsed(a, b) = B(b) - B(a)`` (plus whole-year totals when a and b lie in
  different years),
- ``add(t, d)`` bisects ``cum`` for ``B(t) + d``: the answer lies inside
  interval i at ``starts[i] + (target - cum[i])``; a target reached exactly at
  an interval's end returns that end, and ``add(t, 0)`` is ``t``.

Both cost O(log n) whatever the duration. Pauses (sorted, disjoint ``[s, e)``)
are subtracted interval by interval: ``elapsed`` minus the business time of
each pause clipped to ``[a, b)``; ``add`` walks the gaps between pauses.

Outputs are UTC-aware datetimes; inputs must be aware (naive ones raise
ValueError) and are truncated to whole seconds. A calendar that is open 24h
on all seven days with no holidays or closed days (e.g. the built-in
`always`) takes a fast path where business time is real time. A calendar
with no opening at all in ten consecutive years makes `add` and `next_open`
raise ValueError instead of searching forever (the checker rejects
hour-less calendars in practice).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]

__all__ = ["Calendar", "CalendarSpec", "Interval", "YearTable", "always"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY = timedelta(days=1)
# How many consecutive years without any opening `add`/`next_open` search.
_MAX_EMPTY_YEARS = 10
# Local years we build tables for (datetime needs the next year's 1 January).
_MIN_YEAR, _MAX_YEAR = 2, 9998


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    """A checked `calendar` declaration.

    `hours` maps weekday (0 = Monday … 6 = Sunday) to sorted, non-overlapping
    (start_minute, end_minute) ranges of local wall-clock time, end <= 1440.
    `holidays` lists (country, subdivision or None) of the `holidays` package.
    """

    name: str
    timezone: str
    hours: Mapping[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    holidays: tuple[tuple[str, str | None], ...] = ()
    closed: frozenset[date] = frozenset()


class YearTable:
    """The open intervals of one local year as POSIX seconds, with running totals.

    `lo`/`hi` are the instants of local 1 January 00:00 of the year and of the
    next one; every interval lies inside `[lo, hi]`.
    """

    __slots__ = ("cum", "ends", "hi", "lo", "starts", "total", "year")

    def __init__(self, year: int, lo: int, hi: int, starts: list[int], ends: list[int]) -> None:
        self.year = year
        self.lo = lo
        self.hi = hi
        self.starts = starts
        self.ends = ends
        cum = [0]
        acc = 0
        for s, e in zip(starts, ends, strict=True):
            acc += e - s
            cum.append(acc)
        self.cum = cum
        self.total = acc

    def before(self, u: int) -> int:
        """Business seconds of this year before `u` (`lo <= u <= hi`)."""
        i = bisect_right(self.starts, u) - 1
        if i < 0:
            return 0
        e = self.ends[i]
        return self.cum[i] + (u if u < e else e) - self.starts[i]


def _seconds(t: datetime) -> int:
    """Aware datetime → whole POSIX seconds (microseconds truncated)."""
    try:
        d = t - _EPOCH
    except TypeError:
        raise _naive(t) from None
    return d.days * 86400 + d.seconds


_Boundary = tuple[time, time, int, bool]


def _boundary(minute: int) -> _Boundary:
    """Wall time of a range boundary with fold 0 and 1, seconds since local midnight of
    its day (24:00 → 86400), and whether it falls on the next day (24:00)."""
    next_day = minute >= 1440
    m = minute - 1440 if next_day else minute
    return time(m // 60, m % 60), time(m // 60, m % 60, fold=1), minute * 60, next_day


def _naive(*ts: datetime) -> ValueError:
    bad = next((t for t in ts if not isinstance(t, datetime) or t.utcoffset() is None), ts[0])
    return ValueError(f"naive datetime `{bad!s}`: instants must be timezone-aware")


def _datetime(u: int) -> datetime:
    return _fromtimestamp(u, UTC)


_fromtimestamp = datetime.fromtimestamp


@cache
def _holiday_dates(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    """Public holidays (observed as the package gives them) of one year."""
    import holidays  # imported lazily: ~80 ms, and only calendars with holidays need it

    h = holidays.country_holidays(country, subdiv=subdiv, years=year)
    return frozenset(d for d in h if d.year == year)


class Calendar:
    """Exact business-time arithmetic over one calendar."""

    name: str
    spec: CalendarSpec
    zone: ZoneInfo

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.zone = ZoneInfo(spec.timezone)
        self._hours: tuple[tuple[tuple[int, int], ...], ...] = tuple(
            tuple((s, e) for s, e in spec.hours.get(d, ()) if e > s) for d in range(7)
        )
        self._plan = tuple(
            tuple((_boundary(s), _boundary(e)) for s, e in ranges) for ranges in self._hours
        )
        self._never = not any(self._hours)
        self._full = (
            not spec.holidays and not spec.closed and all(r == ((0, 1440),) for r in self._hours)
        )
        self._years: dict[int, YearTable] = {}
        self._last: YearTable | None = None

    def __repr__(self) -> str:
        return f"Calendar({self.name!r}, {self.spec.timezone!r})"

    # ---- tables ---------------------------------------------------------------

    def _instant(self, day: date, minute: int) -> int:
        """POSIX instant of wall time `minute` on local `day` (gap → gap end, fold=0)."""
        if minute >= 1440:
            day += _DAY
            minute -= 1440
        wall = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
        w = (day.toordinal() - _EPOCH_ORDINAL) * 86400 + minute * 60
        zone = self.zone
        o0 = zone.utcoffset(wall)
        o1 = zone.utcoffset(wall.replace(fold=1))
        assert o0 is not None and o1 is not None
        off0 = o0.days * 86400 + o0.seconds
        off1 = o1.days * 86400 + o1.seconds
        if off0 >= off1:  # unambiguous, or ambiguous → first occurrence
            return w - off0
        # In a gap: the answer is the transition, the first instant whose wall
        # time is >= w; it lies in (w - off1, w - off0].
        lo, hi = w - off1, w - off0
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._wall(mid) >= w:
                hi = mid
            else:
                lo = mid
        return hi

    def _wall(self, u: int) -> int:
        """Local wall time of instant `u` as seconds since the naive epoch."""
        local = datetime.fromtimestamp(u, self.zone).replace(tzinfo=None, fold=0)
        d = local - _NAIVE_EPOCH
        return d.days * 86400 + d.seconds

    def _off_days(self, year: int) -> frozenset[date]:
        days: set[date] = {d for d in self.spec.closed if d.year == year}
        for country, subdiv in self.spec.holidays:
            days |= _holiday_dates(country, subdiv, year)
        return frozenset(days)

    def year_table(self, year: int) -> YearTable:
        """The table of local `year`, built on first use."""
        table = self._years.get(year)
        if table is None:
            if not _MIN_YEAR <= year <= _MAX_YEAR:
                raise ValueError(f"year {year} is outside the supported range")
            table = self._years[year] = self._build(year)
        return table

    def _build(self, year: int) -> YearTable:
        # The hot loop of table building: `_instant` unrolled, with precomputed
        # wall times (fold 0 and fold 1) per weekday range boundary.
        off = self._off_days(year) if (self.spec.holidays or self.spec.closed) else frozenset()
        plan = self._plan
        utcoffset = self.zone.utcoffset
        combine = datetime.combine
        starts: list[int] = []
        ends: list[int] = []
        day = date(year, 1, 1)
        base = (day.toordinal() - _EPOCH_ORDINAL) * 86400
        wd = day.weekday()
        while day.year == year:
            ranges = plan[wd]
            if ranges and day not in off:
                nxt = day + _DAY
                for bounds in ranges:
                    us = ue = 0
                    for k, (t0, t1, sec, next_day) in enumerate(bounds):
                        d = nxt if next_day else day
                        o0 = utcoffset(combine(d, t0))
                        o1 = utcoffset(combine(d, t1))
                        if o0 == o1 and o0 is not None:
                            u = base + sec - o0.days * 86400 - o0.seconds
                        else:
                            u = self._instant(d, sec // 60 % 1440)
                        if k:
                            ue = u
                        else:
                            us = u
                    if ue <= us:
                        continue
                    if ends and ends[-1] >= us:  # touches the previous range: merge
                        if ue > ends[-1]:
                            ends[-1] = ue
                    else:
                        starts.append(us)
                        ends.append(ue)
            day += _DAY
            base += 86400
            wd = (wd + 1) % 7
        lo = self._instant(date(year, 1, 1), 0)
        hi = self._instant(date(year + 1, 1, 1), 0)
        return YearTable(year, lo, hi, starts, ends)

    def _table(self, u: int) -> YearTable:
        """The table of the local year containing instant `u`."""
        t = self._last
        if t is not None and t.lo <= u < t.hi:
            return t
        t = self.year_table(_datetime(u).year)
        # A zone's offset is under a day, so the local year is at most one off.
        if u < t.lo:
            t = self.year_table(t.year - 1)
        elif u >= t.hi:
            t = self.year_table(t.year + 1)
        self._last = t
        return t

    # ---- integer API (POSIX seconds) -----------------------------------------

    def elapsed_posix(self, a: int, b: int) -> int:
        """Business seconds in `[a, b)` for POSIX seconds (0 when b <= a)."""
        if b <= a:
            return 0
        if self._full:
            return b - a
        t = self._table(a)
        if b <= t.hi:
            return t.before(b) - t.before(a)
        total = t.total - t.before(a)
        t = self.year_table(t.year + 1)
        while b > t.hi:
            total += t.total
            t = self.year_table(t.year + 1)
        return total + t.before(b)

    def add_posix(self, u: int, seconds: int) -> int:
        """Earliest POSIX instant x >= u with `elapsed_posix(u, x) == seconds`."""
        if seconds <= 0:
            if seconds < 0:
                raise ValueError(f"cannot add a negative duration ({seconds} s)")
            return u
        if self._full:
            return u + seconds
        if self._never:
            raise ValueError(f"calendar `{self.name}` is never open")
        t = self._table(u)
        target = t.before(u) + seconds
        empty = 0
        while target > t.total:
            target -= t.total
            empty = empty + 1 if t.total == 0 else 0
            if empty >= _MAX_EMPTY_YEARS:
                raise ValueError(
                    f"calendar `{self.name}` has no opening in {_MAX_EMPTY_YEARS} years"
                )
            t = self.year_table(t.year + 1)
        i = bisect_left(t.cum, target) - 1
        return t.starts[i] + (target - t.cum[i])

    def next_open_posix(self, u: int) -> int:
        """`u` when open, else the start of the next open interval."""
        if self._full:
            return u
        if self._never:
            raise ValueError(f"calendar `{self.name}` is never open")
        t = self._table(u)
        i = bisect_right(t.starts, u) - 1
        if i >= 0 and u < t.ends[i]:
            return u
        for _ in range(_MAX_EMPTY_YEARS + 1):
            if i + 1 < len(t.starts):
                return t.starts[i + 1]
            t = self.year_table(t.year + 1)
            i = -1
        raise ValueError(f"calendar `{self.name}` has no opening in {_MAX_EMPTY_YEARS} years")

    def is_open_posix(self, u: int) -> bool:
        if self._full:
            return True
        t = self._table(u)
        i = bisect_right(t.starts, u) - 1
        return i >= 0 and u < t.ends[i]

    def elapsed_paused(self, a: int, b: int, pauses: Sequence[tuple[int, int]]) -> int:
        """`elapsed_posix` minus the business time of `pauses` (POSIX pairs sorted by start)."""
        total = self.elapsed_posix(a, b)
        floor = a  # also makes overlapping pauses count once
        for ps, pe in pauses:
            if not total or ps >= b:
                break
            if ps < floor:
                ps = floor
            if pe > b:
                pe = b
            if pe > ps:
                total -= self.elapsed_posix(ps, pe)
                floor = pe
        return total

    def add_paused(self, u: int, seconds: int, pauses: Sequence[tuple[int, int]]) -> int:
        """`add_posix` counting only outside `pauses` (POSIX pairs)."""
        if seconds <= 0:
            return self.add_posix(u, seconds)
        cur, rem = u, seconds
        for ps, pe in pauses:
            if pe <= cur:
                continue
            if ps > cur:
                avail = self.elapsed_posix(cur, ps)
                if avail >= rem:
                    return self.add_posix(cur, rem)
                rem -= avail
            cur = pe
        return self.add_posix(cur, rem)

    # ---- datetime API ----------------------------------------------------------

    def is_open(self, t: datetime) -> bool:
        """True when `t` lies inside an open range (start inclusive, end exclusive)."""
        return self.is_open_posix(_seconds(t))

    def next_open(self, t: datetime) -> datetime:
        """`t` itself when open, else the start of the next open range."""
        return _datetime(self.next_open_posix(_seconds(t)))

    def open_intervals(self, a: datetime, b: datetime) -> Iterator[Interval]:
        """The open intervals clipped to `[a, b)`, in order."""
        ua, ub = _seconds(a), _seconds(b)
        if ub <= ua:
            return
        if self._full:
            yield _datetime(ua), _datetime(ub)
            return
        pending: tuple[int, int] | None = None
        t = self._table(ua)
        i = max(bisect_right(t.starts, ua) - 1, 0)
        while t.lo < ub:
            starts, ends = t.starts, t.ends
            n = len(starts)
            while i < n and starts[i] < ub:
                s, e = starts[i], ends[i]
                i += 1
                if e <= ua:
                    continue
                s, e = max(s, ua), min(e, ub)
                if pending is not None and pending[1] == s:
                    pending = (pending[0], e)
                    continue
                if pending is not None:
                    yield _datetime(pending[0]), _datetime(pending[1])
                pending = (s, e)
            if t.hi >= ub:
                break
            t = self.year_table(t.year + 1)
            i = 0
        if pending is not None:
            yield _datetime(pending[0]), _datetime(pending[1])

    # `elapsed` and `add` inline the common case (no pauses, both ends in the
    # cached year) to stay near a microsecond; the rest goes through *_posix.

    def elapsed(self, a: datetime, b: datetime, pauses: Sequence[Interval] = ()) -> int:
        """Business seconds in `[a, b)` outside `pauses` (0 when b <= a)."""
        try:
            da = a - _EPOCH
            db = b - _EPOCH
        except TypeError:
            raise _naive(a, b) from None
        ua = da.days * 86400 + da.seconds
        ub = db.days * 86400 + db.seconds
        if pauses:
            return self.elapsed_paused(ua, ub, [(_seconds(s), _seconds(e)) for s, e in pauses])
        t = self._last
        if t is None or not t.lo <= ua < t.hi or ub > t.hi or ub <= ua or self._full:
            return self.elapsed_posix(ua, ub)
        starts, ends, cum = t.starts, t.ends, t.cum
        i = bisect_right(starts, ub) - 1
        if i < 0:
            return 0
        e = ends[i]
        eb = cum[i] + (ub if ub < e else e) - starts[i]
        i = bisect_right(starts, ua) - 1
        if i < 0:
            return eb
        e = ends[i]
        return eb - cum[i] - (ua if ua < e else e) + starts[i]

    def add(self, t: datetime, seconds: int, pauses: Sequence[Interval] = ()) -> datetime:
        """The earliest instant at which `seconds` business time has elapsed since `t`."""
        try:
            d = t - _EPOCH
        except TypeError:
            raise _naive(t) from None
        u = d.days * 86400 + d.seconds
        if pauses:
            pairs = [(_seconds(s), _seconds(e)) for s, e in pauses]
            return _fromtimestamp(self.add_paused(u, seconds, pairs), UTC)
        y = self._last
        if y is None or not y.lo <= u < y.hi or seconds <= 0 or self._full:
            return _fromtimestamp(self.add_posix(u, seconds), UTC)
        starts, ends, cum = y.starts, y.ends, y.cum
        i = bisect_right(starts, u) - 1
        if i < 0:
            target = seconds
        else:
            e = ends[i]
            target = cum[i] + (u if u < e else e) - starts[i] + seconds
        if target > y.total:
            return _fromtimestamp(self.add_posix(u, seconds), UTC)
        i = bisect_left(cum, target) - 1
        return _fromtimestamp(starts[i] + target - cum[i], UTC)


def always() -> Calendar:
    """The built-in calendar `always`: 24×7 in UTC, no holidays."""
    return Calendar(CalendarSpec("always", "UTC", {d: ((0, 1440),) for d in range(7)}))
