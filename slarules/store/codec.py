"""Typed ticket field values and event payloads ⇄ JSON.

Stored JSON keeps the Python type of every field value (`{"$date": …}`,
`{"$datetime": …}`) so loading a ticket needs no policy; `to_public` gives
the API's JSON (dates `YYYY-MM-DD`, date-times RFC 3339).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from slarules.engine.ticket import Event
from slarules.instants import parse_rfc3339, rfc3339


def encode_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return {"$datetime": rfc3339(v)}
    if isinstance(v, date):
        return {"$date": v.isoformat()}
    if isinstance(v, tuple | list):
        return [encode_value(x) for x in v]
    return v


@lru_cache(maxsize=1 << 16)  # cached: reads repeat them (a datetime is immutable)
def stored_instant(text: str) -> datetime:
    """An instant of stored JSON, as `rfc3339` wrote it (`YYYY-MM-DDTHH:MM:SSZ`: read by
    `datetime.fromisoformat`, which gives the same aware UTC value); others parsed."""
    if len(text) == 20 and text[10] == "T" and text[19] == "Z" and text[:4].isdigit():
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass  # parse_rfc3339 says what is wrong
    return parse_rfc3339(text)


# the JSON values that decode as themselves (the common case: checked first)
_PLAIN = frozenset({str, int, float, bool, type(None)})


def decode_value(v: Any) -> Any:
    if type(v) in _PLAIN:
        return v
    if isinstance(v, dict):
        if "$datetime" in v:
            text = v["$datetime"]
            return stored_instant(text) if type(text) is str else parse_rfc3339(text)
        if "$date" in v:
            return date.fromisoformat(v["$date"])
        return {k: decode_value(x) for k, x in v.items()}
    if isinstance(v, list):
        return tuple(decode_value(x) for x in v)
    return v


def encode_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: encode_value(v) for k, v in fields.items()}


def decode_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    plain = _PLAIN
    return {k: v if type(v) in plain else decode_value(v) for k, v in data.items()}


def to_public(v: Any) -> Any:
    """A typed value as the API's JSON."""
    if isinstance(v, datetime):
        return rfc3339(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, tuple | list):
        return [to_public(x) for x in v]
    if isinstance(v, Mapping):
        return {k: to_public(x) for k, x in v.items()}
    return v


def event_payload(e: Event) -> dict[str, Any]:
    """The stored (typed-JSON) payload of an event; equal payloads mean the same event."""
    if e.type == "message":
        return {"by": e.by, "public": e.public, "text": e.text, "channel": e.channel}
    if e.type == "status":
        return {"status": e.status}
    return {"set": encode_fields(e.set), "unset": list(e.unset)}


def event_from_row(event_id: str, at: datetime, type_: str, payload: Mapping[str, Any]) -> Event:
    if type_ == "message":
        return Event(
            at=at,
            type="message",
            by=payload["by"],
            public=payload["public"],
            text=payload.get("text"),
            channel=payload.get("channel"),
            event_id=event_id,
        )
    if type_ == "status":
        return Event(at=at, type="status", status=payload["status"], event_id=event_id)
    return Event(
        at=at,
        type="update",
        set=decode_fields(payload.get("set", {})),
        unset=tuple(payload.get("unset", ())),
        event_id=event_id,
    )


def public_payload(type_: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A stored payload as the API's JSON."""
    if type_ == "update":
        return {
            "set": to_public(decode_fields(payload.get("set", {}))),
            "unset": list(payload.get("unset", ())),
        }
    return {k: v for k, v in payload.items() if v is not None}
