"""Instants at the database edge: only naive UTC reaches Pony or SQL (stack.md 2.1)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

FAR_FUTURE = datetime(9999, 12, 31)  # naive: the sort key of "nothing due"


def to_db(t: datetime) -> datetime:
    """Aware → naive UTC, whole seconds; a naive value is a programming error here."""
    if t.utcoffset() is None:
        raise ValueError("naive datetime at the database edge")
    return t.astimezone(UTC).replace(tzinfo=None, microsecond=0)


def from_db(value: datetime | str) -> datetime:
    """A column value (datetime, or SQLite text) → aware UTC."""
    if isinstance(value, str):
        return _from_text(value)
    if value.tzinfo is not None:  # never written by us; normalise defensively
        return value.astimezone(UTC)
    return value.replace(tzinfo=UTC)


def opt_from_db(value: datetime | str | None) -> datetime | None:
    return None if value is None else from_db(value)


@lru_cache(maxsize=1 << 16)
def _from_text(value: str) -> datetime:
    """SQLite's text of an instant → aware UTC (cached: list reads repeat instants)."""
    t = datetime.fromisoformat(value)
    return t.astimezone(UTC) if t.tzinfo is not None else t.replace(tzinfo=UTC)
