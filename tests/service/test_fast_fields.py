"""Plain fields read inline (graphql/fast.py): the same schema, the same JSON text (values,
nulls, enums, DateTime, nested lists, key order), the same errors and masking as
strawberry's own executor, which the tests switch back to for the reference answer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from slarules.graphql import convert
from slarules.graphql import types as g
from slarules.graphql.direct import direct_resolvers
from slarules.graphql.fast import FastExecutor
from slarules.graphql.scalars import serialize_instant
from slarules.graphql.schema import make_schema
from slarules.instants import rfc3339
from slarules.settings import DatabaseConfig, Settings
from tests.service.conftest import Api, open_api
from tests.service.gql import RECORD_EVENTS, RECORD_TICKET, message, status, ticket

CYCLE = """metric index state startedAt stoppedAt dueAt breachedAt targetSeconds
  elapsedSeconds remainingSeconds warnings { percent beforeSeconds at } timeline { kind at }
  rulesetVersion counting countingChangesAt"""
TICKET = f"""id createdAt createdBy fields decidedBy
  level {{ name title calendar targets {{ metric seconds table }} }}
  cycles {{ {CYCLE} }} resolution: cycles(metric: RESOLUTION) {{ state dueAt }}
  events {{ eventId at type payload }}
  evaluations {{ at rulesetVersion matchedRules levelBefore levelAfter decidedBy }}"""
QUERIES = [
    f"{{ tickets(first: 10) {{ totalCount pageInfo {{ hasNextPage endCursor }}"
    f" edges {{ cursor node {{ {TICKET} }} }} }} }}",
    f'{{ ticket(id: "T-u1") {{ {TICKET} }} missing: ticket(id: "nope") {{ id }} }}',
    """{ slaLog(first: 20) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { ticketId requester department assignee level metric index
        startedAt dueAt stoppedAt state targetSeconds elapsedSeconds remainingSeconds
        rulesetVersion } } } }""",
    # aliases, a field twice, fragments, directives, __typename at every level
    """query($no: Boolean = false) { tickets(first: 3) { __typename
      edges { node { __typename a: id b: id ...T level @skip(if: $no) { __typename name }
        cycles { __typename ... on Cycle { m: metric s: state } metric
          dueAt @include(if: $no) } } } } }
    fragment T on Ticket { id cycles { index } }""",
    """{ compliance(from: "2026-03-01T00:00:00Z", to: "2026-03-03T00:00:00Z",
        groupBy: [LEVEL, METRIC]) { day department assignee level metric metCount
        metAvgSeconds metMinSeconds metMaxSeconds breachedCount breachedAvgSeconds
        breachedMinSeconds breachedMaxSeconds serviceLevel } }""",
    """{ assignees(from: "2026-03-01T00:00:00Z", to: "2026-03-03T00:00:00Z") { assignee
        openCount atRiskCount breachedCount metCount missedCount serviceLevel } }""",
    """{ ruleset { version loadedAt files calendars remeasuring
        levels { name title calendar targets { metric seconds table } }
        rules { title file line matched setLevel stop stoppedHere conditions { source } } } }""",
    """{ explain(ticket: {id: "X", createdAt: "2026-03-02T12:00:00Z",
        fields: {status: "new", tags: ["urgent"]}}) { decidedBy level { name }
        rules { title matched stoppedHere conditions { source value result } }
        cycles { metric state dueAt warnings { at } } } }""",
    """{ alerts(first: 5) { edges { cursor node { id kind ticketId metric cycleIndex
        cycleStartedAt percent beforeSeconds at level assignee department rulesetVersion } }
        pageInfo { hasNextPage endCursor } } }""",
    '{ checkRules(source: "level x { resolution 1h }") { severity code message file line '
    "column hint } }",
]


def _seed(api: Api) -> None:
    """Active, breached, stopped (met), done and no-SLA tickets, with events and warnings."""
    api.data(RECORD_TICKET, ticket("T-u1", tags=["urgent"], department="ops"))
    api.data(RECORD_TICKET, ticket("T-s", department="sales", assignee="ana"))
    api.data(RECORD_TICKET, ticket("T-spam", tags=["spam"]))
    api.data(RECORD_TICKET, ticket("T-d", department="sales", renewal_date="2026-04-01"))
    api.data(
        RECORD_TICKET, ticket("T-u2", "2026-03-02T12:10:00Z", tags=["urgent"], department="ops")
    )
    api.clock.advance(minutes=40)
    api.data(
        RECORD_EVENTS,
        {
            "events": [
                status("s1", "T-d", "2026-03-02T12:20:00Z", "solved"),
                message("m1", "T-s", "2026-03-02T12:25:00Z", text="hi"),
            ]
        },
    )
    api.clock.advance(minutes=45)  # T-u1 is breached, T-u2 warned
    rt = api.runtime
    rt.require_service().remeasure_due(rt.ruleset.policy, rt.clock.now())  # their alerts


def _view(api: Api) -> Any:
    route = next(r for r in api.app.routes if getattr(r, "path", "") == "/graphql")
    return route.endpoint


def _both(api: Api, query: str, variables: dict[str, Any] | None = None) -> tuple[str, str]:
    """The answer's JSON text from the fast schema, then from one made with `fast=False`
    (strawberry's own executor and resolvers)."""
    view = _view(api)
    fast = view.schema
    assert issubclass(fast.execution_context_class, FastExecutor)
    body = {"query": query, "variables": variables or {}}
    got = api.client.post("/graphql", json=body).text
    view.schema = make_schema(api.runtime.settings, fast=False)
    try:
        want = api.client.post("/graphql", json=body).text
    finally:
        view.schema = fast
    return got, want


@pytest.fixture
def seeded(sqlite_db: DatabaseConfig) -> Iterator[Api]:
    with open_api(sqlite_db, scheduler=False) as api:  # no alert raised between two answers
        _seed(api)
        yield api


def test_the_schema_sdl_is_the_same_with_and_without_fast_fields() -> None:
    fast, plain = make_schema(Settings()), make_schema(Settings(), fast=False)
    assert str(fast) == str(plain)
    assert issubclass(fast.execution_context_class, FastExecutor)
    assert not issubclass(plain.execution_context_class, FastExecutor)
    assert direct_resolvers(plain) >= 10  # Ticket.level, Ticket.cycles, ...
    assert str(plain) == str(fast)


@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_every_field_answers_the_same_json_text(seeded: Api, query: str) -> None:
    got, want = _both(seeded, query)
    assert '"errors"' not in want, want
    assert got == want


def test_a_ticket_page_is_completed_without_graphql_cores_field_machinery(
    seeded: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plain fields and the pure resolvers below `tickets` (Ticket.level, Ticket.cycles)
    complete in compiled plans: only `tickets` itself goes through `execute_field`."""
    seen: list[str] = []
    real = StrawberryGraphQLCoreExecutionContext.execute_field

    def spy(self: Any, parent_type: Any, source: Any, details: Any, *a: Any) -> Any:
        seen.append(f"{parent_type.name}.{details[0].node.name.value}")
        return real(self, parent_type, source, details, *a)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_field", spy)
    q = """{ tickets { edges { cursor node { id level { name }
      cycles { metric state dueAt } resolution: cycles(metric: RESOLUTION) { index } } } } }"""
    got, want = _both(seeded, q)
    assert got == want
    second = seen.index("Query.tickets", 1)  # the first answer is the fast one
    fast, plain = seen[:second], seen[second:]
    assert fast == ["Query.tickets"]
    assert {"Cycle.metric", "Ticket.cycles", "Ticket.level", "Level.name"} <= set(plain)


@pytest.mark.parametrize(
    "broken",
    [
        {"metric": None},  # null for a non-null enum: the null propagates to the list
        {"due_at": None},  # null for a nullable field
        {"state": "active"},  # not an enum member: graphql-core coerces it by value
        {"index": 2**40},  # out of Int's range
        {"index": True},  # a bool for an Int: graphql-core's 1
        {"target_seconds": "12"},  # a string for an Int: graphql-core's 12
        {"target_seconds": 1.5},  # a float for an Int
        {"started_at": "2026-03-02"},  # not a datetime: DateTime's error (masked)
        {"stopped_at": object()},  # a nullable DateTime that cannot serialize
    ],
    ids=lambda b: f"{next(iter(b))}={next(iter(b.values()))!r}"[:30],
)
def test_bad_values_give_the_same_errors_and_masking(
    seeded: Api, monkeypatch: pytest.MonkeyPatch, broken: dict[str, Any]
) -> None:
    real = convert.cycle_type

    def cycle_type(*a: Any) -> g.Cycle:
        c = real(*a)
        return replace(c, **broken) if c.index == 1 and c.metric.value == "resolution" else c

    monkeypatch.setattr(convert, "cycle_type", cycle_type)
    q = """{ tickets(first: 3) { edges { node { id
      cycles { metric index state startedAt stoppedAt dueAt targetSeconds } } } } }"""
    got, want = _both(seeded, q)
    erring = next(iter(broken.items())) in {("metric", None), ("index", 2**40)} or (
        "started_at" in broken or "stopped_at" in broken or broken == {"target_seconds": 1.5}
    )
    assert ('"errors"' in want) == erring, want
    assert got == want


@pytest.mark.parametrize(
    "broken",
    [{"metric": None}, {"department": 7}, {"due_at": "x"}, {"ticket_id": None}, {"index": 2.0}],
    ids=lambda b: next(iter(b)),
)
def test_a_bad_log_row_gives_the_same_errors(
    seeded: Api, monkeypatch: pytest.MonkeyPatch, broken: dict[str, Any]
) -> None:
    """A row the compiled plan declines: graphql-core completes the list (null propagation
    to the nullable `slaLog`, or a masked serialization error)."""
    real = convert.log_row_type

    def log_row_type(r: Any) -> g.SlaLogRow:
        row = real(r)
        return replace(row, **broken) if row.ticket_id == "T-u2" else row

    monkeypatch.setattr(convert, "log_row_type", log_row_type)
    q = """{ slaLog(first: 20) { pageInfo { hasNextPage } edges { cursor node { __typename
      ticketId department metric index dueAt state } } } }"""
    got, want = _both(seeded, q)
    coerced = broken in ({"department": 7}, {"index": 2.0})  # graphql-core's "7" and 2
    assert ('"errors"' in want) != coerced, want
    assert got == want


def test_a_log_page_is_completed_without_graphql_cores_field_machinery(
    seeded: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real = StrawberryGraphQLCoreExecutionContext.execute_field

    def spy(self: Any, parent_type: Any, source: Any, details: Any, *a: Any) -> Any:
        seen.append(f"{parent_type.name}.{details[0].node.name.value}")
        return real(self, parent_type, source, details, *a)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_field", spy)
    q = """{ slaLog(first: 20) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { ticketId metric state elapsedSeconds dueAt } } } }"""
    got, want = _both(seeded, q)
    assert got == want
    second = seen.index("Query.slaLog", 1)
    assert seen[:second] == ["Query.slaLog"]  # everything below it: compiled plans
    assert "SlaLogRow.dueAt" in seen[second:]


@pytest.mark.parametrize("case", ["null-item", "text-for-list", "set-for-list", "subclass"])
def test_bad_lists_and_objects_give_the_same_answer(
    seeded: Api, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    real_cycle, real_eval = convert.cycle_type, convert.evaluation_type

    class Sub(g.Cycle):  # not exactly the type's class: graphql-core completes it
        pass

    def cycle_type(*a: Any) -> Any:
        c = real_cycle(*a)
        if case == "null-item" and c.index == 1:
            return None
        if case == "subclass":
            sub = object.__new__(Sub)
            sub.__dict__.update(c.__dict__)
            return sub
        return c

    def evaluation_type(e: Any) -> Any:
        got = real_eval(e)
        if case == "text-for-list":
            return replace(got, matched_rules="Tagged URGENT")
        if case == "set-for-list":
            return replace(got, matched_rules={"a"})
        return got

    monkeypatch.setattr(convert, "cycle_type", cycle_type)
    monkeypatch.setattr(convert, "evaluation_type", evaluation_type)
    q = """{ tickets(first: 3) { edges { node { id cycles { metric index dueAt }
      evaluations { matchedRules levelAfter } } } } }"""
    got, want = _both(seeded, q)
    assert ('"errors"' in want) == (case in ("null-item", "text-for-list")), want
    assert got == want


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, UTC, timezone(timedelta(hours=-3)), ZoneInfo("Europe/Berlin")]
        ),
    ),
    st.booleans(),
)
def test_datetime_output_is_rfc3339s_text(t: datetime, whole: bool) -> None:
    """The UTC shortcut of the DateTime scalar prints what `rfc3339` prints."""
    if whole:
        t = t.replace(microsecond=0)
    assert serialize_instant(t) == rfc3339(t)


def test_datetime_output_rejects_naive_instants() -> None:
    with pytest.raises(ValueError, match="aware"):
        serialize_instant(datetime(2026, 3, 2, 12))


@pytest.mark.parametrize("m", ["RESOLUTION", None, "FIRST_RESPONSE"])
def test_resolver_arguments_from_variables_answer_the_same(seeded: Api, m: str | None) -> None:
    q = """query($m: Metric, $n: Metric = RESOLUTION) { tickets(first: 5) { edges { node {
      id a: cycles(metric: $m) { metric index } b: cycles(metric: $n) { state }
      c: cycles { metric } } } } }"""
    got, want = _both(seeded, q, {"m": m})
    assert '"errors"' not in want, want
    assert got == want


def test_level_type_is_made_once_per_policy_and_name() -> None:
    from tests.service.rules import make_policy

    POLICY = make_policy()

    a = convert.level_type(POLICY, "urgent")
    assert a is convert.level_type(POLICY, "urgent") and a is not None and a.title == "Urgent"
    other = replace(POLICY, levels={**POLICY.levels})
    b = convert.level_type(other, "urgent")
    assert b is not a and b is not None and b.name == "urgent"
    gone = convert.level_type(POLICY, "retired")
    assert gone is not None and (gone.name, gone.title, gone.calendar) == ("retired", None, "")


def test_a_stopped_cycle_is_one_output_object_whatever_the_instant() -> None:
    """`convert.cycle_type` makes a stopped cycle's object once: what every field of it
    answers (the lazy clock included) is the same at any instant, level and fields, so
    the kept object answers what a new one would. A running cycle's is made each time."""
    from slarules.engine.measurement import Cycle
    from tests.service.rules import make_policy

    policy = make_policy()
    t = datetime(2026, 3, 2, 12, tzinfo=UTC)
    stopped = Cycle("resolution", 1, "breached", t, t + timedelta(hours=2), t, t, 60, 99, -39,
                    (), (), "rulesv1")  # fmt: skip
    running = replace(stopped, state="active", stopped_at=None, breached_at=None)
    first = convert.cycle_type(stopped, policy, "urgent", {"status": "new"}, t)
    for now, level, fields in (
        (t + timedelta(days=3), "standard", {"status": "open"}),
        (t - timedelta(hours=1), None, {}),
    ):
        again = convert.cycle_type(stopped, policy, level, fields, now)
        assert again is first
        fresh = convert._cycle_type(stopped, policy, level, fields, now)
        assert (again.counting(), again.counting_changes_at()) == (
            fresh.counting(),
            fresh.counting_changes_at(),
        )
        assert vars(again).keys() == vars(fresh).keys()
        assert all(vars(again)[k] == vars(fresh)[k] for k in vars(fresh) if k != "source")
    a = convert.cycle_type(running, policy, "urgent", {"status": "new"}, t)
    assert a is not convert.cycle_type(running, policy, "urgent", {"status": "new"}, t)
    assert a.counting() != convert.cycle_type(running, policy, None, {}, t).counting()
