"""`Cycle.counting` / `Cycle.countingChangesAt` over GraphQL (issue 12): the engine's answer,
for stored tickets (at the request instant) and for dry runs (at `explain`'s `now`)."""

from __future__ import annotations

from tests.service.conftest import Api
from tests.service.gql import RECORD_EVENTS, RECORD_TICKET, status, ticket

CYCLES = """query { tickets(first: 10) { edges { node { id
  cycles { metric state counting countingChangesAt } } } } }"""

OFFICE = """\
calendar office {
  timezone "America/Sao_Paulo"
  hours mon-fri 09:00-18:00
}
level office { calendar office resolution 12h }
default level office
"""

EXPLAIN = """query($rules: String, $now: DateTime) {
  explain(ticket: {id: "X", createdAt: "2026-03-02T12:00:00Z", fields: {status: "new"}},
          now: $now, rules: $rules) {
    cycles { metric state remainingSeconds counting countingChangesAt } } }"""


def test_stored_tickets_say_whether_their_clock_runs(api: Api) -> None:
    api.data(RECORD_TICKET, ticket("T-open"))
    api.data(RECORD_TICKET, ticket("T-done"))
    api.clock.advance(minutes=30)
    api.data(RECORD_EVENTS, {"events": [status("s1", "T-done", "2026-03-02T12:20:00Z", "solved")]})
    got = {e["node"]["id"]: e["node"]["cycles"] for e in api.data(CYCLES)["tickets"]["edges"]}
    # the service tests' ruleset is 24x7: a running cycle counts and never stops by itself
    assert got["T-open"] == [
        {"metric": "RESOLUTION", "state": "ACTIVE", "counting": True, "countingChangesAt": None}
    ]
    assert got["T-done"] == [
        {"metric": "RESOLUTION", "state": "MET", "counting": False, "countingChangesAt": None}
    ]


def test_a_closed_calendar_stops_the_clock_until_it_opens(api: Api) -> None:
    # 22:00 in São Paulo (01:00Z Tuesday): closed until 09:00 local = 12:00Z
    night = api.data(EXPLAIN, {"rules": OFFICE, "now": "2026-03-03T01:00:00Z"})["explain"]
    assert night["cycles"] == [
        {
            "metric": "RESOLUTION",
            "state": "ACTIVE",
            "remainingSeconds": 3 * 3600,  # 9h counted Monday 09:00-18:00 local
            "counting": False,
            "countingChangesAt": "2026-03-03T12:00:00Z",
        }
    ]
    day = api.data(EXPLAIN, {"rules": OFFICE, "now": "2026-03-02T13:00:00Z"})["explain"]
    assert day["cycles"][0]["counting"] is True
    assert day["cycles"][0]["countingChangesAt"] == "2026-03-02T21:00:00Z"
