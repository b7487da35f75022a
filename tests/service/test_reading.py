"""Reading: tickets (filters, due order, cursors), slaLog, compliance, ruleset, explain,
checkRules."""

from __future__ import annotations

from typing import Any

import pytest

from slarules.dsl.source import BuildResult
from slarules.errors import Diagnostic
from slarules.settings import DatabaseConfig
from tests.service.conftest import Api, open_api
from tests.service.gql import RECORD_EVENTS, RECORD_TICKET, SLA_LOG, TICKETS, status, ticket
from tests.service.rules import make_policy


def _seed(api: Api) -> None:
    """T-u1, T-u2 urgent (due 13:00, 13:10); T-s standard (due 20:00); T-d done; T-spam no SLA."""
    api.data(RECORD_TICKET, ticket("T-u1", tags=["urgent"], department="ops"))
    api.data(RECORD_TICKET, ticket("T-s", department="sales", assignee="ana"))
    api.data(RECORD_TICKET, ticket("T-spam", tags=["spam"]))
    api.data(RECORD_TICKET, ticket("T-d", department="sales"))
    api.data(
        RECORD_TICKET, ticket("T-u2", "2026-03-02T12:10:00Z", tags=["urgent"], department="ops")
    )
    api.clock.advance(minutes=30)
    api.data(RECORD_EVENTS, {"events": [status("s1", "T-d", "2026-03-02T12:20:00Z", "solved")]})


def ids(conn: dict[str, Any]) -> list[str]:
    return [e["node"]["id"] for e in conn["edges"]]


def test_tickets_sorted_by_earliest_open_due(api_any: Api) -> None:
    _seed(api_any)
    got = api_any.data(TICKETS)["tickets"]
    # running cycles first by due; done and no-SLA tickets (nothing due) last, by id
    assert ids(got) == ["T-u1", "T-u2", "T-s", "T-d", "T-spam"]
    assert got["totalCount"] == 5


def test_tickets_cursor_pagination_walks_every_ticket_once(api_any: Api) -> None:
    _seed(api_any)
    seen, after = [], None
    while True:
        page = api_any.data(TICKETS, {"first": 2, "after": after})["tickets"]
        seen += ids(page)
        assert page["totalCount"] == 5
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["T-u1", "T-u2", "T-s", "T-d", "T-spam"]
    err = api_any.error(TICKETS, {"after": "garbage!"})
    assert err["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("filt", "expected", "minutes"),
    [
        ({"state": "BREACHED"}, [], 30),
        ({"state": "BREACHED"}, ["T-u1"], 61),  # active with due passed reads as breached
        ({"state": "BREACHED"}, ["T-u1", "T-u2"], 71),
        ({"state": "ACTIVE"}, ["T-u2", "T-s"], 61),
        ({"state": "MET"}, ["T-d"], 30),
        ({"level": "urgent"}, ["T-u1", "T-u2"], 30),
        ({"department": "sales"}, ["T-s", "T-d"], 30),
        ({"assignee": "ana"}, ["T-s"], 30),
        ({"metric": "RESOLUTION", "dueBefore": "2026-03-02T13:05:00Z"}, ["T-u1"], 30),
        ({"dueAfter": "2026-03-02T13:05:00Z"}, ["T-u2", "T-s", "T-d"], 30),
        (
            {"breachedFrom": "2026-03-02T13:00:00Z", "breachedTo": "2026-03-02T13:05:00Z"},
            ["T-u1"],
            120,
        ),
        ({"createdFrom": "2026-03-02T12:05:00Z"}, ["T-u2"], 30),
        ({"createdTo": "2026-03-02T12:05:00Z"}, ["T-u1", "T-s", "T-d", "T-spam"], 30),
    ],
)
@pytest.mark.parametrize("dense", [False, True], ids=["sort-matches", "walk-due-index"])
def test_ticket_filters(
    api_any: Api,
    filt: dict[str, str],
    expected: list[str],
    minutes: int,
    dense: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if dense:  # both page plans give the same answer
        monkeypatch.setattr("slarules.store.queries.DENSE_MATCHES", 0)
    _seed(api_any)
    api_any.clock.advance(minutes=minutes - 30)
    got = api_any.data(TICKETS, {"filter": filt})["tickets"]
    assert ids(got) == expected
    assert got["totalCount"] == len(expected)


def test_page_of_50_tickets_with_cycles_has_no_n_plus_1(sqlite_db: DatabaseConfig) -> None:
    with open_api(sqlite_db, scheduler=False) as api:  # count this request's statements only
        _page_of_50(api)


def _page_of_50(api: Api) -> None:
    q = (
        "query { tickets(first: 50) { edges { node { id level { name } cycles { state } "
        "events { type } evaluations { at } } } } }"
    )
    for i in range(60):
        api.data(RECORD_TICKET, ticket(f"T-{i:03}", tags=["urgent"] if i % 2 else []))
    api.data(
        RECORD_EVENTS,
        {
            "events": [
                status(f"s{i}", f"T-{i:03}", "2026-03-02T12:00:00Z", "solved")
                for i in range(0, 60, 3)
            ]
        },
    )
    sql = api.runtime.store.sql
    before = sql.statements
    got = api.data(q)["tickets"]["edges"]
    assert len(got) == 50 and all(e["node"]["cycles"] for e in got)
    page_statements = sql.statements - before
    # page + count, then one batch: tickets, events, evaluation logs, checkpoints,
    # stored rows + cycles (done ones and open ones with a checkpoint)
    assert page_statements <= 8, page_statements
    before = sql.statements
    api.data("query { tickets(first: 5) { edges { node { id cycles { state } } } } }")
    assert sql.statements - before <= page_statements  # the same few, whatever the page size


def test_sla_log_filters_order_and_pages(api_any: Api) -> None:
    _seed(api_any)
    api_any.clock.advance(minutes=31)  # 13:01: T-u1 overdue by 60 s
    rows = api_any.data(SLA_LOG)["slaLog"]
    assert rows["totalCount"] == 4  # the spam ticket has no cycles
    nodes = [e["node"] for e in rows["edges"]]
    assert [n["ticketId"] for n in nodes] == ["T-d", "T-s", "T-u1", "T-u2"]  # by started_at
    u1 = next(n for n in nodes if n["ticketId"] == "T-u1")
    assert (u1["state"], u1["elapsedSeconds"], u1["remainingSeconds"]) == ("BREACHED", 3660, -60)
    d = next(n for n in nodes if n["ticketId"] == "T-d")
    assert (d["state"], d["stoppedAt"], d["elapsedSeconds"]) == (
        "MET",
        "2026-03-02T12:20:00Z",
        1200,
    )
    by_due = api_any.data(SLA_LOG, {"filter": {"orderBy": "dueAt", "descending": True}})
    assert [e["node"]["ticketId"] for e in by_due["slaLog"]["edges"]] == [
        "T-s",
        "T-d",
        "T-u2",
        "T-u1",
    ]
    breached = api_any.data(SLA_LOG, {"filter": {"state": "BREACHED", "level": "urgent"}})
    assert [e["node"]["ticketId"] for e in breached["slaLog"]["edges"]] == ["T-u1"]
    page = api_any.data(SLA_LOG, {"first": 3})["slaLog"]
    assert page["pageInfo"]["hasNextPage"]
    rest = api_any.data(SLA_LOG, {"first": 3, "after": page["pageInfo"]["endCursor"]})["slaLog"]
    assert [e["node"]["ticketId"] for e in rest["edges"]] == ["T-u2"]
    err = api_any.error(SLA_LOG, {"filter": {"orderBy": "nonsense"}})
    assert err["extensions"]["code"] == "BAD_USER_INPUT" and "started_at" in err["message"]


def test_compliance_groups_finished_cycles(api_any: Api) -> None:
    _seed(api_any)
    api_any.clock.advance(minutes=90)  # 14:00: both urgent tickets breached, still running
    q = """query($g: [ComplianceDimension!]!) { compliance(from: "2026-03-02T00:00:00-03:00",
           to: "2026-03-03T00:00:00-03:00", groupBy: $g) { day level metric metCount
           metAvgSeconds breachedCount breachedMaxSeconds serviceLevel } }"""
    rows = api_any.data(q, {"g": ["LEVEL"]})["compliance"]
    assert rows == [
        {
            "day": None,
            "level": "standard",
            "metric": None,
            "metCount": 1,
            "metAvgSeconds": 1200.0,
            "breachedCount": 0,
            "breachedMaxSeconds": None,
            "serviceLevel": 100.0,
        },
        {
            "day": None,
            "level": "urgent",
            "metric": None,
            "metCount": 0,
            "metAvgSeconds": None,
            "breachedCount": 2,
            "breachedMaxSeconds": 7200,
            "serviceLevel": 0.0,
        },
    ]
    by_day = api_any.data(q, {"g": ["DAY", "METRIC"]})["compliance"]
    assert [(r["day"], r["metric"], r["metCount"], r["breachedCount"]) for r in by_day] == [
        ("2026-03-02", "RESOLUTION", 1, 2)
    ]
    empty = api_any.data("""{ compliance(from: "2020-01-01T00:00:00Z", to: "2020-01-02T00:00:00Z")
                          { metCount breachedCount serviceLevel } }""")["compliance"]
    assert empty == [{"metCount": 0, "breachedCount": 0, "serviceLevel": None}]


def test_ruleset(api: Api) -> None:
    got = api.data(
        "{ ruleset { version loadedAt files calendars remeasuring "
        "levels { name title calendar targets { metric seconds table } } "
        "rules { title file line setLevel stop matched } } }"
    )["ruleset"]
    assert got["version"] == "rulesv1" and got["loadedAt"] == "2026-03-02T12:00:00Z"
    assert got["levels"][1] == {
        "name": "urgent",
        "title": "Urgent",
        "calendar": "always",
        "targets": [{"metric": "RESOLUTION", "seconds": 3600, "table": None}],
    }
    assert got["rules"][0] == {
        "title": "Tagged URGENT",
        "file": "rules.sla",
        "line": 22,
        "setLevel": "urgent",
        "stop": True,
        "matched": False,
    }


EXPLAIN = """query($rules: String, $now: DateTime) {
  explain(ticket: {id: "X", createdAt: "2026-03-02T12:00:00Z", fields: {tags: ["urgent"]}},
          events: [{at: "2026-03-02T12:30:00Z", status: "solved"}], now: $now, rules: $rules) {
    level { name } decidedBy rules { title matched } cycles { state elapsedSeconds } } }"""


def _fake_build(text: str, name: str, cancel: object = None) -> BuildResult:
    if "broken" in text:
        return BuildResult(
            None,
            (
                Diagnostic(
                    "error", "syntax-error", "missing `then`", name, 1, 5, hint="write `then`"
                ),
            ),
        )
    return BuildResult(make_policy("fromtext"), ())


def test_explain_is_a_dry_run(api: Api) -> None:
    api.runtime.build_source = _fake_build
    api.clock.advance(hours=1)  # `now` defaults to the request time
    got = api.data(EXPLAIN)["explain"]
    assert got["level"] == {"name": "urgent"} and got["decidedBy"] == "Tagged URGENT"
    assert got["cycles"] == [{"state": "MET", "elapsedSeconds": 1800}]
    assert api.counts()["ticket"] == 0 and api.counts()["event"] == 0
    err = api.error(EXPLAIN, {"rules": "broken"})
    assert err["extensions"]["code"] == "INVALID_RULES"
    assert err["extensions"]["diagnostics"][0]["code"] == "syntax-error"
    assert api.data(EXPLAIN, {"rules": "fine"})["explain"]["level"] == {"name": "urgent"}
    err = api.error(EXPLAIN, {"now": "2026-03-02T12:00:00"})
    assert err["extensions"]["code"] == "BAD_USER_INPUT"


def test_check_rules_returns_diagnostics(api: Api) -> None:
    api.runtime.build_source = _fake_build
    q = (
        "query($s: String!) { checkRules(source: $s) "
        "{ severity code message file line column hint } }"
    )
    assert api.data(q, {"s": "fine"})["checkRules"] == []
    assert api.data(q, {"s": "broken"})["checkRules"] == [
        {
            "severity": "error",
            "code": "syntax-error",
            "message": "missing `then`",
            "file": "<source>",
            "line": 1,
            "column": 5,
            "hint": "write `then`",
        }
    ]


def test_check_rules_with_the_real_checker(api: Api) -> None:
    q = "query($s: String!) { checkRules(source: $s) { severity code file line column } }"
    ok = "level basic { first_response 1h }\ndefault level basic\n"
    assert [d for d in api.data(q, {"s": ok})["checkRules"] if d["severity"] == "error"] == []
    bad = api.data(q, {"s": 'rule "x" {\n  when statuss == "open"\n  set level nope\n}\n'})
    codes = {(d["code"], d["line"]) for d in bad["checkRules"] if d["severity"] == "error"}
    assert {("unknown-field", 2), ("unknown-level", 3)} <= codes
