"""Size and character limits on GraphQL input text (documented in the README).

Ids are at most `SLA_MAX_ID_LENGTH` characters; requester, department and assignee at most
`SLA_MAX_KEY_BYTES` UTF-8 bytes (they are indexed: PostgreSQL refuses index rows over
2,704 bytes); any other text at most `SLA_MAX_TEXT_BYTES`. No text may hold NUL or a lone
surrogate (neither can be stored), and no number may be NaN or infinite.
"""

from __future__ import annotations

import math
from typing import Any

from slarules.errors import BAD_USER_INPUT, ServiceError
from slarules.settings import Settings

KEYS = ("requester", "department", "assignee")
MAX_DEPTH = 32  # nesting of a JSON value in `fields` / `set`


def _bad(key: str, why: str, reason: str) -> ServiceError:
    return ServiceError(BAD_USER_INPUT, f"`{key}` {why}", key=key, reason=reason)


MAX_CURSOR = 200  # characters of a list cursor (the store's are about 60)


def check_cursor(after: str | None) -> None:
    if after is not None and len(after) > MAX_CURSOR:
        raise _bad("after", f"is longer than {MAX_CURSOR} characters: not a cursor", "bad-value")


def check_chars(text: str, key: str) -> None:
    if "\x00" in text:
        raise _bad(key, "contains NUL (U+0000), which cannot be stored", "bad-character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad(key, "contains a lone surrogate (not valid Unicode)", "bad-character") from None


def check_id(settings: Settings, value: object, key: str) -> None:
    text = str(value)
    if len(text) > settings.max_id_length:
        raise _bad(
            key,
            f"is {len(text)} characters, over the limit of {settings.max_id_length} "
            "(SLA_MAX_ID_LENGTH)",
            "too-long",
        )
    check_chars(text, key)


def check_value(settings: Settings, value: Any, key: str, depth: int = 0) -> None:
    """A JSON value of `fields` or `set` (recursively)."""
    if depth > MAX_DEPTH:
        raise _bad(key, f"nests deeper than {MAX_DEPTH} levels", "too-deep")
    if isinstance(value, str):
        check_chars(value, key)
        limit, name = (
            (settings.max_key_bytes, "SLA_MAX_KEY_BYTES")
            if key.rsplit(".", 1)[-1] in KEYS
            else (settings.max_text_bytes, "SLA_MAX_TEXT_BYTES")
        )
        size = len(value.encode("utf-8"))
        if size > limit:
            raise _bad(key, f"is {size} bytes, over the limit of {limit} ({name})", "too-long")
    elif isinstance(value, float) and not math.isfinite(value):
        raise _bad(key, "is not a finite number (NaN and Infinity are refused)", "bad-value")
    elif isinstance(value, dict):
        for k, v in value.items():
            check_chars(str(k), key)
            check_value(settings, v, f"{key}.{k}", depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_value(settings, v, f"{key}[{i}]", depth + 1)


def check_ticket(settings: Settings, t: Any, key: str = "input") -> None:
    check_id(settings, t.id, f"{key}.id")
    check_value(settings, t.fields, f"{key}.fields")


def check_event(settings: Settings, e: Any, key: str) -> None:
    for name in ("event_id", "ticket_id"):
        if getattr(e, name, None) is not None:
            check_id(settings, getattr(e, name), f"{key}.{name}")
    if e.message is not None:
        for name in ("text", "channel"):
            v = getattr(e.message, name)
            if v is not None:
                check_value(settings, v, f"{key}.message.{name}")
    if e.status is not None:
        check_value(settings, e.status, f"{key}.status")
    if e.update is not None:
        if e.update.set is not None:
            check_value(settings, e.update.set, f"{key}.update.set")
        for i, name in enumerate(e.update.unset or ()):
            check_value(settings, name, f"{key}.update.unset[{i}]")
