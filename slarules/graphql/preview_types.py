"""GraphQL types and resolvers of the impact preview (`previewRules`) and of
`Ticket.explain(at:)` (a stored ticket at a past instant, under the version live then)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from starlette.concurrency import run_in_threadpool

from slarules.errors import BAD_USER_INPUT, INVALID_RULES, ServiceError
from slarules.graphql import input_types as gi
from slarules.graphql import types as g
from slarules.graphql.context import ctx


@strawberry.type
class RuleCause:
    from_rule: str
    to_rule: str
    count: int


@strawberry.type
class LevelTransition:
    from_level: str  # a level name or "none"
    to_level: str
    count: int
    causes: list[RuleCause]
    examples: list[str]


@strawberry.type
class MetricFlips:
    metric: gi.Metric
    met_to_breached: int
    breached_to_met: int
    appeared: int
    disappeared: int
    other: int
    examples: list[str]


@strawberry.type
class ComplianceFigures:
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
class ComplianceChange:
    level: str
    metric: gi.Metric
    before: ComplianceFigures
    after: ComplianceFigures


@strawberry.type
class UnmeasurableTicket:
    ticket_id: strawberry.ID
    ruleset: str  # "old", "new" or "both"
    message: str


@strawberry.type
class RulesPreview:
    since: datetime
    now: datetime
    old_version: str
    new_version: str
    tickets: int
    changed: int
    truncated: bool
    stopped_by: str | None  # "tickets" or "seconds": the budget cut the preview short
    seconds: float
    transitions: list[LevelTransition]
    flips: list[MetricFlips]
    compliance: list[ComplianceChange]
    unmeasurable: list[UnmeasurableTicket]


def rules_preview_type(report: Any) -> RulesPreview:
    d = report.as_dict()
    return RulesPreview(
        since=report.since,
        now=report.now,
        old_version=d["old_version"],
        new_version=d["new_version"],
        tickets=d["tickets"],
        changed=d["changed"],
        truncated=d["truncated"],
        stopped_by=d["stopped_by"],
        seconds=round(report.seconds, 3),
        transitions=[
            LevelTransition(
                from_level=t["from"],
                to_level=t["to"],
                count=t["count"],
                causes=[RuleCause(**c) for c in t["causes"]],
                examples=t["examples"],
            )
            for t in d["transitions"]
        ],
        flips=[
            MetricFlips(
                metric=gi.Metric(f["metric"]),
                met_to_breached=f["met_to_breached"],
                breached_to_met=f["breached_to_met"],
                appeared=f["appeared"],
                disappeared=f["disappeared"],
                other=f["other"],
                examples=sorted({t for ids in f["examples"].values() for t in ids}),
            )
            for f in d["flips"]
        ],
        compliance=[
            ComplianceChange(
                level=c["level"],
                metric=gi.Metric(c["metric"]),
                before=ComplianceFigures(**c["before"]),
                after=ComplianceFigures(**c["after"]),
            )
            for c in d["compliance"]
        ],
        unmeasurable=[
            UnmeasurableTicket(
                ticket_id=strawberry.ID(u["ticket_id"]), ruleset=u["ruleset"], message=u["message"]
            )
            for u in d["unmeasurable"]
        ],
    )


def _preview(runtime: Any, policy: Any, source: str, since: datetime, now: datetime) -> Any:
    from slarules.service.preview import Budget, preview_store
    from slarules.store.histories import ReadOnlyError

    result = runtime.build_source(source, "<rules>")
    if result.policy is None:
        first = result.errors[0].render().splitlines()[0] if result.errors else "invalid rules"
        raise ServiceError(
            INVALID_RULES,
            f"the rules have errors: {first}",
            diagnostics=[d.as_dict() for d in result.diagnostics],
        )
    if since >= now:
        raise ServiceError(BAD_USER_INPUT, "`since` must be before now", key="since")
    s = runtime.settings
    try:
        return preview_store(
            runtime.require_store().config,
            policy,
            result.policy,
            since,
            now,
            jobs=1,  # in the server's thread: never fork a threaded server
            budget=Budget(s.preview_max_tickets, s.preview_max_seconds),
        )
    except ReadOnlyError as e:
        raise ServiceError(BAD_USER_INPUT, f"the preview cannot read the store: {e}") from None


async def preview_rules(info: strawberry.Info, source: str, since: datetime) -> RulesPreview:
    c = ctx(info)
    c.require("admin")
    report = await run_in_threadpool(_preview, c.runtime, c.policy, source, since, c.now)
    return rules_preview_type(report)


async def explain_past(info: strawberry.Info, ticket_id: str, at: datetime) -> g.Explanation:
    from slarules.graphql import convert
    from slarules.service.past import explain_stored
    from slarules.store.histories import ReadOnlyError

    c = ctx(info)
    c.require("read")
    try:
        past = await run_in_threadpool(
            explain_stored, c.runtime.require_store().config, ticket_id, at
        )
    except ReadOnlyError as e:
        raise ServiceError(BAD_USER_INPUT, f"cannot read the store: {e}") from None
    return convert.explanation_type(past.policy, past.measurement, past.trace)
