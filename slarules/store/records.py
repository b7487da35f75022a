"""What the service records and returns: input DTOs, ticket views, service errors.

Inputs arrive as plain JSON-ish values (from GraphQL); `parse_event` turns
one into an engine `Event` with typed field values (via
`fixtures.validate_fields`). Views are plain engine objects: no entity ever
leaves a `db_session`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from slarules.engine.measurement import Cycle, Evaluation, Measurement
from slarules.engine.policy import Policy
from slarules.engine.ticket import READONLY_FIELDS, Author, Event, TicketHistory
from slarules.errors import SlaError

Measure = Callable[[Policy, TicketHistory, datetime], Measurement]
ValidateFields = Callable[[Policy, Mapping[str, Any], str], dict[str, Any]]

# extensions.code values of expected failures
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
BAD_USER_INPUT = "BAD_USER_INPUT"
EVENT_CONFLICT = "EVENT_CONFLICT"
TICKET_EXISTS = "TICKET_EXISTS"
INVALID_RULES = "INVALID_RULES"


class ServiceError(SlaError):
    """An expected failure of a request: a GraphQL error with `extensions.code`."""

    def __init__(self, code: str, message: str, **extensions: Any) -> None:
        self.code = code
        self.message = message
        self.extensions = {"code": code, **extensions}
        super().__init__(message)


def bad_input(e: Exception, where: str | None = None) -> ServiceError:
    """An engine/fixtures input error as BAD_USER_INPUT (its code kept as `reason`)."""
    reason = getattr(e, "code", None)
    key = getattr(e, "key", None) or where
    message = getattr(e, "message", None) or str(e)
    ext: dict[str, Any] = {}
    if reason:
        ext["reason"] = reason
    if key:
        ext["key"] = key
    return ServiceError(BAD_USER_INPUT, str(message), **ext)


@dataclass(frozen=True, slots=True)
class TicketInput:
    id: str
    created_at: datetime  # aware
    fields: Mapping[str, Any]  # raw JSON values
    created_by: str = "customer"


@dataclass(frozen=True, slots=True)
class EventInput:
    event_id: str
    ticket_id: str
    at: datetime  # aware
    message: Mapping[str, Any] | None = None  # {by, public, text, channel}
    status: str | None = None
    update: Mapping[str, Any] | None = None  # {set, unset}


@dataclass(frozen=True, slots=True)
class EventView:
    event_id: str | None
    at: datetime
    type: str
    payload: Mapping[str, Any]  # the API's JSON


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as the API shows it, with figures as of `now`."""

    id: str
    created_at: datetime
    created_by: str
    fields: Mapping[str, Any]  # typed current fields
    level: str | None
    decided_by: str | None
    done: bool
    ruleset_version: str
    cycles: tuple[Cycle, ...]
    evaluations: tuple[Evaluation, ...]
    events: tuple[EventView, ...] = field(default_factory=tuple)


def typed_fields(
    validate: ValidateFields, policy: Policy, raw: Mapping[str, Any], where: str
) -> dict[str, Any]:
    """Validate JSON field values against the policy; nulls stay None (they unset)."""
    if not isinstance(raw, Mapping):
        raise ServiceError(BAD_USER_INPUT, f"`{where}` must be a JSON object", key=where)
    present = {k: v for k, v in raw.items() if v is not None}
    try:
        out = dict(validate(policy, present, where))
    except SlaError as e:
        raise bad_input(e, where) from None
    out.update({k: None for k, v in raw.items() if v is None})
    return out


def parse_event(validate: ValidateFields, policy: Policy, e: EventInput, where: str) -> Event:
    """One API event → an engine Event; exactly one of message, status, update."""
    given = [n for n in ("message", "status", "update") if getattr(e, n) is not None]
    if len(given) != 1:
        raise ServiceError(
            BAD_USER_INPUT,
            f"{where}: an event has exactly one of message, status, update (got {len(given)})",
            key=where,
        )
    if not e.event_id:
        raise ServiceError(BAD_USER_INPUT, f"{where}: eventId is empty", key=f"{where}.eventId")
    if e.message is not None:
        m = e.message
        by = str(m.get("by", "")).lower()
        public = m.get("public", True)
        public = True if public is None else bool(public)
        if by not in ("customer", "agent"):
            raise ServiceError(
                BAD_USER_INPUT,
                f"{where}: message.by must be CUSTOMER or AGENT",
                key=f"{where}.message.by",
            )
        if by == "customer" and not public:
            raise ServiceError(
                BAD_USER_INPUT,
                f"{where}: a customer message cannot be private",
                key=f"{where}.message.public",
            )
        return Event(
            at=e.at,
            type="message",
            by=cast(Author, by),
            public=public,
            text=m.get("text"),
            channel=m.get("channel"),
            event_id=e.event_id,
        )
    if e.status is not None:
        if not e.status.strip():
            raise ServiceError(BAD_USER_INPUT, f"{where}: status is empty", key=f"{where}.status")
        return Event(at=e.at, type="status", status=e.status, event_id=e.event_id)
    u = e.update or {}
    raw_set = u.get("set") or {}
    unset = tuple(u.get("unset") or ())
    if not raw_set and not unset:
        raise ServiceError(
            BAD_USER_INPUT, f"{where}: an update needs `set` or `unset`", key=f"{where}.update"
        )
    if not all(isinstance(n, str) for n in unset):
        raise ServiceError(
            BAD_USER_INPUT, f"{where}: update.unset lists field names", key=f"{where}.update.unset"
        )
    both = sorted(set(raw_set) & set(unset)) if isinstance(raw_set, Mapping) else []
    if both:
        raise ServiceError(
            BAD_USER_INPUT, f"{where}: `{both[0]}` is both set and unset", key=f"{where}.update"
        )
    ro = sorted((set(raw_set) | set(unset)) & READONLY_FIELDS)
    if ro:
        raise ServiceError(
            BAD_USER_INPUT, f"{where}: `{ro[0]}` cannot be set by an update", key=f"{where}.update"
        )
    typed = typed_fields(validate, policy, raw_set, f"{where}.update.set")
    return Event(at=e.at, type="update", set=typed, unset=unset, event_id=e.event_id)


def view_from_measurement(
    m: Measurement, created_at: datetime, created_by: str, events: Sequence[EventView]
) -> TicketView:
    return TicketView(
        id=m.ticket_id,
        created_at=created_at,
        created_by=created_by,
        fields=m.fields,
        level=m.decision.level,
        decided_by=m.decision.decided_by,
        done=m.done,
        ruleset_version=m.ruleset_version,
        cycles=m.cycles,
        evaluations=m.evaluations,
        events=tuple(events),
    )
