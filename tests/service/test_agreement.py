"""What CI, the API, `/metrics`, lists and reports say about the same ticket agrees.

Each test here names a disagreement the edges had when they restated engine
rules in copies (one ticket pipeline issue); they run through the real
schema, the real store and the real engine.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from slarules.engine.timers import measure
from slarules.errors import InputError
from slarules.fixtures import FixtureError, parse_fixture
from slarules.store.filters import effective_state_sql
from tests.service.conftest import Api
from tests.service.gql import RECORD_EVENTS, RECORD_TICKET, SLA_LOG, TICKET, TICKETS, ticket
from tests.service.rules import T0, make_policy

CREATED = "2026-03-02T12:00:00Z"
AT = "2026-03-02T12:05:00Z"

# (name, fixture-shape event, expected (code, key) or None for a good event)
EVENTS: list[tuple[str, dict[str, Any], tuple[str, str] | None]] = [
    ("status", {"type": "status", "status": "open"}, None),
    ("message", {"type": "message", "by": "agent", "text": "hi"}, None),
    ("update", {"type": "update", "set": {"priority": "high"}, "unset": ["department"]}, None),
    (
        "unset-unknown-field",
        {"type": "update", "unset": ["no_such_field"]},
        ("bad-value", "events[0].unset"),
    ),
    (
        "set-unknown-field",
        {"type": "update", "set": {"nope": 1}},
        ("bad-value", "events[0].set.nope"),
    ),
    (
        "set-bad-priority",
        {"type": "update", "set": {"priority": "urgentest"}},
        ("bad-value", "events[0].set.priority"),
    ),
    (
        "set-engine-field",
        {"type": "update", "set": {"updated_at": CREATED}},
        ("bad-value", "events[0].set.updated_at"),
    ),
    (
        "set-and-unset",
        {"type": "update", "set": {"department": "x"}, "unset": ["department"]},
        ("bad-value", "events[0].unset"),
    ),
    ("empty-update", {"type": "update"}, ("missing-key", "events[0].set")),
    ("set-bad-type", {"type": "update", "set": {"tags": "x"}}, ("bad-value", "events[0].set.tags")),
    ("empty-status", {"type": "status", "status": " "}, ("bad-value", "events[0].status")),
    (
        "private-customer-message",
        {"type": "message", "by": "customer", "public": False},
        ("bad-value", "events[0].public"),
    ),
    (
        "before-creation",
        {"type": "status", "status": "open", "at": "2026-03-02T11:00:00Z"},
        ("event-before-creation", "events[0].at"),
    ),
]


def _with_at(e: dict[str, Any]) -> dict[str, Any]:
    return {"at": AT, **e}


def _graphql_event(e: dict[str, Any], event_id: str | None = "e1") -> dict[str, Any]:
    """The fixture-shape event as a GraphQL EventInput."""
    e = _with_at(e)
    out: dict[str, Any] = {"at": e["at"]}
    if event_id is not None:
        out.update(eventId=event_id, ticketId="T-1")
    kind = e["type"]
    if kind == "status":
        out["status"] = e["status"]
    elif kind == "message":
        out["message"] = {
            "by": e["by"].upper(),
            **{k: e[k] for k in ("public", "text", "channel") if k in e},
        }
    else:
        out["update"] = {k: e[k] for k in ("set", "unset") if k in e}
    return out


def _fixture_verdict(e: dict[str, Any]) -> tuple[str, str | None] | None:
    doc = {
        "name": "table",
        "now": "2026-03-02T13:00:00Z",
        "ticket": {"id": "T-1", "created_at": CREATED, "status": "new"},
        "events": [_with_at(e)],
        "expect": {"level": "standard"},
    }
    policy = make_policy()
    try:
        fx = parse_fixture(doc, policy, "table.json")
        measure(policy, fx.history, fx.now)
    except (FixtureError, InputError) as err:
        return err.code, err.key
    return None


def _api_verdict(body: dict[str, Any]) -> tuple[str, str | None] | None:
    if not body.get("errors"):
        return None
    ext = body["errors"][0]["extensions"]
    return ext.get("reason"), ext.get("key")


@pytest.mark.parametrize(("name", "event", "expected"), EVENTS, ids=[c[0] for c in EVENTS])
def test_one_intake_judges_an_event_the_same_everywhere(
    api: Api, name: str, event: dict[str, Any], expected: tuple[str, str] | None
) -> None:
    api.clock.set(T0 + timedelta(hours=1))
    api.data(RECORD_TICKET, ticket("T-1", CREATED))
    from_fixture = _fixture_verdict(event)
    from_record = _api_verdict(api.post(RECORD_EVENTS, {"events": [_graphql_event(event)]}))
    explain = (
        "query($t: TicketInput!, $e: [ExplainEventInput!]!) "
        "{ explain(ticket: $t, events: $e) { level { name } } }"
    )
    t = {"id": "T-1", "createdAt": CREATED, "fields": {"status": "new"}}
    from_explain = _api_verdict(
        api.post(explain, {"t": t, "e": [_graphql_event(event, event_id=None)]})
    )
    assert from_fixture == from_record == from_explain == expected


def _metrics_states(api: Api) -> dict[str, int]:
    text = api.client.get("/metrics").text
    return {
        m[0]: int(float(m[1])) for m in re.findall(r'slarules_cycles\{state="(\w+)"\} (\S+)', text)
    }


@pytest.mark.parametrize(("offset", "state"), [(-1, "active"), (0, "active"), (1, "breached")])
def test_every_edge_agrees_at_the_breach_instant(api_any: Api, offset: int, state: str) -> None:
    """Urgent resolution 1h from 12:00: at 13:00 exactly E == T (met if it stopped): active."""
    api = api_any
    api.data(RECORD_TICKET, ticket("T-1", CREATED, tags=["urgent"]))
    api.runtime.scheduler = None  # the stored rows stay as measured at creation
    api.clock.set(T0 + timedelta(hours=1, seconds=offset))
    cycle = api.data(TICKET, {"id": "T-1"})["ticket"]["cycles"][0]
    breached = api.data(TICKETS, {"filter": {"state": "BREACHED"}})["tickets"]["totalCount"]
    log = api.data(SLA_LOG)["slaLog"]["edges"][0]["node"]["state"]
    metrics = _metrics_states(api)
    assert cycle["state"].lower() == state
    assert log.lower() == state
    assert breached == (1 if state == "breached" else 0)
    assert metrics.get(state) == 1 and sum(metrics.values()) == 1


def test_text_filters_and_groups_fold_case_like_the_rules(api_any: Api) -> None:
    api = api_any
    for i, dept in enumerate(["Japan", "japan", "JAPAN", "Straße", "STRASSE", "Brazil"]):
        api.data(RECORD_TICKET, ticket(f"T-{i}", CREATED, department=dept, assignee=dept))
    api.clock.set(T0 + timedelta(hours=9))  # every standard resolution (8h) breached
    for value, n in (("japan", 3), ("JaPaN", 3), ("strasse", 2), ("brazil", 1)):
        for key in ("department", "assignee"):
            got = api.data(TICKETS, {"filter": {key: value}})["tickets"]["totalCount"]
            assert got == n, (key, value)
            log = api.data(SLA_LOG, {"filter": {key: value}})["slaLog"]["totalCount"]
            assert log == n, (key, value)
    q = (
        '{ compliance(from: "2026-03-01T00:00:00Z", to: "2026-03-03T00:00:00Z", '
        "groupBy: [DEPARTMENT]) { department breachedCount } }"
    )
    rows = api.data(q)["compliance"]
    assert sorted((r["department"], r["breachedCount"]) for r in rows) == [
        ("Brazil", 1),
        ("JAPAN", 3),
        ("STRASSE", 2),
    ]


def test_the_evaluation_log_keeps_every_version(api: Api) -> None:
    from slarules.runtime import LiveRuleset

    rt = api.runtime
    api.clock.set(T0 + timedelta(hours=1))
    api.data(RECORD_TICKET, ticket("T-1", CREATED))
    api.data(
        RECORD_EVENTS,
        {"events": [_graphql_event({"type": "update", "set": {"tags": ["urgent"]}})]},
    )
    rt.ruleset = LiveRuleset(make_policy("rulesv2"), rt.clock.now(), {})
    rt.require_service().remeasure(rt.ruleset.policy, ["T-1"], rt.clock.now())
    evals = api.data(TICKET, {"id": "T-1"})["ticket"]["evaluations"]
    versions = [e["rulesetVersion"] for e in evals]
    assert versions == ["rulesv1", "rulesv1", "rulesv2", "rulesv2"]
    assert [e["levelAfter"] for e in evals] == ["standard", "urgent", "standard", "urgent"]
    # re-measuring again under the same version appends nothing
    rt.require_service().remeasure(rt.ruleset.policy, ["T-1"], rt.clock.now())
    assert len(api.data(TICKET, {"id": "T-1"})["ticket"]["evaluations"]) == 4


def test_an_instant_ahead_of_the_server_clock_is_refused(api: Api) -> None:
    from slarules.settings import Settings

    rt = api.runtime
    rt.require_service().recorder.skew = Settings().max_clock_skew  # the default: 5 minutes
    ahead = (T0 + timedelta(minutes=6)).isoformat()
    err = api.error(RECORD_TICKET, ticket("T-1", ahead))
    assert err["extensions"]["reason"] == "in-the-future"
    assert err["extensions"]["key"] == "ticket.created_at"
    assert "12:06:00Z" in err["message"] and "12:00:00Z" in err["message"]
    api.data(RECORD_TICKET, ticket("T-2", (T0 + timedelta(minutes=4)).isoformat()))  # within skew
    api.data(RECORD_TICKET, ticket("T-1", CREATED))
    event = _graphql_event({"type": "status", "status": "open", "at": "2027-01-01T00:00:00Z"})
    err = api.error(RECORD_EVENTS, {"events": [event]})
    assert (err["extensions"]["reason"], err["extensions"]["key"]) == (
        "in-the-future",
        "events[0].at",
    )
    assert api.counts()["event"] == 0


def test_cycle_counts_are_the_effective_states_of_every_row(api_any: Api) -> None:
    """`slarules_cycles` counts the stored states on their index and moves the active ones
    breached as of now: the same as evaluating `effective_state_sql` on every row, at
    instants before, at and after the breaches (urgent 1h, standard 8h resolutions)."""
    api = api_any
    for i in range(6):
        tags = ["urgent"] if i % 2 else []
        created = (T0 + timedelta(minutes=17 * i)).isoformat()
        api.data(RECORD_TICKET, ticket(f"T-{i}", created, tags=tags))
    api.runtime.scheduler = None  # the stored rows stay as measured at creation
    q = api.runtime.store.queries
    s = api.runtime.store.sql
    seen = set()
    for minutes in (0, 59, 60, 61, 77, 95, 200, 480, 481, 600):
        now = T0 + timedelta(minutes=minutes)
        with s.read() as cur:
            s.execute(
                cur,
                f'SELECT {effective_state_sql()}, COUNT(*) FROM "cycle" c GROUP BY 1',
                (s.t(now),),
            )
            every_row = {r[0]: int(r[1]) for r in cur.fetchall()}
        assert q.cycle_states(now) == every_row, minutes
        seen.update(every_row)
    assert {"active", "breached"} <= seen
