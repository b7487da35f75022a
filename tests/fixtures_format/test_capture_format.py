"""A captured ticket is a fixture document fixtures.md accepts, and it passes as written."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from slarules.fixtures import parse_fixture
from slarules.service.capture import anonymize, capture, pseudonym, verify
from slarules.store.rows import EventRow, TicketHead
from tests.service.rules import make_policy

T = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _stored() -> tuple[TicketHead, list[EventRow]]:
    head = TicketHead(
        "X-1",
        T,
        "customer",
        {"tags": ("billing",), "renewal_date": date(2026, 4, 1), "requester": "eve@corp.example"},
        False,
        None,
    )
    rows = [
        EventRow("a", T + timedelta(minutes=5), "message",
                 {"by": "customer", "public": True, "text": "still broken", "channel": None}),
        EventRow("b", T + timedelta(minutes=10), "update",
                 {"set": {"tags": ["billing", "urgent"], "renewal_date": {"$date": "2026-05-01"}},
                  "unset": ["requester"]}),
        EventRow("c", T + timedelta(hours=2), "status", {"status": "solved"}),
        EventRow("d", T + timedelta(days=9), "status", {"status": "open"}),  # after `now`
    ]  # fmt: skip
    return head, rows


def test_capture_is_a_valid_fixture_that_passes() -> None:
    policy = make_policy()
    head, rows = _stored()
    got = capture(policy, head, rows, T + timedelta(days=1))
    doc = json.loads(json.dumps(got.doc))  # what the file holds
    assert got.left_out == 1 and len(doc["events"]) == 3
    fx = parse_fixture(doc, policy, "x.json")
    assert fx.history.fields["renewal_date"] == date(2026, 4, 1)
    assert fx.history.events[1].set["renewal_date"] == date(2026, 5, 1)
    assert fx.history.events[1].unset == ("requester",)
    assert doc["expect"]["level"] == "urgent" and doc["expect"]["rule"] == "Tagged URGENT"
    assert doc["expect"]["first_response"] == "none"
    assert doc["expect"]["resolution"][0]["state"] == "breached"
    assert doc["expect"]["warnings"] == [
        {"metric": "resolution", "percent": 50.0, "at": "2026-03-02T12:30:00Z"}
    ]
    assert verify(policy, doc) == []


def test_a_wrong_expectation_is_caught_by_verify() -> None:
    policy = make_policy()
    head, rows = _stored()
    doc = capture(policy, head, rows, T + timedelta(days=1)).doc
    doc["expect"]["level"] = "standard"
    assert verify(policy, doc) == ["level: expected `standard`, got `urgent`"]


def test_pseudonyms_are_stable_and_keyed() -> None:
    assert pseudonym("requester", "eve") == pseudonym("requester", "eve")
    assert pseudonym("requester", "eve") != pseudonym("requester", "eva")
    assert pseudonym("requester", "eve", "k") != pseudonym("requester", "eve")
    policy = make_policy()
    head, rows = _stored()
    anon = anonymize(policy, capture(policy, head, rows, T + timedelta(days=1)))
    assert anon.doc["ticket"]["requester"] == pseudonym("requester", "eve@corp.example")
    assert anon.doc["events"][0]["text"] == pseudonym("text", "still broken")
    assert anon.kept == () and verify(policy, anon.doc) == []
