"""The project's only clock read: an injectable `Clock` so tests can freeze time.

The engine never reads the clock (`now` is an argument); the service asks a
`Clock` once per request and passes the instant down.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant: aware, UTC, whole seconds."""
        ...


class SystemClock:
    """The wall clock (the only `datetime.now` in slarules)."""

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    def precise_now(self) -> datetime:
        """With microseconds: how long to sleep until an instant (the alert scheduler)."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock for tests: stands still until `set` or `advance`."""

    def __init__(self, at: datetime) -> None:
        self.set(at)

    def set(self, at: datetime) -> None:
        if at.utcoffset() is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._at = at.astimezone(UTC).replace(microsecond=0)

    def advance(self, seconds: float = 0, **kw: float) -> datetime:
        self._at += timedelta(seconds=seconds, **kw)
        return self._at

    def now(self) -> datetime:
        return self._at
