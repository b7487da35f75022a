"""recordTicket / recordEvents over HTTP, on SQLite and PostgreSQL (same tests)."""

from __future__ import annotations

from tests.service.conftest import Api
from tests.service.gql import RECORD_EVENTS, RECORD_TICKET, TICKET, message, status, ticket


def test_record_ticket_then_same_input_is_a_noop(api_any: Api) -> None:
    first = api_any.data(RECORD_TICKET, ticket("T-1", tags=["urgent"], department="support"))
    t = first["recordTicket"]
    assert t["createdAt"] == "2026-03-02T12:00:00Z"  # stored and shown in UTC
    assert t["createdBy"] == "CUSTOMER"
    assert t["level"] == {"name": "urgent"} and t["decidedBy"] == "Tagged URGENT"
    assert t["cycles"] == [
        {
            "metric": "RESOLUTION",
            "state": "ACTIVE",
            "dueAt": "2026-03-02T13:00:00Z",
            "elapsedSeconds": 0,
            "remainingSeconds": 3600,
            "rulesetVersion": "rulesv1",
        }
    ]
    before = api_any.counts()
    # the same instant written with another offset is the same input
    again = api_any.data(
        RECORD_TICKET, ticket("T-1", "2026-03-02T12:00:00Z", tags=["urgent"], department="support")
    )
    assert again["recordTicket"]["id"] == "T-1"
    assert api_any.counts() == before


def test_different_input_for_existing_ticket_is_ticket_exists(api_any: Api) -> None:
    api_any.data(RECORD_TICKET, ticket("T-1", tags=["urgent"]))
    before = api_any.counts()
    err = api_any.error(RECORD_TICKET, ticket("T-1", tags=["other"]))
    assert err["extensions"]["code"] == "TICKET_EXISTS"
    assert api_any.counts() == before


def test_bad_fields_are_bad_user_input_and_store_nothing(api_any: Api) -> None:
    err = api_any.error(RECORD_TICKET, ticket("T-1", nosuchfield="x"))
    assert err["extensions"]["code"] == "BAD_USER_INPUT"
    assert "nosuchfield" in err["message"]
    assert api_any.counts()["ticket"] == 0


def test_events_apply_once_and_count_duplicates(api_any: Api) -> None:
    api_any.data(RECORD_TICKET, ticket("T-1"))
    api_any.clock.advance(hours=1)
    evs = [
        message("e1", "T-1", "2026-03-02T12:10:00Z"),
        status("e2", "T-1", "2026-03-02T12:20:00Z", "solved"),
    ]
    r = api_any.data(RECORD_EVENTS, {"events": evs})["recordEvents"]
    assert (r["applied"], r["duplicates"]) == (2, 0)
    t = r["tickets"][0]
    assert t["cycles"] == [
        {"state": "MET", "stoppedAt": "2026-03-02T12:20:00Z", "elapsedSeconds": 1200}
    ]
    assert [e["eventId"] for e in t["events"]] == ["e1", "e2"]
    assert t["events"][0]["payload"] == {"by": "agent", "public": True}
    counts = api_any.counts()
    # resent, plus a duplicate inside the same batch
    r = api_any.data(RECORD_EVENTS, {"events": [*evs, evs[0]]})["recordEvents"]
    assert (r["applied"], r["duplicates"]) == (0, 3)
    assert api_any.counts() == counts


def test_conflicting_event_rolls_back_the_whole_batch(api_any: Api) -> None:
    api_any.data(RECORD_TICKET, ticket("T-1"))
    api_any.data(RECORD_EVENTS, {"events": [message("e1", "T-1", "2026-03-02T12:10:00Z")]})
    before = api_any.counts()
    err = api_any.error(
        RECORD_EVENTS,
        {
            "events": [
                status("e9", "T-1", "2026-03-02T12:30:00Z", "pending"),  # valid, but must not stay
                message("e1", "T-1", "2026-03-02T12:11:00Z"),  # same id, other payload
            ]
        },
    )
    assert err["extensions"]["code"] == "EVENT_CONFLICT"
    assert err["extensions"]["eventId"] == "e1"
    assert api_any.counts() == before


def test_unknown_ticket_is_not_found_and_nothing_is_stored(api_any: Api) -> None:
    api_any.data(RECORD_TICKET, ticket("T-1"))
    before = api_any.counts()
    err = api_any.error(
        RECORD_EVENTS,
        {
            "events": [
                message("e1", "T-1", "2026-03-02T12:10:00Z"),
                message("e2", "NOPE", "2026-03-02T12:10:00Z"),
            ]
        },
    )
    assert err["extensions"]["code"] == "NOT_FOUND"
    assert "NOPE" in err["message"]
    assert api_any.counts() == before


def test_event_before_creation_is_bad_user_input(api_any: Api) -> None:
    api_any.data(RECORD_TICKET, ticket("T-1"))
    before = api_any.counts()
    err = api_any.error(RECORD_EVENTS, {"events": [message("e1", "T-1", "2026-03-02T11:59:59Z")]})
    assert err["extensions"]["code"] == "BAD_USER_INPUT"
    assert err["extensions"]["reason"] == "event-before-creation"
    assert api_any.counts() == before


def test_naive_datetimes_are_rejected_and_store_nothing(api_any: Api) -> None:
    err = api_any.error(RECORD_TICKET, ticket("T-1", "2026-03-02T09:00:00"))
    assert err["extensions"]["code"] == "BAD_USER_INPUT"
    assert "naive" in err["message"]
    api_any.data(RECORD_TICKET, ticket("T-2"))
    before = api_any.counts()
    err = api_any.error(RECORD_EVENTS, {"events": [message("e1", "T-2", "2026-03-02T12:10:00")]})
    assert err["extensions"]["code"] == "BAD_USER_INPUT"
    assert api_any.counts() == before


def test_event_shape_errors(api_any: Api) -> None:
    api_any.data(RECORD_TICKET, ticket("T-1"))
    before = api_any.counts()
    two = {
        "eventId": "e1",
        "ticketId": "T-1",
        "at": "2026-03-02T12:10:00Z",
        "status": "open",
        "message": {"by": "AGENT"},
    }
    err = api_any.error(RECORD_EVENTS, {"events": [two]})
    assert err["extensions"]["code"] == "BAD_USER_INPUT" and "exactly one" in err["message"]
    private = message("e1", "T-1", "2026-03-02T12:10:00Z", by="CUSTOMER", public=False)
    err = api_any.error(RECORD_EVENTS, {"events": [private]})
    assert err["extensions"]["code"] == "BAD_USER_INPUT" and "private" in err["message"]
    both = {
        "eventId": "e1",
        "ticketId": "T-1",
        "at": "2026-03-02T12:10:00Z",
        "update": {"set": {"department": "x"}, "unset": ["department"]},
    }
    err = api_any.error(RECORD_EVENTS, {"events": [both]})
    assert err["extensions"]["code"] == "BAD_USER_INPUT"
    assert api_any.counts() == before


def test_out_of_order_events_are_placed_by_at(api_any: Api) -> None:
    api_any.data(RECORD_TICKET, ticket("T-1"))
    api_any.clock.advance(hours=3)
    api_any.data(
        RECORD_EVENTS, {"events": [status("late", "T-1", "2026-03-02T13:00:00Z", "solved")]}
    )
    # an earlier reopening-free status arrives later: the ticket is done at 12:30 now
    r = api_any.data(
        RECORD_EVENTS, {"events": [status("early", "T-1", "2026-03-02T12:30:00Z", "closed")]}
    )["recordEvents"]
    t = r["tickets"][0]
    assert [e["eventId"] for e in t["events"]] == ["early", "late"]
    assert t["cycles"][0]["stoppedAt"] == "2026-03-02T12:30:00Z"
    # ties on `at` keep arrival order
    api_any.data(RECORD_TICKET, ticket("T-2"))
    api_any.data(
        RECORD_EVENTS,
        {
            "events": [
                status("a", "T-2", "2026-03-02T12:40:00Z", "pending"),
                status("b", "T-2", "2026-03-02T12:40:00Z", "open"),
            ]
        },
    )
    got = api_any.data(TICKET, {"id": "T-2"})["ticket"]
    assert [e["eventId"] for e in got["events"]] == ["a", "b"]
    assert got["fields"]["status"] == "open"


def test_open_cycles_are_reported_as_of_the_request(api_any: Api) -> None:
    api_any.data(RECORD_TICKET, ticket("T-1", tags=["urgent"]))
    api_any.clock.advance(minutes=90)
    t = api_any.data(TICKET, {"id": "T-1"})["ticket"]
    c = t["cycles"][0]
    assert (c["state"], c["elapsedSeconds"], c["remainingSeconds"]) == ("BREACHED", 5400, -1800)
    assert c["breachedAt"] == "2026-03-02T13:00:00Z"
    assert c["warnings"] == [{"percent": 50.0, "at": "2026-03-02T12:30:00Z"}]
    assert api_any.data(TICKET, {"id": "nope"}) == {"ticket": None}


def test_done_ticket_keeps_cycles_of_the_version_that_measured_it(api_any: Api) -> None:
    from slarules.runtime import LiveRuleset
    from tests.service.rules import make_policy

    api_any.data(RECORD_TICKET, ticket("T-done"))
    api_any.data(RECORD_TICKET, ticket("T-open"))
    api_any.clock.advance(hours=1)
    api_any.data(
        RECORD_EVENTS, {"events": [status("s", "T-done", "2026-03-02T12:30:00Z", "solved")]}
    )
    rt = api_any.runtime
    rt.ruleset = LiveRuleset(make_policy("rulesv2"), rt.clock.now(), {})
    done = api_any.data(TICKET, {"id": "T-done"})["ticket"]
    assert done["cycles"][0]["rulesetVersion"] == "rulesv1"
    assert done["evaluations"][-1]["rulesetVersion"] == "rulesv1"
    assert (
        api_any.data(TICKET, {"id": "T-open"})["ticket"]["cycles"][0]["rulesetVersion"] == "rulesv2"
    )


def test_a_naive_datetime_literal_in_the_query_is_bad_input_too(api_any: Api) -> None:
    query = """mutation { recordTicket(input: {id: "T-1", createdAt: "2026-03-02T09:00:00",
               fields: {status: "new"}}) { id } }"""
    err = api_any.error(query, {})
    assert err["extensions"]["code"] == "BAD_USER_INPUT"
    assert "naive" in err["message"]
    assert api_any.counts()["ticket"] == 0
