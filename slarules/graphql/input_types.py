"""The enums and input types of service.md's SDL: what a client sends (the enums are
shown in answers too). `types` re-exports them beside the output types."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON


@strawberry.enum
class Metric(Enum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    PERIODIC_RESPONSE = "periodic_response"
    REQUESTER_WAIT = "requester_wait"
    AGENT_WORK = "agent_work"
    RESOLUTION = "resolution"


@strawberry.enum
class CycleState(Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


@strawberry.enum
class Author(Enum):
    CUSTOMER = "customer"
    AGENT = "agent"


@strawberry.enum
class AlertKind(Enum):
    WARNING = "warning"
    BREACH = "breach"


@strawberry.enum
class ComplianceDimension(Enum):
    DAY = "day"
    DEPARTMENT = "department"
    ASSIGNEE = "assignee"
    LEVEL = "level"
    METRIC = "metric"


# -- inputs ---------------------------------------------------------------------------


@strawberry.input
class TicketInput:
    id: strawberry.ID
    created_at: datetime
    fields: JSON
    created_by: Author | None = Author.CUSTOMER


@strawberry.input
class MessageInput:
    by: Author
    public: bool | None = True
    text: str | None = None
    channel: str | None = None


@strawberry.input
class UpdateInput:
    set: JSON | None = None
    unset: list[str] | None = None


@strawberry.input(description="exactly one of message, status, update")
class EventInput:
    event_id: strawberry.ID
    ticket_id: strawberry.ID
    at: datetime
    message: MessageInput | None = None
    status: str | None = None
    update: UpdateInput | None = None


@strawberry.input
class ExplainEventInput:
    at: datetime
    message: MessageInput | None = None
    status: str | None = None
    update: UpdateInput | None = None


@strawberry.input
class TicketFilter:
    level: str | None = None
    department: str | None = None
    assignee: str | None = None
    metric: Metric | None = None
    state: CycleState | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    breached_from: datetime | None = None
    breached_to: datetime | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    priority: str | None = None
    source: str | None = None
    has_sla: bool | None = strawberry.field(
        default=None, description="false: level none or no level; true: tickets with an SLA"
    )
    order_by: str | None = strawberry.field(
        default="due",
        description="due (earliest open due), id, created_at, level, department, assignee, "
        "requester",
    )
    descending: bool | None = False


@strawberry.input
class SlaLogFilter:
    department: str | None = None
    assignee: str | None = None
    level: str | None = None
    metric: Metric | None = None
    state: CycleState | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
    order_by: str | None = "started_at"
    descending: bool | None = False
    priority: str | None = None
    source: str | None = None


@strawberry.input
class AlertFilter:
    kinds: list[AlertKind] | None = None
    metrics: list[Metric] | None = None
    level: str | None = None
    department: str | None = None
    assignee: str | None = None


# -- outputs --------------------------------------------------------------------------


@strawberry.input
class AlertHistoryFilter:
    kinds: list[AlertKind] | None = None
    metrics: list[Metric] | None = None
    level: str | None = None
    department: str | None = None
    assignee: str | None = None
    ticket_id: strawberry.ID | None = None
    at_from: datetime | None = None  # the alert's `at`, inclusive
    at_to: datetime | None = None  # exclusive
