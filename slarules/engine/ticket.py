"""A ticket's history: initial fields at creation plus ordered events.

This is the engine's input; the store keeps exactly this (events are the
source of truth) and the fixtures loader builds it from TOML/JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Author = Literal["customer", "agent"]
EventType = Literal["message", "status", "update"]

# Fields no `update` event may set: the engine maintains them.
READONLY_FIELDS: frozenset[str] = frozenset(
    {"created_at", "updated_at", "last_message", "last_message_by"}
)


@dataclass(frozen=True, slots=True)
class Event:
    """One change to a ticket at instant `at` (aware, whole seconds)."""

    at: datetime
    type: EventType
    # message
    by: Author | None = None
    public: bool = True
    text: str | None = None
    channel: str | None = None
    # status
    status: str | None = None
    # update
    set: Mapping[str, Any] = field(default_factory=dict)
    unset: tuple[str, ...] = ()
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class TicketHistory:
    """Initial fields at `created_at` (by `created_by`) and the events, in given order."""

    id: str
    created_at: datetime
    fields: Mapping[str, Any]
    events: tuple[Event, ...] = ()
    created_by: Author = "customer"
