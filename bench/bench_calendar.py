"""Business-time arithmetic: slarules' Calendar next to businesstimedelta and pandas.

Calendar: Mon–Fri 09:00–12:00, 13:00–18:00, America/Sao_Paulo, BR-SP public holidays.
Prints µs per call of `add` and `elapsed` for 1h, 8h, 40h and 400h, the ratio of each
library to ours (same process, same start instants), whether the answers agree, and
the time to build one calendar year. Run: `python bench/bench_calendar.py`
(`pip install businesstimedelta pandas` for the baselines: the `bench` extra).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import holidays

from slarules.engine.calendar import Calendar, CalendarSpec

ZONE = "America/Sao_Paulo"
TZ = ZoneInfo(ZONE)
HOURS = {d: ((9 * 60, 12 * 60), (13 * 60, 18 * 60)) for d in range(5)}
SPEC = CalendarSpec("business", ZONE, HOURS, (("BR", "SP"),))
DURATIONS = (1, 8, 40, 400)
# Start instants spread over working hours of a few weeks (some before opening,
# some at lunch, some on a weekend).
STARTS = [
    datetime(2026, 3, 2, 8, 0, tzinfo=TZ) + timedelta(days=k, hours=k % 11, minutes=7 * k)
    for k in range(40)
]


def per_call(fn: Callable[[Any], Any], args: list[Any], budget: float = 0.3) -> float:
    """µs per call of fn over `args`, repeated until `budget` seconds are used."""
    n, elapsed = 0, 0.0
    while elapsed < budget:
        t0 = time.perf_counter()
        for a in args:
            fn(a)
        elapsed += time.perf_counter() - t0
        n += len(args)
    return elapsed / n * 1e6


def _ours() -> tuple[Calendar, dict[str, Callable[..., Any]]]:
    cal = Calendar(SPEC)
    return cal, {
        "add": lambda t, h: cal.add(t, h * 3600),
        "elapsed": lambda a, b: cal.elapsed(a, b),
    }


def _businesstimedelta() -> dict[str, Callable[..., Any]] | str:
    try:
        import businesstimedelta as btd
        import pytz
    except ImportError:
        return "not installed"
    tz = pytz.timezone(ZONE)
    rules = btd.Rules(
        [
            btd.WorkDayRule(
                start_time=datetime.min.time().replace(hour=9),
                end_time=datetime.min.time().replace(hour=18),
                working_days=[0, 1, 2, 3, 4],
                tz=tz,
            ),
            btd.LunchTimeRule(
                start_time=datetime.min.time().replace(hour=12),
                end_time=datetime.min.time().replace(hour=13),
                working_days=[0, 1, 2, 3, 4],
                tz=tz,
            ),
            btd.HolidayRule(
                holidays.country_holidays("BR", subdiv="SP", years=range(2025, 2029)), tz=tz
            ),
        ]
    )
    return {
        "add": lambda t, h: t + btd.BusinessTimeDelta(rules, hours=h),
        "elapsed": lambda a, b: int(rules.difference(a, b).timedelta.total_seconds()),
    }


def _pandas() -> dict[str, Callable[..., Any]] | str:
    try:
        import pandas as pd
    except ImportError:
        return "not installed"
    hol = sorted(holidays.country_holidays("BR", subdiv="SP", years=range(2025, 2029)))
    cbh = pd.offsets.CustomBusinessHour(
        start=["09:00", "13:00"],
        end=["12:00", "18:00"],
        weekmask="Mon Tue Wed Thu Fri",
        holidays=hol,
    )
    offsets = {h: cbh * h for h in DURATIONS}
    # CustomBusinessHour counts wall-clock hours; São Paulo has no DST since 2019,
    # so on this calendar it expresses the same thing. It has no business-time
    # difference, so only `add` is compared.
    return {"add": lambda t, h: (pd.Timestamp(t) + offsets[h]).to_pydatetime()}


def main() -> None:
    cal, ours = _ours()
    baselines = {"businesstimedelta": _businesstimedelta(), "pandas CBH": _pandas()}
    for name, lib in baselines.items():
        if isinstance(lib, str):
            print(f"{name}: {lib}")
    for fn in ours.values():  # warm the year tables and holiday caches
        fn(STARTS[0], 1) if fn is ours["add"] else fn(STARTS[0], STARTS[1])

    print(f"\n{'op':8} {'dur':>5} {'slarules µs':>12}", end="")
    live = {n: lib for n, lib in baselines.items() if not isinstance(lib, str)}
    for name in live:
        print(f" {name + ' µs':>22} {'ratio':>7} {'agree':>7}", end="")
    print()
    for op in ("add", "elapsed"):
        for h in DURATIONS:
            if op == "add":
                args: list[Any] = [(t, h) for t in STARTS]
            else:
                args = [(t, cal.add(t, h * 3600)) for t in STARTS]
            ours_us = per_call(lambda a, f=ours[op]: f(*a), args)
            expected = [ours[op](*a) for a in args]
            print(f"{op:8} {str(h) + 'h':>5} {ours_us:12.2f}", end="")
            for lib in live.values():
                fn = lib.get(op)
                if fn is None:
                    print(f" {'n/a':>22} {'':>7} {'':>7}", end="")
                    continue
                sub = args[:10] if h >= 40 else args
                us = per_call(lambda a, f=fn: f(*a), sub, budget=0.5)
                got = [fn(*a) for a in sub]
                same = sum(g == e for g, e in zip(got, expected, strict=False))
                # Differs only by closed time: the next opening instead of a window end.
                equiv = sum(
                    g == e or (op == "add" and cal.elapsed(e, g) == 0 and g > e)
                    for g, e in zip(got, expected, strict=False)
                )
                agree = f"{same}/{len(sub)}" if same == equiv else f"{same}+{equiv - same}*"
                print(f" {us:22.2f} {us / ours_us:6.0f}× {agree:>7}", end="")
            print()

    print(
        "agree: answers equal to ours / compared; a+b* = a equal, b the next opening after"
        " our window end (pandas rolls a due time at closing forward; we return the end)"
    )

    # Building a calendar year: tables only (holidays cached) and cold holidays.
    rounds = 20
    t0 = time.perf_counter()
    for _ in range(rounds):
        Calendar(SPEC).year_table(2027)
    tables_ms = (time.perf_counter() - t0) / rounds * 1e3
    fresh = CalendarSpec("fresh", "Europe/Berlin", HOURS, (("DE", "BY"),))
    t0 = time.perf_counter()
    Calendar(fresh).year_table(2031)
    cold_ms = (time.perf_counter() - t0) * 1e3
    print(
        f"\nbuild one year: {tables_ms:.2f} ms (holidays cached), "
        f"{cold_ms:.2f} ms with a first holidays-package lookup (DE-BY 2031)"
    )


if __name__ == "__main__":
    main()
