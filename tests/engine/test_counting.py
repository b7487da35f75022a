"""Whether a cycle's business clock runs at `now`, and when that flips (engine/counting.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slarules.dsl import build_source
from slarules.engine.counting import Clock, clock
from slarules.engine.policy import Policy
from slarules.engine.ticket import Event, TicketHistory
from slarules.engine.timers import measure

RULES = """\
calendar office {
  timezone "Europe/Paris"
  hours mon-fri 09:00-12:00, 13:00-18:00
}
calendar daily {
  timezone "Europe/Paris"
  hours mon-sun 09:00-17:00
}
calendar nights {
  timezone "UTC"
  hours mon-sun 22:00-24:00, 00:00-06:00
}
calendar fullparis {
  timezone "Europe/Paris"
  hours mon-sun 00:00-24:00
}
level office { calendar office resolution 40h first_response 4h
  pause when tags contains "vendor" }
level daily { calendar daily resolution 40h }
level nights { calendar nights resolution 40h }
level fullparis { calendar fullparis resolution 40h }
level allday { resolution 40h requester_wait 4h agent_work 4h
  pause agent_work when tags contains "visit" }
default level office
rule "daily" { when tags contains "daily" set level daily stop }
rule "nights" { when tags contains "nights" set level nights stop }
rule "fullparis" { when tags contains "fullparis" set level fullparis stop }
rule "always" { when tags contains "always" set level allday stop }
"""

MON = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # Monday; Paris is UTC+1 until 29 March


def policy() -> Policy:
    result = build_source(RULES, "rules.sla")
    assert result.policy is not None, [d.render() for d in result.diagnostics]
    return result.policy


P = policy()


def z(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def clocks(
    tag: str,
    created: str,
    now: str,
    events: tuple[Event, ...] = (),
    **fields: Any,
) -> dict[str, Clock]:
    fields.setdefault("status", "new")
    fields["tags"] = (tag,) if tag else ()
    h = TicketHistory("T", z(created), fields, events, "customer")  # type: ignore[arg-type]
    m = measure(P, h, z(now))
    return {
        f"{c.metric}#{c.index}": clock(P, m.level, c, m.fields, m.now)
        for c in m.cycles
        if c.metric in ("resolution", "first_response", "agent_work", "requester_wait")
    }


def flip(counting: bool, at: str | None) -> Clock:
    return Clock(counting, None if at is None else z(at))


CASES: list[tuple[str, dict[str, Any], dict[str, Clock]]] = [
    (
        "office, Monday 10:00 Paris: open, closes at lunch",
        {"tag": "", "created": "2026-03-02T08:30:00Z", "now": "2026-03-02T09:00:00Z"},
        {
            "resolution#1": flip(True, "2026-03-02T11:00:00Z"),
            "first_response#1": flip(True, "2026-03-02T11:00:00Z"),
        },
    ),
    (
        "office, lunch: closed until 13:00 Paris",
        {"tag": "", "created": "2026-03-02T08:30:00Z", "now": "2026-03-02T11:30:00Z"},
        {
            "resolution#1": flip(False, "2026-03-02T12:00:00Z"),
            "first_response#1": flip(False, "2026-03-02T12:00:00Z"),
        },
    ),
    (
        "office, Monday night: closed until Tuesday 09:00 Paris",
        {"tag": "", "created": "2026-03-02T08:30:00Z", "now": "2026-03-02T22:00:00Z"},
        {
            "resolution#1": flip(False, "2026-03-03T08:00:00Z"),
            "first_response#1": flip(False, "2026-03-03T08:00:00Z"),
        },
    ),
    (
        "office, Friday evening: closed over the weekend until Monday",
        {"tag": "", "created": "2026-03-06T08:30:00Z", "now": "2026-03-06T18:00:00Z"},
        {
            "resolution#1": flip(False, "2026-03-09T08:00:00Z"),
            "first_response#1": flip(False, "2026-03-09T08:00:00Z"),
        },
    ),
    (
        "office, the closing instant itself is closed (end exclusive)",
        {"tag": "", "created": "2026-03-02T08:30:00Z", "now": "2026-03-02T17:00:00Z"},
        {
            "resolution#1": flip(False, "2026-03-03T08:00:00Z"),
            "first_response#1": flip(False, "2026-03-03T08:00:00Z"),
        },
    ),
    (
        "office, paused by a pause condition: never flips without an event",
        {
            "tag": "",
            "created": "2026-03-02T08:30:00Z",
            "now": "2026-03-02T10:00:00Z",
            "events": (Event(z("2026-03-02T09:00:00Z"), "update", set={"tags": ("vendor",)}),),
        },
        {"resolution#1": flip(False, None), "first_response#1": flip(False, None)},
    ),
    (
        "office, an agent answered: first response stopped, resolution counts",
        {
            "tag": "",
            "created": "2026-03-02T08:30:00Z",
            "now": "2026-03-02T10:00:00Z",
            "events": (Event(z("2026-03-02T09:00:00Z"), "message", by="agent"),),
        },
        {"resolution#1": flip(True, "2026-03-02T11:00:00Z"), "first_response#1": flip(False, None)},
    ),
    (
        "office, solved: everything stopped",
        {
            "tag": "",
            "created": "2026-03-02T08:30:00Z",
            "now": "2026-03-02T10:00:00Z",
            "events": (Event(z("2026-03-02T09:00:00Z"), "status", status="solved"),),
        },
        {"resolution#1": flip(False, None), "first_response#1": flip(False, None)},
    ),
    (
        "24x7 (always): counts and never flips",
        {"tag": "always", "created": "2026-03-02T08:30:00Z", "now": "2026-03-03T03:00:00Z"},
        {
            "resolution#1": flip(True, None),
            "agent_work#1": flip(True, None),
            "requester_wait#1": flip(True, None),
        },
    ),
    (
        "24x7, pending (a waiting status): both wait metrics stop counting",
        {
            "tag": "always",
            "created": "2026-03-02T08:30:00Z",
            "now": "2026-03-03T03:00:00Z",
            "events": (Event(z("2026-03-02T09:00:00Z"), "status", status="pending"),),
        },
        {
            "resolution#1": flip(True, None),
            "agent_work#1": flip(False, None),
            "requester_wait#1": flip(False, None),
        },
    ),
    (
        "24x7, a pause condition on tags covers agent work only",
        {
            "tag": "always",
            "created": "2026-03-02T08:30:00Z",
            "now": "2026-03-02T10:00:00Z",
            "events": (
                Event(z("2026-03-02T09:00:00Z"), "update", set={"tags": ("always", "visit")}),
            ),
        },
        {
            "resolution#1": flip(True, None),
            "agent_work#1": flip(False, None),
            "requester_wait#1": flip(True, None),
        },
    ),
    (
        "night hours across midnight: one open range 22:00-06:00",
        {"tag": "nights", "created": "2026-03-02T21:00:00Z", "now": "2026-03-02T23:00:00Z"},
        {"resolution#1": flip(True, "2026-03-03T06:00:00Z")},
    ),
    (
        "around the clock in Paris: never closes, DST or not",
        {"tag": "fullparis", "created": "2026-03-28T08:30:00Z", "now": "2026-03-29T01:30:00Z"},
        {"resolution#1": flip(True, None)},
    ),
    (
        "DST spring forward: closed Saturday night, opens 09:00 CEST = 07:00Z",
        {"tag": "daily", "created": "2026-03-28T08:30:00Z", "now": "2026-03-28T20:00:00Z"},
        {"resolution#1": flip(False, "2026-03-29T07:00:00Z")},
    ),
    (
        "DST spring forward: open Sunday, closes 17:00 CEST = 15:00Z",
        {"tag": "daily", "created": "2026-03-28T08:30:00Z", "now": "2026-03-29T10:00:00Z"},
        {"resolution#1": flip(True, "2026-03-29T15:00:00Z")},
    ),
    (
        "DST fall back: closed Saturday night, opens 09:00 CET = 08:00Z",
        {"tag": "daily", "created": "2026-10-24T08:30:00Z", "now": "2026-10-24T20:00:00Z"},
        {"resolution#1": flip(False, "2026-10-25T08:00:00Z")},
    ),
]


@pytest.mark.parametrize(("args", "want"), [(a, w) for _, a, w in CASES], ids=[c[0] for c in CASES])
def test_clock_table(args: dict[str, Any], want: dict[str, Clock]) -> None:
    assert clocks(**args) == want


def test_remaining_time_does_not_move_while_the_clock_is_stopped() -> None:
    """What `counting` promises: over a span where it is false (and no event), the
    engine's remaining time stays put; where it is true, it drops second for second."""
    base = {"tag": "", "created": "2026-03-02T08:30:00Z"}
    h = TicketHistory("T", z(base["created"]), {"status": "new"}, (), "customer")
    night = [measure(P, h, z(t)) for t in ("2026-03-02T19:00:00Z", "2026-03-03T07:59:59Z")]
    c0, c1 = (next(c for c in m.cycles if c.metric == "resolution") for m in night)
    assert not clock(P, night[0].level, c0, night[0].fields, night[0].now).counting
    assert c0.remaining == c1.remaining
    day = [measure(P, h, z(t)) for t in ("2026-03-03T08:00:00Z", "2026-03-03T09:00:00Z")]
    d0, d1 = (next(c for c in m.cycles if c.metric == "resolution") for m in day)
    assert clock(P, day[0].level, d0, day[0].fields, day[0].now).counting
    assert d0.remaining - d1.remaining == 3600


def test_no_level_or_unknown_level_never_counts() -> None:
    h = TicketHistory("T", MON, {"status": "new"}, (), "customer")
    m = measure(P, h, MON + timedelta(hours=10))
    c = m.cycles[0]
    assert clock(P, None, c, m.fields, m.now) == Clock(False, None)
    assert clock(P, "gone", c, m.fields, m.now) == Clock(False, None)


@pytest.mark.parametrize("args", [a for _, a, _ in CASES], ids=[c[0] for c in CASES])
def test_held_agrees_with_the_measured_state(args: dict[str, Any]) -> None:
    """A cycle the engine measured as paused never counts; a counting one is active or
    breached and unstopped."""
    fields = {"status": "new", "tags": (args["tag"],) if args["tag"] else ()}
    h = TicketHistory("T", z(args["created"]), fields, args.get("events", ()), "customer")
    m = measure(P, h, z(args["now"]))
    for c in m.cycles:
        k = clock(P, m.level, c, m.fields, m.now)
        if c.state == "paused" or c.stopped_at is not None:
            assert not k.counting and k.changes_at is None
        if k.counting:
            assert c.state in ("active", "breached") and c.stopped_at is None
