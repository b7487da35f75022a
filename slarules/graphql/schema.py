"""Query, Mutation, Subscription and `make_schema` (limits, masking as factories).

Resolvers are `async def` and run every Pony call through `run_in_threadpool`
(a sync resolver would block the event loop; stack.md §1, §2.2).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, Any

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig

from slarules.engine.cancel import NEVER, Cancel
from slarules.errors import BAD_USER_INPUT, INVALID_RULES, ServiceError
from slarules.graphql import alerts as stored_alerts
from slarules.graphql import convert
from slarules.graphql import input_types as gi
from slarules.graphql import inputs as limits
from slarules.graphql import preview_types as pv
from slarules.graphql import types as g
from slarules.graphql.budget import QueryBudget
from slarules.graphql.context import Context, ctx
from slarules.graphql.direct import direct_resolvers
from slarules.graphql.documents import CachedDocuments, DocumentCache
from slarules.graphql.fast import fast_executor
from slarules.graphql.masking import MaskInternalErrors, SlaSchema, is_public
from slarules.graphql.prepared import Lane
from slarules.graphql.raw import raw_event, raw_ticket, selects, selects_below
from slarules.graphql.scalars import SCALAR_MAP
from slarules.service import LogFilter, RawEvent, TicketView
from slarules.service import TicketFilter as StoreTicketFilter
from slarules.service.agents import AgentFilter, assignee_summaries
from slarules.settings import Settings

log = logging.getLogger("slarules.graphql")


_HISTORY = frozenset({"events", "evaluations"})  # the Ticket fields a view reads its history for
_DETAIL = frozenset({"warnings", "timeline"})  # the Cycle fields of the stored cycle JSON


def _ticket(view: TicketView, c: Context) -> g.Ticket:
    return g.Ticket(view=view, policy=c.policy, now=c.now)


def _diagnostics_ext(diags: Any) -> list[dict[str, object]]:
    return [d.as_dict() for d in diags]


@strawberry.type
class Query:
    @strawberry.field
    async def ticket(self, info: strawberry.Info, id: strawberry.ID) -> g.Ticket | None:
        c = ctx(info)
        c.require("read")
        view = await c.tickets.load(str(id))
        return None if view is None else _ticket(view, c)

    @strawberry.field  # sorted by the earliest open due_at
    async def tickets(
        self,
        info: strawberry.Info,
        filter: gi.TicketFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> g.TicketConnection:
        c = ctx(info)
        c.require("read")
        limits.check_cursor(after)
        f = filter or gi.TicketFilter()
        sf = StoreTicketFilter(
            level=f.level,
            department=f.department,
            assignee=f.assignee,
            metric=f.metric.value if f.metric else None,
            state=f.state.value if f.state else None,
            due_before=f.due_before,
            due_after=f.due_after,
            breached_from=f.breached_from,
            breached_to=f.breached_to,
            created_from=f.created_from,
            created_to=f.created_to,
            priority=f.priority,
            source=f.source,
            has_sla=f.has_sla,
            order_by=f.order_by or "due",
            descending=bool(f.descending),
        )
        service = c.runtime.require_service()
        history = selects_below(info, _HISTORY)
        detail = selects_below(info, _DETAIL)
        page, views = await run_in_threadpool(
            service.ticket_page,
            c.policy,
            sf,
            50 if first is None else first,
            after,
            c.now,
            selects(info, "totalCount"),
            history,
            detail,
        )
        by_id = {v.id: v for v in views}
        edges = []
        for cur, tid in zip(page.cursors, page.ids, strict=True):
            if tid in by_id:
                if history and detail:  # a view without its history or detail is not the loader's
                    c.tickets.prime(tid, by_id[tid], force=True)
                edges.append(g.TicketEdge(cursor=cur, node=_ticket(by_id[tid], c)))
        return g.TicketConnection(
            edges=edges,
            page_info=g.PageInfo(
                has_next_page=page.has_next, end_cursor=page.cursors[-1] if page.cursors else None
            ),
            total_count=page.total,
        )

    @strawberry.field
    async def sla_log(
        self,
        info: strawberry.Info,
        filter: gi.SlaLogFilter | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> g.SlaLogConnection:
        c = ctx(info)
        c.require("read")
        limits.check_cursor(after)
        lf = log_filter(filter or gi.SlaLogFilter())
        page = await run_in_threadpool(
            c.runtime.require_service().sla_log,
            c.policy,
            lf,
            100 if first is None else first,
            after,
            c.now,
            selects(info, "totalCount"),
        )
        return g.SlaLogConnection(
            edges=[
                g.SlaLogEdge(cursor=cur, node=convert.log_row_type(r))
                for cur, r in zip(page.cursors, page.rows, strict=True)
            ],
            page_info=g.PageInfo(
                has_next_page=page.has_next, end_cursor=page.cursors[-1] if page.cursors else None
            ),
            total_count=page.total,
        )

    @strawberry.field
    async def compliance(
        self,
        info: strawberry.Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        group_by: list[gi.ComplianceDimension] = [],  # noqa: B006
        filter: gi.SlaLogFilter | None = None,
    ) -> list[g.ComplianceRow]:
        c = ctx(info)
        c.require("read")
        limit_range(c.runtime.settings, from_, to)
        rows = await c.runtime.budget.run_stoppable(
            "compliance",
            c.runtime.require_service().compliance,
            c.policy,
            from_,
            to,
            [d.value for d in group_by],
            c.now,
            log_filter(filter or gi.SlaLogFilter()),
        )
        return [convert.compliance_row_type(r) for r in rows]

    @strawberry.field  # the per-agent view (issue 12)
    async def assignees(
        self,
        info: strawberry.Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        filter: gi.SlaLogFilter | None = None,
    ) -> list[g.AssigneeSummary]:
        c = ctx(info)
        c.require("read")
        f = filter or gi.SlaLogFilter()
        af = AgentFilter(
            level=f.level,
            department=f.department,
            assignee=f.assignee,
            metric=f.metric.value if f.metric else None,
        )
        service = c.runtime.require_service()
        rows = await run_in_threadpool(assignee_summaries, service.store, from_, to, af, c.now)
        return [convert.assignee_summary_type(a) for a in rows]

    @strawberry.field
    async def ruleset(self, info: strawberry.Info) -> g.Ruleset:
        c = ctx(info)
        c.require("read")
        live = c.runtime.ruleset
        return convert.ruleset_type(live.policy, live.loaded_at, c.runtime.remeasuring)

    @strawberry.field  # a dry run: stores nothing
    async def explain(
        self,
        info: strawberry.Info,
        ticket: gi.TicketInput,
        events: list[gi.ExplainEventInput] = [],  # noqa: B006
        now: datetime | None = None,
        rules: str | None = None,
    ) -> g.Explanation:
        c = ctx(info)
        c.require("read")
        if rules is not None:
            limit_source(c.runtime.settings, rules, "rules")
        if len(events) > 1000:
            raise ServiceError(BAD_USER_INPUT, "at most 1000 events per explain", key="events")
        limits.check_ticket(c.runtime.settings, ticket, "ticket")
        for i, e in enumerate(events):
            limits.check_event(c.runtime.settings, e, f"events[{i}]")
        return await c.runtime.budget.run_stoppable(
            "explain", explain, c.runtime, c.policy, ticket, events, now or c.now, rules
        )

    @strawberry.field  # stored alerts, newest raised first (the same Alert as slaAlerts)
    async def alerts(
        self,
        info: strawberry.Info,
        filter: gi.AlertHistoryFilter | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> g.AlertConnection:
        c = ctx(info)
        c.require("read")
        n = 20 if first is None else first
        return await run_in_threadpool(stored_alerts.history, c.runtime, filter, n, after)

    @strawberry.field
    async def check_rules(self, info: strawberry.Info, source: str) -> list[g.Diagnostic]:
        c = ctx(info)
        c.require("read")
        limit_source(c.runtime.settings, source, "source")
        result = await c.runtime.budget.run_stoppable(
            "checkRules", c.runtime.build_source, source, "<source>"
        )
        return [convert.diagnostic_type(d) for d in result.diagnostics]

    @strawberry.field  # admin; read-only; capped by SLA_PREVIEW_MAX_TICKETS / _SECONDS
    async def preview_rules(
        self, info: strawberry.Info, source: str, since: datetime
    ) -> pv.RulesPreview:
        return await pv.preview_rules(info, source, since)


def limit_source(settings: Settings, text: str, key: str) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > settings.max_rules_bytes:
        raise ServiceError(
            BAD_USER_INPUT,
            f"`{key}` is {size} bytes, over the limit of {settings.max_rules_bytes} "
            "(SLA_MAX_RULES_BYTES)",
            key=key,
            reason="too-long",
        )


def limit_range(settings: Settings, start: datetime, end: datetime) -> None:
    if (end - start).days > settings.max_compliance_days:
        raise ServiceError(
            BAD_USER_INPUT,
            f"`from`..`to` spans more than {settings.max_compliance_days} days "
            "(SLA_MAX_COMPLIANCE_DAYS); ask for a shorter range",
            key="to",
            reason="too-long",
        )


def log_filter(f: gi.SlaLogFilter) -> LogFilter:
    return LogFilter(
        department=f.department,
        assignee=f.assignee,
        level=f.level,
        metric=f.metric.value if f.metric else None,
        state=f.state.value if f.state else None,
        started_from=f.started_from,
        started_to=f.started_to,
        order_by=f.order_by or "started_at",
        descending=bool(f.descending),
        priority=f.priority,
        source=f.source,
    )


def explain(
    runtime: Any,
    policy: Any,
    ticket: gi.TicketInput,
    events: list[gi.ExplainEventInput],
    now: datetime,
    rules: str | None,
    cancel: Cancel = NEVER,
) -> g.Explanation:
    if rules is not None:
        result = runtime.build_source(rules, "<rules>", cancel)
        if result.policy is None:
            first = result.errors[0].render().splitlines()[0] if result.errors else "invalid rules"
            raise ServiceError(
                INVALID_RULES,
                f"the rules have errors: {first}",
                diagnostics=_diagnostics_ext(result.diagnostics),
            )
        policy = result.policy
    raw_events = [raw_event(e, f"events[{i}]") for i, e in enumerate(events)]
    service = runtime.require_service()
    measured, trace = service.explain(policy, raw_ticket(ticket), raw_events, now, cancel)
    return convert.explanation_type(policy, measured, trace)


@strawberry.type
class Mutation:
    @strawberry.mutation  # create; the same input again is a no-op
    async def record_ticket(self, info: strawberry.Info, input: gi.TicketInput) -> g.Ticket:
        c = ctx(info)
        c.require("write")
        limits.check_ticket(c.runtime.settings, input)
        service = c.runtime.require_service()
        view = await run_in_threadpool(service.record_ticket, c.policy, raw_ticket(input), c.now)
        c.tickets.prime(view.id, view, force=True)
        return _ticket(view, c)

    @strawberry.mutation  # one transaction: all events or none
    async def record_events(
        self, info: strawberry.Info, events: list[gi.EventInput]
    ) -> g.RecordEventsResult:
        c = ctx(info)
        c.require("write")
        if len(events) > 1000:
            raise ServiceError(BAD_USER_INPUT, "at most 1000 events per call", key="events")
        for i, e in enumerate(events):
            limits.check_event(c.runtime.settings, e, f"events[{i}]")
        data = [
            RawEvent(str(e.ticket_id), str(e.event_id), raw_event(e, f"events[{i}]"))
            for i, e in enumerate(events)
        ]
        service = c.runtime.require_service()
        wanted = selects(info, "tickets")
        result = await run_in_threadpool(service.record_events, c.policy, data, c.now, wanted)
        c.runtime.metrics.events_recorded.inc(result.applied)
        for v in result.tickets:
            c.tickets.prime(v.id, v, force=True)
        return g.RecordEventsResult(
            applied=result.applied,
            duplicates=result.duplicates,
            tickets=[_ticket(v, c) for v in result.tickets],
        )

    @strawberry.mutation  # load the ruleset again; on errors the old one stays live
    async def reload_rules(self, info: strawberry.Info) -> g.ReloadResult:
        c = ctx(info)
        c.require("admin")
        rt = c.runtime
        ok, diags = await rt.budget.run_stoppable("reloadRules", rt.reload, True)
        live = c.runtime.ruleset
        return g.ReloadResult(
            ok=ok,
            ruleset=convert.ruleset_type(live.policy, live.loaded_at, c.runtime.remeasuring),
            diagnostics=[convert.diagnostic_type(d) for d in diags],
        )


def _alert_matches(f: gi.AlertFilter | None, a: Any) -> bool:
    if f is None:
        return True
    if f.kinds and a.kind not in {k.value for k in f.kinds}:
        return False
    if f.metrics and a.metric not in {m.value for m in f.metrics}:
        return False
    return all(
        want is None or getattr(a, name) == want
        for name, want in (
            ("level", f.level),
            ("department", f.department),
            ("assignee", f.assignee),
        )
    )


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def sla_alerts(
        self,
        info: strawberry.Info,
        filter: gi.AlertFilter | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[g.Alert, None]:
        """Live alerts; with `after` (an alert id, or an RFC 3339 instant) first the stored
        alerts raised after it, then live ones, without gaps or duplicates."""
        c = ctx(info)
        c.require("read")
        alerts = stored_alerts.replay_then_live(
            c.runtime, filter, after, lambda a: _alert_matches(filter, a)
        )
        async for a in alerts:
            yield convert.alert_type(a)


def make_schema(settings: Settings, fast: bool = True) -> strawberry.Schema:
    """The schema, its resolvers called straight (graphql/direct.py) and its plain fields
    completed by compiled plans (graphql/fast.py); `fast=False`: strawberry's own resolvers
    and executor (the same SDL and answers: the reference the tests compare with)."""
    documents = DocumentCache()  # per schema: its validation rules are fixed here

    def budget() -> QueryBudget:
        return QueryBudget(
            max_cost=settings.max_cost, open_introspection=settings.open_introspection
        )

    def mask() -> MaskInternalErrors:
        return MaskInternalErrors(
            should_mask_error=lambda e: not is_public(e), error_message="internal error"
        )

    extensions: list[Any] = [  # factories: strawberry makes them per request
        lambda: QueryDepthLimiter(max_depth=settings.max_depth),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        budget,
        lambda: CachedDocuments(documents),
        mask,
    ]
    schema = SlaSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
    if fast:
        direct_resolvers(schema)
        schema.execution_context_class = fast_executor(schema._schema)
        schema.lane = Lane(schema, documents, budget(), mask())
    return schema
