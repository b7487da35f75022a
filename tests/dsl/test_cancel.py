"""Issue 11 item 7: the pure core stops long work when the edge's `Cancel` says so.

The core reads no clock; `build`, `check`, `analyze` and `measure` poll the cancel hook
at coarse steps and let its `Cancelled` out unchanged (never as a diagnostic)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from slarules.dsl import analyze, build_source
from slarules.dsl.source import SourceFile
from slarules.engine.cancel import NEVER, Cancelled
from slarules.engine.ticket import Event, TicketHistory
from slarules.engine.timers import measure
from tests.service.rules import RULES, T0


class Counting:
    """A cancel hook that stops at poll number `stop_at` (None: never) and counts polls."""

    def __init__(self, stop_at: int | None = None) -> None:
        self.stop_at = stop_at
        self.polls = 0

    def check(self) -> None:
        self.polls += 1
        if self.stop_at is not None and self.polls >= self.stop_at:
            raise Cancelled("stop")


def big_rules(n: int) -> str:
    return RULES + "".join(
        f'rule "r{i}" {{\n  when tags contains "t{i}" and subject matches /a{i}b/\n'
        "  set level urgent\n}\n"
        for i in range(n)
    )


BIG = big_rules(300)


def test_a_full_build_polls_at_least_once_per_rule() -> None:
    hook = Counting()
    assert build_source(BIG, "big.sla", hook).policy is not None
    assert hook.polls > 300  # parse, check and compile each poll per rule or tokens


@pytest.mark.parametrize("fraction", [0.0, 0.2, 0.5, 0.8, 0.99])
def test_a_build_stops_at_the_poll_that_says_stop(fraction: float) -> None:
    """Wherever it is asked (parsing, checking, compiling) the build raises `Cancelled`
    at that poll and polls no more: the rest of the rules are never looked at."""
    full = Counting()
    build_source(BIG, "big.sla", full)
    stop_at = max(1, int(full.polls * fraction))
    hook = Counting(stop_at)
    with pytest.raises(Cancelled):
        build_source(BIG, "big.sla", hook)
    assert hook.polls == stop_at < full.polls


def test_analyze_stops_too() -> None:
    hook = Counting(3)
    with pytest.raises(Cancelled):
        analyze([SourceFile("big.sla", BIG.encode())], hook)
    assert hook.polls == 3


def _history(events: int) -> TicketHistory:
    evs = tuple(
        Event(at=T0 + timedelta(minutes=i + 1), type="message", by="agent" if i % 2 else "customer")
        for i in range(events)
    )
    return TicketHistory(id="T", created_at=T0, fields={"status": "new"}, events=evs)


def test_measure_polls_per_event_and_stops() -> None:
    policy = build_source(RULES, "rules.sla").policy
    assert policy is not None
    now = T0 + timedelta(days=1)
    full = Counting()
    whole = measure(policy, _history(200), now, full)
    assert full.polls == 200 and whole == measure(policy, _history(200), now, NEVER)
    hook = Counting(10)
    with pytest.raises(Cancelled):
        measure(policy, _history(200), now, hook)
    assert hook.polls == 10  # 190 events never folded
