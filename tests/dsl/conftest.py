"""Shared fixtures for the DSL tests: a stand-in Calendar while the real one is a stub."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from slarules.engine.calendar import Calendar, CalendarSpec


class FakeCalendar:
    """Open hours only (no holidays): enough for `during` in DSL tests."""

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.zone = ZoneInfo(spec.timezone)

    def is_open(self, t: datetime) -> bool:
        local = t.astimezone(self.zone)
        if local.date() in self.spec.closed:
            return False
        minute = local.hour * 60 + local.minute
        return any(s <= minute < e for s, e in self.spec.hours.get(local.weekday(), ()))


def _real_calendar_works() -> bool:
    try:
        Calendar(CalendarSpec("x", "UTC", {0: ((0, 60),)}))
    except NotImplementedError:
        return False
    return True


@pytest.fixture(autouse=True)
def _calendar(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not _real_calendar_works():
        monkeypatch.setattr("slarules.dsl.compiler.Calendar", FakeCalendar)
    yield
