"""The `DateTime` scalar: RFC 3339 with an offset in, UTC `…Z` out; naive input is rejected."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import strawberry

from slarules.store.times import rfc3339

_RFC3339 = re.compile(
    r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(?:\.\d+)?(?P<offset>[Zz]|[+-]\d\d:\d\d)?"
)


class InvalidInstant(ValueError):
    """A date-time input users can fix (shown to clients, never masked)."""


def parse_instant(value: Any) -> datetime:
    """An RFC 3339 string with an offset → aware UTC datetime, whole seconds."""
    if not isinstance(value, str):
        raise InvalidInstant("a date-time is an RFC 3339 string, e.g. 2026-03-02T09:30:00-03:00")
    m = _RFC3339.fullmatch(value.strip())
    if m is None:
        raise InvalidInstant(f"`{value}` is not an RFC 3339 date-time (e.g. 2026-03-02T09:30:00Z)")
    if m.group("offset") is None:
        raise InvalidInstant(
            f"`{value}` has no offset: naive date-times are rejected (add Z or ±HH:MM)"
        )
    text = value.strip().replace("z", "Z").replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInstant(f"`{value}` is not a valid date-time") from None
    return dt.astimezone(UTC).replace(microsecond=0)


def serialize_instant(value: Any) -> str:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError("DateTime output must be an aware datetime")
    return rfc3339(value)


DATETIME = strawberry.scalar(
    name="DateTime",
    description="RFC 3339 date-time with an offset; output in UTC (…Z). Naive values are rejected.",
    serialize=serialize_instant,
    parse_value=parse_instant,
)
SCALAR_MAP: dict[object, Any] = {datetime: DATETIME}
