"""Reading load files into items in the GraphQL input shape (docs/loading.md).

A fixture file (TOML or JSON, fixtures.md) gives one `TicketInput` and its
events as `EventInput`s (event ids `<file stem>#<n>`, n from 1 in file
order, so loading the same file again sends the same ids). A JSON Lines
file (`.jsonl`, `.ndjson`) gives one item a line: an object with `eventId`
is an `EventInput`, any other a `TicketInput`. Nothing here checks a value
against the ruleset: the server does, and its answer is the error reported.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from slarules.fixtures.loader import EVENT_KEYS

JSONL_SUFFIXES = (".jsonl", ".ndjson")
FIXTURE_SUFFIXES = (".toml", ".json")
TICKET_KEYS = ("id", "createdAt", "fields")  # required in a TicketInput line
EVENT_REQUIRED = ("eventId", "ticketId", "at")


@dataclass(frozen=True, slots=True)
class Item:
    """One ticket or event to send: `data` is the GraphQL input object (camelCase)."""

    kind: Literal["ticket", "event"]
    data: dict[str, Any]
    where: str  # FILE:LINE
    key: str  # the ticket id, or `ticket id/event id`

    @property
    def ticket_id(self) -> str:
        return str(self.data["ticketId"] if self.kind == "event" else self.data["id"])


@dataclass(frozen=True, slots=True)
class LoadError:
    """One line that was not loaded: where, a stable code, a one-line message, the key."""

    where: str
    code: str
    message: str
    key: str | None = None

    def render(self) -> str:
        at = f" ({self.key})" if self.key else ""
        return f"{self.where}: {self.code}: {self.message}{at}"


def find_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files named, and the load files under directories (recursively), sorted.

    Raises FileNotFoundError for a path that does not exist.
    """
    out: dict[str, Path] = {}
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix in (*FIXTURE_SUFFIXES, *JSONL_SUFFIXES):
                    out.setdefault(str(f), f)
        elif p.is_file():
            out.setdefault(str(p), p)
        else:
            raise FileNotFoundError(str(p))
    return [out[k] for k in sorted(out)]


def read_items(path: Path, shift: timedelta | None = None) -> Iterator[Item | LoadError]:
    """The items of one file in order (errors in place of lines that cannot be read)."""
    if path.suffix in JSONL_SUFFIXES:
        yield from _jsonl(path)
    else:
        yield from fixture_items(path, shift)


def count_items(path: Path) -> int:
    """How many items a file holds, about (for the progress bar's total)."""
    try:
        if path.suffix in JSONL_SUFFIXES:
            with path.open("rb") as f:
                return sum(1 for line in f if line.strip())
        text = path.read_text("utf-8")
        doc = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        events = doc.get("events") if isinstance(doc, dict) else None
        return 1 + (len(events) if isinstance(events, list) else 0)
    except (OSError, UnicodeDecodeError, ValueError):
        return 1


# -- JSON Lines --------------------------------------------------------------------------


def _jsonl(path: Path) -> Iterator[Item | LoadError]:
    try:
        f = path.open("r", encoding="utf-8")
    except OSError as e:
        yield LoadError(f"{path}:1", "bad-file", f"cannot read the file: {e.strerror or e}")
        return
    with f:
        for n, line in enumerate(f, start=1):
            where = f"{path}:{n}"
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                yield LoadError(where, "bad-json", f"not valid JSON: {e}")
                continue
            yield _line_item(obj, where)


def _line_item(obj: object, where: str) -> Item | LoadError:
    if not isinstance(obj, dict):
        return LoadError(where, "bad-value", "a line is one JSON object")
    kind: Literal["ticket", "event"] = "event" if "eventId" in obj else "ticket"
    required = EVENT_REQUIRED if kind == "event" else TICKET_KEYS
    for name in required:
        value = obj.get(name)
        if value is None or (name != "fields" and not isinstance(value, str | int)):
            what = "an event" if kind == "event" else "a ticket"
            return LoadError(where, "missing-key", f"{what} needs `{name}`", name)
    if kind == "event":
        obj["eventId"], obj["ticketId"] = str(obj["eventId"]), str(obj["ticketId"])
        return Item("event", obj, where, f"{obj['ticketId']}/{obj['eventId']}")
    obj["id"] = str(obj["id"])
    return Item("ticket", obj, where, obj["id"])


# -- fixture files -----------------------------------------------------------------------


def fixture_items(
    path: Path, shift: timedelta | None = None, doc: Mapping[str, Any] | None = None
) -> Iterator[Item | LoadError]:
    """A fixture's ticket and events as items; `expect`, `name` and `now` are not sent.

    `shift` moves every instant (the demo makes old fixtures current with it).
    """
    shown = str(path)
    try:
        text = path.read_text("utf-8")
        if doc is None:
            doc = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        yield LoadError(f"{shown}:1", "bad-file", f"cannot read the fixture: {_one_line(e)}")
        return
    lines = _toml_lines(text) if path.suffix != ".json" else {}
    ticket = doc.get("ticket") if isinstance(doc, dict) else None
    if not isinstance(ticket, dict) or "created_at" not in ticket:
        where = f"{shown}:{lines.get('ticket', 1)}"
        yield LoadError(where, "missing-key", "a fixture needs `[ticket]` with `created_at`")
        return
    tid = str(ticket.get("id", path.stem))
    move = shift or timedelta(0)
    fields = {
        k: _json_value(v, move)
        for k, v in ticket.items()
        if k not in ("id", "created_at", "created_by")
    }
    data: dict[str, Any] = {
        "id": tid,
        "createdAt": _json_value(ticket["created_at"], move),
        "fields": fields,
    }
    if "created_by" in ticket:
        data["createdBy"] = str(ticket["created_by"]).upper()
    yield Item("ticket", data, f"{shown}:{lines.get('ticket', 1)}", tid)
    events = doc.get("events", [])
    for i, raw in enumerate(events if isinstance(events, list) else []):
        where = f"{shown}:{lines.get(f'events[{i}]', 1)}"
        eid = f"{path.stem}#{i + 1}"
        got = _fixture_event(raw, tid, eid, move)
        if isinstance(got, str):
            yield LoadError(where, "bad-value", got, f"events[{i}]")
        else:
            yield Item("event", got, where, f"{tid}/{eid}")


def _fixture_event(raw: object, tid: str, eid: str, move: timedelta) -> dict[str, Any] | str:
    if not isinstance(raw, dict) or "at" not in raw:
        return "an event is a table with `at` and `type`"
    kind = raw.get("type")
    if kind not in EVENT_KEYS:
        return f"`{kind}` is not an event type (message, status, update)"
    out: dict[str, Any] = {"eventId": eid, "ticketId": tid, "at": _json_value(raw["at"], move)}
    if kind == "message":
        msg: dict[str, Any] = {"by": str(raw.get("by", "")).upper()}
        for k in ("public", "text", "channel"):
            if k in raw:
                msg[k] = raw[k]
        out["message"] = msg
    elif kind == "status":
        out["status"] = raw.get("status")
    else:
        update: dict[str, Any] = {}
        if "set" in raw:
            update["set"] = _json_value(raw["set"], move)
        if "unset" in raw:
            update["unset"] = raw["unset"]
        out["update"] = update
    return out


def _json_value(value: Any, move: timedelta) -> Any:
    """TOML values as JSON: instants RFC 3339 (shifted), dates `YYYY-MM-DD`."""
    if isinstance(value, datetime):
        return (value + move).isoformat() if value.utcoffset() is not None else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_value(v, move) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v, move) for v in value]
    if isinstance(value, str) and move and _RFC3339.match(value):
        try:  # JSON fixtures write instants as text
            return (datetime.fromisoformat(value) + move).isoformat()
        except ValueError:
            return value
    return value


_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")
_HEADER = re.compile(r"^\s*\[(\[)?\s*([A-Za-z_]+)\s*\]")


def _toml_lines(text: str) -> dict[str, int]:
    """Line numbers of `[ticket]` and of each `[[events]]` header (for error lines)."""
    out: dict[str, int] = {}
    events = 0
    for n, line in enumerate(text.splitlines(), start=1):
        m = _HEADER.match(line)
        if not m:
            continue
        if m.group(2) == "ticket" and not m.group(1):
            out.setdefault("ticket", n)
        elif m.group(2) == "events" and m.group(1):
            out[f"events[{events}]"] = n
            events += 1
    return out


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
