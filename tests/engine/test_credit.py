"""Who each cycle is credited to (engine/credit.py): the assignee at the cycle's stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slarules.dsl import build_source
from slarules.engine.credit import credited_assignees
from slarules.engine.ticket import Event, TicketHistory
from slarules.engine.timers import measure

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_R = build_source(
    "level l {\nfirst_response 1h\nperiodic_response 4h\nresolution 8h\n}\ndefault level l\n"
)
assert _R.policy is not None
P = _R.policy


def at(m: int) -> datetime:
    return T0 + timedelta(minutes=m)


def agent(m: int) -> Event:
    return Event(at(m), "message", by="agent")


def assign(m: int, who: str | None) -> Event:
    if who is None:
        return Event(at(m), "update", unset=("assignee",))
    return Event(at(m), "update", set={"assignee": who})


def solved(m: int) -> Event:
    return Event(at(m), "status", status="solved")


def credits(events: tuple[Event, ...], now: int = 600, **fields: Any) -> dict[str, str | None]:
    fields.setdefault("status", "new")
    h = TicketHistory("T", T0, fields, events, "customer")  # type: ignore[arg-type]
    m = measure(P, h, at(now))
    got = credited_assignees(P, h, m)
    assert len(got) == len(m.cycles)
    return {f"{c.metric}#{c.index}": who for c, who in zip(m.cycles, got, strict=True)}


CASES: list[tuple[str, tuple[Event, ...], dict[str, Any], dict[str, str | None]]] = [
    (
        "never reassigned: the one assignee",
        (agent(10), solved(60)),
        {"assignee": "ana"},
        {"first_response#1": "ana", "periodic_response#1": "ana", "resolution#1": "ana"},
    ),
    (
        "reassigned after the first response: that cycle stays with the first agent",
        (agent(10), assign(20, "bruno"), solved(60)),
        {"assignee": "ana"},
        {"first_response#1": "ana", "periodic_response#1": "bruno", "resolution#1": "bruno"},
    ),
    (
        "reassigned after solving: the finished cycles stay with who solved",
        (agent(10), solved(60), assign(90, "carla")),
        {"assignee": "ana"},
        {"first_response#1": "ana", "periodic_response#1": "ana", "resolution#1": "ana"},
    ),
    (
        "assigned in the same instant as the stop: the fields after that instant",
        (agent(10), assign(10, "bruno")),
        {"assignee": "ana"},
        {"first_response#1": "bruno", "periodic_response#1": "bruno", "resolution#1": "bruno"},
    ),
    (
        "unassigned at the stop: nobody",
        (assign(5, None), agent(10), assign(30, "carla")),
        {"assignee": "ana"},
        {"first_response#1": None, "periodic_response#1": "carla", "resolution#1": "carla"},
    ),
    (
        "running cycles: today's assignee",
        (assign(5, "bruno"),),
        {},
        {"first_response#1": "bruno", "resolution#1": "bruno"},
    ),
]


@pytest.mark.parametrize(
    ("events", "fields", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_credit_table(
    events: tuple[Event, ...], fields: dict[str, Any], want: dict[str, str | None]
) -> None:
    assert credits(events, **fields) == want


def test_events_after_now_do_not_count() -> None:
    got = credits((agent(10), assign(700, "zoe")), now=600, assignee="ana")
    assert set(got.values()) == {"ana"}
