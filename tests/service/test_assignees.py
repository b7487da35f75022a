"""`assignees(from, to, filter)`: the per-agent view (issue 12), each cycle credited to the
assignee when it stopped (engine/credit.py), not to today's assignee."""

from __future__ import annotations

from typing import Any

from tests.service.conftest import Api
from tests.service.gql import RECORD_EVENTS, RECORD_TICKET, status, ticket

ASSIGNEES = """query($from: DateTime!, $to: DateTime!, $filter: SlaLogFilter) {
  assignees(from: $from, to: $to, filter: $filter) {
    assignee openCount atRiskCount breachedCount metCount missedCount serviceLevel } }"""
DAY = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}


def reassign(event_id: str, ticket_id: str, at: str, who: str) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "ticketId": ticket_id,
        "at": at,
        "update": {"set": {"assignee": who}},
    }


def _seed(api: Api) -> None:
    """At 12:45Z: T-a (standard) solved by ana at 12:20, then reassigned to bruno; T-b
    (urgent, bruno) past its 50 % warning since 12:30; T-c (urgent, ana) breached since 11:00."""
    api.data(RECORD_TICKET, ticket("T-a", assignee="ana", department="sales"))
    api.data(RECORD_TICKET, ticket("T-b", tags=["urgent"], assignee="bruno", department="ops"))
    api.data(
        RECORD_TICKET,
        ticket("T-c", "2026-03-02T10:00:00Z", tags=["urgent"], assignee="Ana", department="ops"),
    )
    api.clock.advance(minutes=30)
    api.data(
        RECORD_EVENTS,
        {
            "events": [
                status("s1", "T-a", "2026-03-02T12:20:00Z", "solved"),
                reassign("u1", "T-a", "2026-03-02T12:25:00Z", "bruno"),
            ]
        },
    )
    api.clock.advance(minutes=15)


def by_name(rows: list[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    return {r.pop("assignee").casefold() if r["assignee"] else None: r for r in rows}


def test_cycles_are_credited_at_their_stop_and_counted_as_of_now(api_any: Api) -> None:
    _seed(api_any)
    got = by_name(api_any.data(ASSIGNEES, DAY)["assignees"])
    assert got == {
        # T-a's met cycle stays with ana though bruno holds the ticket now
        "ana": {
            "openCount": 1,
            "atRiskCount": 0,
            "breachedCount": 1,
            "metCount": 1,
            "missedCount": 1,
            "serviceLevel": 50.0,
        },
        # T-b's warning was reached after its last measure: at risk all the same
        "bruno": {
            "openCount": 1,
            "atRiskCount": 1,
            "breachedCount": 0,
            "metCount": 0,
            "missedCount": 0,
            "serviceLevel": None,
        },
    }


def test_filters_and_range(api: Api) -> None:
    _seed(api)
    only = api.data(ASSIGNEES, {**DAY, "filter": {"assignee": "ANA"}})["assignees"]
    assert [(r["assignee"].casefold(), r["metCount"]) for r in only] == [("ana", 1)]
    urgent = by_name(api.data(ASSIGNEES, {**DAY, "filter": {"level": "urgent"}})["assignees"])
    assert urgent["ana"]["metCount"] == 0 and urgent["ana"]["missedCount"] == 1
    assert urgent["bruno"]["atRiskCount"] == 1
    sales = api.data(ASSIGNEES, {**DAY, "filter": {"department": "SALES"}})["assignees"]
    assert [(r["assignee"], r["metCount"], r["openCount"]) for r in sales] == [("ana", 1, 0)]
    # another day: finished cycles drop out, running ones still show
    later = {"from": "2026-03-05T00:00:00Z", "to": "2026-03-06T00:00:00Z"}
    rows = by_name(api.data(ASSIGNEES, later)["assignees"])
    assert rows["ana"]["metCount"] == 0 and rows["ana"]["openCount"] == 1
    assert rows["bruno"]["openCount"] == 1
    err = api.error(ASSIGNEES, {"from": DAY["to"], "to": DAY["from"]})
    assert err["extensions"]["code"] == "BAD_USER_INPUT"


def test_unassigned_cycles_are_their_own_row(api: Api) -> None:
    api.data(RECORD_TICKET, ticket("T-n"))
    rows = api.data(ASSIGNEES, DAY)["assignees"]
    assert rows == [
        {
            "assignee": None,
            "openCount": 1,
            "atRiskCount": 0,
            "breachedCount": 0,
            "metCount": 0,
            "missedCount": 0,
            "serviceLevel": None,
        }
    ]
