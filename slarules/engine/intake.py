"""Ticket-history input: raw mappings → typed `TicketHistory` and `Event` values (pure).

The one intake of ticket input. The fixture loader, `recordTicket`,
`recordEvents` and `explain` map what they were sent to the raw shape below
and call these functions, so a fixture and the API judge the same input the
same way, with the same `InputError(code, message, key)`.

Raw shape (the fixture format's, fixtures.md):

    ticket: {"id": text, "created_at": instant, "created_by": "customer"|"agent",
             "fields": {name: JSON value}}
    event:  {"at": instant, "type": "message", "by": …, "public": bool, "text": …,
             "channel": …} | {"at", "type": "status", "status": text}
            | {"at", "type": "update", "set": {name: value}, "unset": [name]}

Keys name the fixture path (`ticket.priority`, `events[2].set.seats`).
Instants are RFC 3339 text (with an offset) or aware datetimes (TOML). Time
order (events before creation, `now` before creation) is the replay's to check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from slarules.engine.hints import did_you_mean
from slarules.engine.policy import Policy, fold, is_unset
from slarules.engine.ticket import READONLY_FIELDS, Author, Event, TicketHistory
from slarules.errors import InputError
from slarules.instants import InvalidInstant, in_supported_years, parse_rfc3339, rfc3339

__all__ = [
    "EVENT_KEYS",
    "event",
    "event_id",
    "history",
    "not_in_future",
    "parse_date",
    "parse_instant",
    "ticket",
    "validate_fields",
]

EVENT_KEYS: Mapping[str, tuple[str, ...]] = {
    "message": ("at", "type", "by", "public", "text", "channel"),
    "status": ("at", "type", "status"),
    "update": ("at", "type", "set", "unset"),
}
# Maintained by the engine from creation on: not given with a new ticket.
_NOT_IN_TICKET = frozenset({"updated_at", "last_message_by", "created_at"})
_NAIVE = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d+)?)?")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
MAX_TEXT = 100_000  # characters of one text value


def kind_of(value: object) -> str:
    """How a value reads to a user who wrote it in TOML or JSON."""
    if isinstance(value, str):
        return f"`{value}`" if len(value) <= 40 else "a text"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if value is None:
        return "null"
    return "a time of day" if hasattr(value, "hour") else "a value of another type"


def parse_instant(value: object, key: str) -> datetime:
    """An aware instant in whole seconds, from an aware datetime or RFC 3339 text."""
    if type(value) is datetime and value.tzinfo is not None and value.microsecond == 0:
        return _in_range(value, key)  # the common case, checked first: thousands per run
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise InputError(
                "naive-datetime",
                f"`{value.isoformat()}` has no offset; add one such as `Z` or `-03:00`",
                key,
            )
        return _in_range(value.replace(microsecond=0), key)
    if isinstance(value, str) and _NAIVE.fullmatch(value.strip()):
        raise InputError(
            "naive-datetime",
            f"`{value.strip()}` has no offset; add one such as `Z` or `-03:00`",
            key,
        )
    if not isinstance(value, str):
        raise InputError(
            "bad-value", f"expected a date-time with an offset, got {kind_of(value)}", key
        )
    try:
        return _in_range(parse_rfc3339(value), key)
    except InvalidInstant as e:
        raise InputError("bad-value", str(e), key) from None


def _in_range(value: datetime, key: str) -> datetime:
    """Instants of the supported years (`slarules.instants`: the one range of the project)."""
    try:
        return in_supported_years(value)
    except (InvalidInstant, OverflowError) as e:
        raise InputError("bad-value", str(e) or "the instant is out of range", key) from None


def parse_date(value: object, key: str) -> date:
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise InputError("bad-value", f"`{value}` is not a valid date", key) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise InputError("bad-value", f"expected a date (YYYY-MM-DD), got {kind_of(value)}", key)


def not_in_future(at: datetime, now: datetime, skew: float, key: str) -> None:
    """Refuse an instant more than `skew` seconds ahead of `now` (the server's clock)."""
    if at > now + timedelta(seconds=skew):
        raise InputError(
            "in-the-future",
            f"{rfc3339(at)} is in the future (the server's time is {rfc3339(now)}); "
            "send events when they happen",
            key,
        )


@lru_cache(maxsize=64)
def _folded(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(fold(n) for n in names)


def _text_value(value: object, name: str, key: str) -> str:
    if not isinstance(value, str):
        raise InputError("bad-value", f"`{name}` is text, got {kind_of(value)}", key)
    if len(value) > MAX_TEXT:
        raise InputError("bad-value", f"`{name}` is longer than {MAX_TEXT} characters", key)
    return value


def _field_value(policy: Policy, name: str, kind: str, value: Any, key: str) -> Any:
    if kind == "text":
        value = _text_value(value, name, key)
        if (
            name == "source"
            and policy.sources is not None
            and fold(value) not in _folded(policy.sources)
        ):
            raise InputError(
                "bad-value",
                f"`{value}` is not a source of the schema (one of {', '.join(policy.sources)})",
                key,
            )
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError("bad-value", f"`{name}` is a number, got {kind_of(value)}", key)
        if (isinstance(value, float) and value != value) or value in (float("inf"), float("-inf")):
            raise InputError("bad-value", f"`{name}` is a finite number", key)
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise InputError("bad-value", f"`{name}` is a bool, got {kind_of(value)}", key)
        return value
    if kind == "list":
        if not isinstance(value, list | tuple) or not all(isinstance(x, str) for x in value):
            raise InputError("bad-value", f"`{name}` is a list of text, got {kind_of(value)}", key)
        return tuple(_text_value(x, name, key) for x in value)
    if kind == "priority":
        if not isinstance(value, str) or fold(value) not in _folded(policy.priorities):
            shown = f"`{value}`" if isinstance(value, str) else kind_of(value)
            raise InputError(
                "bad-value",
                f"{shown} is not a priority of the schema (one of {', '.join(policy.priorities)})",
                key,
            )
        return value
    if kind == "date":
        return parse_date(value, key)
    if kind == "datetime":
        return parse_instant(value, key)
    raise InputError("bad-value", f"`{name}` has an unsupported type `{kind}`", key)


def _unknown_field(policy: Policy, name: str, key: str) -> InputError:
    hint = did_you_mean(name, policy.fields)
    return InputError(
        "bad-value",
        f"`{name}` is not a field of the ruleset's schema" + (f"; {hint}" if hint else ""),
        key,
    )


def validate_fields(policy: Policy, mapping: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Type-check ticket field values against the ruleset's schema; return them typed.

    Unset values (`None`, `""`, `[]`) are kept as they are (they mean unset).
    Raises InputError(`bad-value` or `naive-datetime`) keyed `WHERE.FIELD`.
    """
    out: dict[str, Any] = {}
    for name, value in mapping.items():
        key = f"{where}.{name}"
        kind = policy.fields.get(name)
        if kind is None:
            raise _unknown_field(policy, name, key)
        if is_unset(value):
            out[name] = () if isinstance(value, list) else value
            continue
        out[name] = _field_value(policy, name, kind, value, key)
    return out


# -- structure -------------------------------------------------------------------------


def _table(value: object, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError("bad-value", "expected a table (a JSON object)", key)
    return value


def _keys(table: Mapping[str, Any], allowed: Iterable[str], prefix: str) -> None:
    allowed = tuple(allowed)
    for k in table:
        if k not in allowed:
            hint = did_you_mean(str(k), allowed)
            raise InputError(
                "unknown-key",
                f"`{k}` is not a key here" + (f"; {hint}" if hint else ""),
                f"{prefix}{k}",
            )


def _required(table: Mapping[str, Any], name: str, prefix: str) -> Any:
    if name not in table:
        raise InputError("missing-key", f"`{name}` is required", f"{prefix}{name}")
    return table[name]


def _text(value: object, key: str, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise InputError("bad-value", "expected a non-empty text", key)
    if len(value) > MAX_TEXT:
        raise InputError("bad-value", f"the text is longer than {MAX_TEXT} characters", key)
    return value


def _author(value: object, key: str) -> Author:
    if value not in ("customer", "agent"):
        raise InputError("bad-value", "expected `customer` or `agent`", key)
    return value


def event_id(value: object, key: str) -> str:
    """An event's idempotency key (API input): a non-empty text."""
    return _text(value, key)


def ticket(policy: Policy, raw: object, key: str = "ticket") -> TicketHistory:
    """A new ticket (no events yet): id, creation instant and author, typed initial fields."""
    t = _table(raw, key)
    _keys(t, ("id", "created_at", "created_by", "fields"), f"{key}.")
    tid = _text(_required(t, "id", f"{key}."), f"{key}.id")
    created_at = parse_instant(_required(t, "created_at", f"{key}."), f"{key}.created_at")
    by = _author(t.get("created_by", "customer"), f"{key}.created_by")
    fields = _table(t.get("fields", {}), key)
    for name in fields:
        if name in _NOT_IN_TICKET:
            raise InputError("bad-value", f"`{name}` is maintained by the engine", f"{key}.{name}")
    typed = validate_fields(policy, fields, key)
    kept = {k: v for k, v in typed.items() if not is_unset(v)}
    return TicketHistory(tid, created_at, kept, (), by)


def event(policy: Policy, raw: object, key: str, eid: str | None = None) -> Event:
    """One event of the raw shape → an engine `Event` with typed field values."""
    e = _table(raw, key)
    at = parse_instant(_required(e, "at", f"{key}."), f"{key}.at")
    kind = _required(e, "type", f"{key}.")
    if not isinstance(kind, str) or kind not in EVENT_KEYS:
        shown = f"`{kind}`" if isinstance(kind, str) else "a non-text value"
        raise InputError(
            "unknown-event-type",
            f"{shown} is not an event type (message, status, update)",
            f"{key}.type",
        )
    _keys(e, EVENT_KEYS[kind], f"{key}.")
    if kind == "message":
        by = _author(_required(e, "by", f"{key}."), f"{key}.by")
        public = e.get("public", True)
        if not isinstance(public, bool):
            raise InputError("bad-value", "`public` is true or false", f"{key}.public")
        if by == "customer" and not public:
            raise InputError("bad-value", "a customer message cannot be private", f"{key}.public")
        text = _text(e["text"], f"{key}.text", empty=True) if e.get("text") is not None else None
        channel = _text(e["channel"], f"{key}.channel") if e.get("channel") is not None else None
        return Event(at, "message", by=by, public=public, text=text, channel=channel, event_id=eid)
    if kind == "status":
        status = _text(_required(e, "status", f"{key}."), f"{key}.status")
        return Event(at, "status", status=status, event_id=eid)
    return _update(policy, e, at, key, eid)


def _update(policy: Policy, e: Mapping[str, Any], at: datetime, key: str, eid: str | None) -> Event:
    raw_set = _table(e.get("set") or {}, f"{key}.set")
    unset = e.get("unset") or []
    if not isinstance(unset, list | tuple) or not all(isinstance(n, str) for n in unset):
        raise InputError("bad-value", "`unset` is a list of field names", f"{key}.unset")
    if not raw_set and not unset:
        raise InputError("missing-key", "an update needs `set` or `unset`", f"{key}.set")
    for name in [*raw_set, *unset]:
        where = f"{key}.set.{name}" if name in raw_set else f"{key}.unset"
        if name in READONLY_FIELDS:
            raise InputError("bad-value", f"`{name}` cannot be set: the engine maintains it", where)
        if name in raw_set and name in unset:
            raise InputError("bad-value", f"`{name}` is both set and unset", f"{key}.unset")
        if name not in policy.fields:
            raise _unknown_field(policy, name, where)
    typed = validate_fields(policy, raw_set, f"{key}.set")
    return Event(at, "update", set=typed, unset=tuple(unset), event_id=eid)


def history(
    policy: Policy, raw_ticket: object, raw_events: object, key: str = "events"
) -> TicketHistory:
    """A whole history (fixtures, `explain`): the ticket and its events in given order."""
    t = ticket(policy, raw_ticket)
    if not isinstance(raw_events, list | tuple):
        raise InputError("bad-value", "`events` is an array of tables", key)
    events = tuple(event(policy, raw, f"{key}[{i}]") for i, raw in enumerate(raw_events))
    return TicketHistory(t.id, t.created_at, t.fields, events, t.created_by)
