"""The report filters over GraphQL and the CSV exports (issues 12 item 4 and 18)."""

from __future__ import annotations

import csv
import io

from tests.service.conftest import Api
from tests.service.gql import RECORD_EVENTS, RECORD_TICKET, status, ticket

COMPLIANCE = """query($f: SlaLogFilter, $g: [ComplianceDimension!]!) {
  compliance(from: "2026-03-02T00:00:00Z", to: "2026-03-03T00:00:00Z", groupBy: $g, filter: $f) {
    level department metCount breachedCount serviceLevel
  }
}"""


def _seed(api: Api) -> None:
    api.data(RECORD_TICKET, ticket("T-1", tags=["urgent"], department="Ops", priority="high"))
    api.data(RECORD_TICKET, ticket("T-2", department="sales", source="chat"))
    api.data(RECORD_TICKET, ticket("T-3", tags=["spam"], department="ops"))
    api.clock.advance(hours=2)
    api.data(RECORD_EVENTS, {"events": [status("s", "T-2", "2026-03-02T12:30:00Z", "solved")]})


def test_compliance_takes_the_sla_log_filter(api: Api) -> None:
    _seed(api)
    everything = api.data(COMPLIANCE, {"g": ["LEVEL"]})["compliance"]
    assert [(r["level"], r["metCount"], r["breachedCount"]) for r in everything] == [
        ("standard", 1, 0),
        ("urgent", 0, 1),
    ]
    by_level = api.data(COMPLIANCE, {"g": ["LEVEL"], "f": {"level": "urgent"}})["compliance"]
    assert [(r["level"], r["breachedCount"]) for r in by_level] == [("urgent", 1)]
    ops = api.data(COMPLIANCE, {"g": ["DEPARTMENT"], "f": {"department": "OPS"}})["compliance"]
    assert [(r["department"], r["breachedCount"]) for r in ops] == [("Ops", 1)]
    met = api.data(COMPLIANCE, {"g": [], "f": {"state": "MET", "metric": "RESOLUTION"}})
    assert [(r["metCount"], r["breachedCount"]) for r in met["compliance"]] == [(1, 0)]
    chat = api.data(COMPLIANCE, {"g": [], "f": {"source": "chat"}})["compliance"]
    assert [(r["metCount"], r["breachedCount"]) for r in chat] == [(1, 0)]


def test_export_compliance_accepts_the_sla_log_export_filters(api: Api) -> None:
    """Regression (issue 12 item 4): the compliance CSV ignored level and department."""
    _seed(api)
    base = "/export/compliance.csv?from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z"
    rows = list(csv.DictReader(io.StringIO(api.client.get(base + "&level=urgent").text)))
    assert [(x["met_count"], x["breached_count"]) for x in rows] == [("0", "1")]
    rows = list(csv.DictReader(io.StringIO(api.client.get(base + "&department=SALES").text)))
    assert [(x["met_count"], x["breached_count"]) for x in rows] == [("1", "0")]
    rows = list(csv.DictReader(io.StringIO(api.client.get(base + "&priority=high").text)))
    assert [(x["met_count"], x["breached_count"]) for x in rows] == [("0", "1")]
    bad = api.client.get(base + "&state=sleeping")
    assert bad.status_code == 400 and "sleeping" in bad.json()["error"]


def test_export_sla_log_filters_on_priority_and_source(api: Api) -> None:
    _seed(api)
    r = api.client.get("/export/sla-log.csv?source=chat")
    assert [x["ticket_id"] for x in csv.DictReader(io.StringIO(r.text))] == ["T-2"]
    r = api.client.get("/export/sla-log.csv?priority=high&order_by=ticket_id&descending=true")
    assert [x["ticket_id"] for x in csv.DictReader(io.StringIO(r.text))] == ["T-1"]


TICKETS = """query($f: TicketFilter, $after: String) {
  tickets(filter: $f, first: 1, after: $after) {
    totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor }
  }
}"""


def test_tickets_without_an_sla_and_with_one(api: Api) -> None:
    """Regression (issue 12 item 5): `level: "none"` matched no ticket."""
    _seed(api)
    none = api.data(TICKETS, {"f": {"level": "none"}})["tickets"]
    assert none["totalCount"] == 1 and none["edges"][0]["node"]["id"] == "T-3"
    assert api.data(TICKETS, {"f": {"hasSla": False}})["tickets"]["totalCount"] == 1
    with_sla = api.data(TICKETS, {"f": {"hasSla": True, "orderBy": "id"}})["tickets"]
    assert with_sla["totalCount"] == 2 and with_sla["edges"][0]["node"]["id"] == "T-1"
    nxt = api.data(
        TICKETS,
        {"f": {"hasSla": True, "orderBy": "id"}, "after": with_sla["pageInfo"]["endCursor"]},
    )["tickets"]
    assert [e["node"]["id"] for e in nxt["edges"]] == ["T-2"]
    assert not nxt["pageInfo"]["hasNextPage"]
    assert api.data(TICKETS, {"f": {"priority": "high"}})["tickets"]["totalCount"] == 1
    assert (
        api.data(TICKETS, {"f": {"source": "chat", "state": "MET"}})["tickets"]["totalCount"] == 1
    )
    bad = api.error(TICKETS, {"f": {"orderBy": "planet"}})
    assert "planet" in bad["message"]


def test_total_count_is_counted_only_when_selected(api: Api) -> None:
    _seed(api)
    calls: list[bool] = []
    svc = api.runtime.service
    real = svc.store.queries._log_count

    def counting(*a: object, **k: object) -> int:
        calls.append(True)
        return real(*a, **k)  # type: ignore[arg-type]

    svc.store.queries._log_count = counting
    api.data("{ slaLog(first: 2) { edges { cursor } } }")
    assert calls == []
    got = api.data("{ slaLog(first: 2) { ...f } } fragment f on SlaLogConnection { totalCount }")
    assert got["slaLog"]["totalCount"] == 2 and calls == [True]
