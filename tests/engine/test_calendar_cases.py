"""Hand-computed business-time cases: tests/cases/calendar/*.toml, one calendar per file.

File format::

    [calendar]                      # timezone required; hours: day spec -> "HH:MM-HH:MM, ..."
    timezone = "Europe/Berlin"
    hours = { "mon-fri" = "09:00-12:00, 13:00-18:00", "sat" = "09:00-13:00" }
    holidays = [["DE", "BE"]]       # [country, subdivision] ("" = none)
    closed = [2026-12-24]

    [[case]]                        # a comment above each case shows the hand computation
    op = "add"                      # add | elapsed | is_open | next_open | open_intervals
    a = 2026-03-06T17:00:00+01:00   # TOML offset datetimes
    d = "2h"                        # add: duration ("1h30m", "45s") or int seconds
    b = 2026-03-09T10:00:00+01:00   # elapsed, open_intervals
    pauses = [[start, end], ...]    # optional (add, elapsed)
    expect = ...                    # datetime | duration | bool | [[start, end], ...]
    error = "ValueError"            # instead of expect
"""

from __future__ import annotations

import re
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from slarules.engine.calendar import Calendar, CalendarSpec

CASES = Path(__file__).resolve().parents[1] / "cases" / "calendar"
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def _seconds(v: Any) -> int:
    if isinstance(v, int):
        return v
    m = _DURATION.fullmatch(v)
    assert m and v, f"bad duration {v!r}"
    d, h, mi, s = (int(g or 0) for g in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def _minute(hhmm: str) -> int:
    h, m = hhmm.strip().split(":")
    return int(h) * 60 + int(m)


def _spec(name: str, data: dict[str, Any]) -> CalendarSpec:
    hours: dict[int, list[tuple[int, int]]] = {}
    for days, ranges in data.get("hours", {}).items():
        for part in days.split(","):
            lo, _, hi = part.strip().partition("-")
            for d in range(DAYS.index(lo), DAYS.index(hi or lo) + 1):
                for r in ranges.split(","):
                    s, e = r.split("-")
                    hours.setdefault(d, []).append((_minute(s), _minute(e)))
    return CalendarSpec(
        name,
        data["timezone"],
        {d: tuple(sorted(rs)) for d, rs in hours.items()},
        tuple((c, s or None) for c, s in data.get("holidays", [])),
        frozenset(data.get("closed", [])),
    )


def _load() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("*.toml")):
        data = tomllib.loads(path.read_text())
        spec = _spec(path.stem, data["calendar"])
        for i, case in enumerate(data["case"]):
            params.append(pytest.param(spec, case, id=f"{path.stem}-{i}-{case['op']}"))
    return params


def _pauses(case: dict[str, Any]) -> list[tuple[datetime, datetime]]:
    return [(s, e) for s, e in case.get("pauses", [])]


def _run(cal: Calendar, case: dict[str, Any]) -> Any:
    op, a = case["op"], case["a"]
    if op == "add":
        return cal.add(a, _seconds(case["d"]), _pauses(case))
    if op == "elapsed":
        return cal.elapsed(a, case["b"], _pauses(case))
    if op == "is_open":
        return cal.is_open(a)
    if op == "next_open":
        return cal.next_open(a)
    if op == "open_intervals":
        return [list(iv) for iv in cal.open_intervals(a, case["b"])]
    raise AssertionError(f"unknown op {op!r}")


@pytest.mark.parametrize(("spec", "case"), _load())
def test_case(spec: CalendarSpec, case: dict[str, Any]) -> None:
    cal = Calendar(spec)
    if "error" in case:
        with pytest.raises(ValueError):
            _run(cal, case)
        return
    got = _run(cal, case)
    expect = case["expect"]
    if case["op"] == "elapsed":
        expect = _seconds(expect)
    assert got == expect
    if case["op"] in ("add", "next_open"):
        assert got.utcoffset().total_seconds() == 0  # outputs are UTC-aware


def test_every_file_has_cases() -> None:
    files = sorted(CASES.glob("*.toml"))
    assert len(files) >= 5
    for path in files:
        assert tomllib.loads(path.read_text())["case"], path
