"""GraphQL types of service.md's SDL (names as strawberry makes them from snake_case).

Output types are plain dataclasses filled by `convert.py` (costly fields of `Cycle` and
`Level` resolve on demand from a private source); none of them is an
engine class. `Ticket` keeps its store view private and resolves from it.

The sync resolvers here are pure reads of their object (graphql/fast.py may call one
twice: in a compiled plan, then again in graphql-core's path when the plan declines).
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from slarules.engine.policy import Level as PolicyLevel
from slarules.engine.policy import Policy
from slarules.graphql.input_types import AlertKind, Author, CycleState, Metric
from slarules.graphql.sources import CycleSource
from slarules.service.views import TicketView


@strawberry.type
class Target:
    metric: Metric
    seconds: int | None
    table: JSON | None


@strawberry.type
class Level:
    name: str
    title: str | None
    calendar: str
    # the policy's level (None: one the live ruleset no longer has); targets built when asked
    source: strawberry.Private[PolicyLevel | None] = None

    @strawberry.field
    def targets(self) -> list[Target]:
        from slarules.graphql.convert import targets_of

        return targets_of(self.source)


@strawberry.type
class Warning:
    percent: float | None
    before_seconds: int | None
    at: datetime


@strawberry.type
class CycleEvent:
    kind: str
    at: datetime


@strawberry.type
class Cycle:
    metric: Metric
    index: int
    state: CycleState
    started_at: datetime
    stopped_at: datetime | None
    due_at: datetime | None
    breached_at: datetime | None
    target_seconds: int
    elapsed_seconds: int
    remaining_seconds: int
    # what warnings, timeline and the clock are resolved from, when a query selects them
    source: strawberry.Private[CycleSource]

    @strawberry.field
    def warnings(self) -> list[Warning]:
        return [
            Warning(percent=w.percent, before_seconds=w.before, at=w.at)
            for w in self.source.cycle.warnings
        ]

    @strawberry.field
    def timeline(self) -> list[CycleEvent]:
        return [CycleEvent(kind=e.kind, at=e.at) for e in self.source.cycle.timeline]

    @strawberry.field  # a resolver only to keep its place in the type's field order
    def ruleset_version(self) -> str:
        return self.source.cycle.ruleset_version

    # the business clock runs for this cycle now (engine/counting.py), and the next
    # instant that flips without a new event (null: never)
    @strawberry.field
    def counting(self) -> bool:
        return self.source.clock().counting

    @strawberry.field
    def counting_changes_at(self) -> datetime | None:
        return self.source.clock().changes_at


@strawberry.type
class TicketEvent:
    event_id: strawberry.ID | None
    at: datetime
    type: str
    payload: JSON


@strawberry.type
class Evaluation:
    at: datetime
    ruleset_version: str
    matched_rules: list[str]
    level_before: str | None
    level_after: str | None
    decided_by: str | None


@strawberry.type
class Ticket:
    view: strawberry.Private[TicketView]
    policy: strawberry.Private[Policy]
    now: strawberry.Private[datetime]  # the request's instant: the view was measured at it
    # set from the view: a plain attribute costs no resolver call per ticket
    id: strawberry.ID = strawberry.ID("")

    def __post_init__(self) -> None:
        self.id = strawberry.ID(self.view.id)

    @strawberry.field
    def created_at(self) -> datetime:
        return self.view.created_at

    @strawberry.field
    def created_by(self) -> Author:
        return Author(self.view.created_by)

    @strawberry.field
    def fields(self) -> JSON:
        from slarules.graphql.convert import public_fields

        return public_fields(self.view.fields)  # type: ignore[return-value]

    @strawberry.field
    def level(self) -> Level | None:
        from slarules.graphql.convert import level_type

        return level_type(self.policy, self.view.level)

    @strawberry.field  # the deciding rule's title, or "default"
    def decided_by(self) -> str | None:
        return self.view.decided_by

    @strawberry.field
    def cycles(self, metric: Metric | None = None) -> list[Cycle]:
        from slarules.graphql.convert import cycle_type

        v = self.view
        return [
            cycle_type(c, self.policy, v.level, v.fields, self.now)
            for c in v.cycles
            if metric is None or c.metric == metric.value
        ]

    @strawberry.field
    def evaluations(self) -> list[Evaluation]:
        from slarules.graphql.convert import evaluation_type

        return [evaluation_type(e) for e in self.view.evaluations]

    @strawberry.field
    def events(self) -> list[TicketEvent]:
        return [
            TicketEvent(
                event_id=strawberry.ID(e.event_id) if e.event_id else None,
                at=e.at,
                type=e.type,
                payload=e.payload,  # type: ignore[arg-type]
            )
            for e in self.view.events
        ]

    @strawberry.field  # the ticket as it stood at `at`, under the ruleset version live then
    async def explain(self, info: strawberry.Info, at: datetime) -> Explanation:
        from slarules.graphql.preview_types import explain_past

        return await explain_past(info, self.view.id, at)


@strawberry.type
class ConditionTrace:
    source: str
    value: JSON | None
    result: bool


@strawberry.type
class RuleTrace:
    title: str
    file: str
    line: int
    matched: bool
    set_level: str | None
    stop: bool
    stopped_here: bool
    conditions: list[ConditionTrace]


@strawberry.type
class Explanation:
    level: Level | None
    decided_by: str | None
    rules: list[RuleTrace]
    cycles: list[Cycle]


@strawberry.type
class Diagnostic:
    severity: str
    code: str
    message: str
    file: str | None
    line: int | None
    column: int | None
    hint: str | None


@strawberry.type
class Ruleset:
    version: str
    loaded_at: datetime
    files: list[str]
    levels: list[Level]
    calendars: list[str]
    rules: list[RuleTrace]
    remeasuring: int


@strawberry.type
class RecordEventsResult:
    applied: int
    duplicates: int
    tickets: list[Ticket]


@strawberry.type
class ReloadResult:
    ok: bool
    ruleset: Ruleset
    diagnostics: list[Diagnostic]


@strawberry.type
class SlaLogRow:
    ticket_id: strawberry.ID
    requester: str | None
    department: str | None
    assignee: str | None
    level: str
    metric: Metric
    index: int
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    state: CycleState
    target_seconds: int
    elapsed_seconds: int
    remaining_seconds: int
    ruleset_version: str


@strawberry.type
class ComplianceRow:
    day: str | None
    department: str | None
    assignee: str | None
    level: str | None
    metric: Metric | None
    met_count: int
    met_avg_seconds: float | None
    met_min_seconds: int | None
    met_max_seconds: int | None
    breached_count: int
    breached_avg_seconds: float | None
    breached_min_seconds: int | None
    breached_max_seconds: int | None
    service_level: float | None


@strawberry.type
class AssigneeSummary:
    """Open, at-risk and breached cycles as of now; met and missed cycles started in the
    range (missed: breached, stopped or still running); each cycle credited to the assignee
    when it stopped (today's while it runs). `assignee` null: unassigned."""

    assignee: str | None
    open_count: int
    at_risk_count: int
    breached_count: int
    met_count: int
    missed_count: int
    service_level: float | None


@strawberry.type
class Alert:
    id: strawberry.ID
    kind: AlertKind
    ticket_id: strawberry.ID
    metric: Metric
    cycle_index: int
    cycle_started_at: datetime
    percent: float | None
    before_seconds: int | None
    at: datetime
    level: str
    assignee: str | None
    department: str | None
    ruleset_version: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class TicketEdge:
    cursor: str
    node: Ticket


@strawberry.type
class TicketConnection:
    edges: list[TicketEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class SlaLogEdge:
    cursor: str
    node: SlaLogRow


@strawberry.type
class SlaLogConnection:
    edges: list[SlaLogEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class AlertEdge:
    cursor: str
    node: Alert


@strawberry.type
class AlertConnection:
    edges: list[AlertEdge]
    page_info: PageInfo
