"""The `DateTime` scalar: RFC 3339 with an offset in, UTC `…Z` out; naive input is rejected."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry

from slarules.instants import InvalidInstant, in_supported_years, parse_rfc3339, rfc3339

__all__ = ["DATETIME", "SCALAR_MAP", "InvalidInstant", "in_supported_years", "parse_instant"]


def parse_instant(value: Any) -> datetime:
    return in_supported_years(parse_rfc3339(value))


# the text of instants already shown (a list page prints hundreds, most of them again on
# the next page read: stored cycles' instants); emptied when full
_SHOWN: dict[datetime, str] = {}
_SHOWN_MAX = 1 << 16


def serialize_instant(value: Any) -> str:
    if type(value) is datetime and value.tzinfo is UTC and not value.microsecond:
        # what rfc3339 prints for an instant already in UTC, whole seconds (the engine's
        # and the store's instants): without its conversions. Keys are UTC instants only,
        # so an equal key has the same text.
        text = _SHOWN.get(value)
        if text is None:
            if len(_SHOWN) >= _SHOWN_MAX:
                _SHOWN.clear()
            text = _SHOWN[value] = value.isoformat().replace("+00:00", "Z")
        return text
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
