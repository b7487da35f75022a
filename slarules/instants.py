"""Instants as text: the one RFC 3339 parse and the one format of the project.

Every edge (GraphQL scalar, HTTP query strings, CSV, webhook bodies, stored
JSON, cursors) and the core's reports use these two functions, so an instant
reads and prints the same everywhere: aware in, `…Z` UTC whole seconds out.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = ["InvalidInstant", "in_supported_years", "parse_rfc3339", "rfc3339"]

_RFC3339 = re.compile(
    r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?P<offset>[Zz]|[+-]\d\d:\d\d)?"
)


class InvalidInstant(ValueError):
    """A date-time text users can fix (its message is one clear line)."""


def parse_rfc3339(text: object) -> datetime:
    """An RFC 3339 date-time with an offset → aware UTC datetime, whole seconds.

    Seconds may be left out (`2026-03-02T09:30Z`); a naive text is rejected."""
    if not isinstance(text, str):
        raise InvalidInstant("a date-time is an RFC 3339 text, e.g. 2026-03-02T09:30:00-03:00")
    value = text.strip()
    m = _RFC3339.fullmatch(value)
    if m is None:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise InvalidInstant(f"`{shown}` is not an RFC 3339 date-time (e.g. 2026-03-02T09:30:00Z)")
    if m.group("offset") is None:
        raise InvalidInstant(
            f"`{value}` has no offset: naive date-times are rejected (add Z or ±HH:MM)"
        )
    try:
        dt = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
        return dt.astimezone(UTC).replace(microsecond=0)
    except (ValueError, OverflowError):
        raise InvalidInstant(f"`{value}` is not a valid date-time") from None


def rfc3339(t: datetime) -> str:
    """An aware instant as RFC 3339 UTC with `Z`, whole seconds."""
    if t.utcoffset() is None:
        raise ValueError("rfc3339() needs an aware datetime")
    return t.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# Instants the calendars answer for (their tables cover years 2-9998; holiday data and
# the business-time searches are meant for these): anything else is BAD_USER_INPUT.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def in_supported_years(value: datetime, what: str = "a date-time") -> datetime:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise InvalidInstant(
            f"{what} `{rfc3339(value)}` is outside the supported years {FIRST_YEAR}-{LAST_YEAR}"
        )
    return value
