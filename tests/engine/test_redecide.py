"""`engine.redecide`: whether two rulesets decide a history alike, as a table, against the
oracle (the evaluation logs of both measured in full, but for the version)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slarules.dsl import build_source
from slarules.engine import redecide
from slarules.engine.policy import Policy
from slarules.engine.ticket import Event, TicketHistory
from slarules.engine.timers import measure, posix

RULES = """\
timezone "UTC"
schema {
  priorities low < high < critical
}
statuses {
  open = "new", "open"
  waiting = "pending"
  done = "solved"
}
level fast {
  resolution 4h
}
level slow {
  resolution 40h
}
default level slow
rule "High" {
  when priority >= "critical"
  set level fast
}
"""

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _build(old: str, new: str) -> Policy:
    result = build_source(RULES.replace(old, new), "r.sla")
    assert result.policy is not None, [d.render() for d in result.diagnostics]
    return result.policy


OLD = _build("", "")
HIGH = _build('priority >= "critical"', 'priority >= "high"')
STATUS = _build('priority >= "critical"', 'priority >= "critical" or status == "pending"')
UPDATED = _build('priority >= "critical"', 'priority >= "critical" or updated_at.hour >= 13')


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _update(minutes: int, **fields: Any) -> Event:
    return Event(at=_at(minutes), type="update", set=fields)


def _status(minutes: int, status: str) -> Event:
    return Event(at=_at(minutes), type="status", status=status)


def _message(minutes: int) -> Event:
    return Event(at=_at(minutes), type="message", by="customer")


# (new rules, initial priority, events, do they decide alike?)
CASES: list[tuple[str, Policy, str, tuple[Event, ...], bool]] = [
    ("no event, low", HIGH, "low", (), True),
    ("no event, high from the start", HIGH, "high", (), False),
    ("raised to high by an update", HIGH, "low", (_update(5, priority="high"),), False),
    ("raised to critical: both decide fast", HIGH, "low", (_update(5, priority="critical"),), True),
    ("an update of a field the rules do not read", HIGH, "high", (_update(5, seats=3),), False),
    ("high, then low again", HIGH, "low", (_update(5, priority="high"), _update(9)), False),
    ("messages and statuses only", HIGH, "low", (_message(1), _status(2, "pending")), True),
    ("a status the new rule reads", STATUS, "low", (_status(2, "pending"),), False),
    (
        "pending, then open: both logged",
        STATUS,
        "low",
        (_status(2, "pending"), _status(3, "open")),
        False,
    ),
    ("a status the new rule reads not", STATUS, "low", (_status(2, "open"),), True),
    ("updated_at by a message, past 13h", UPDATED, "low", (_message(61),), False),
    ("updated_at by a message, before 13h", UPDATED, "low", (_message(30),), True),
    ("an event after the measuring instant", HIGH, "low", (_update(900, priority="high"),), True),
]


def _oracle(new: Policy, h: TicketHistory, now: datetime) -> bool:
    def log(p: Policy) -> list[tuple[Any, ...]]:
        evaluations = measure(p, h, now).evaluations
        return [(e.at, e.matched, e.level_before, e.level_after, e.decided_by) for e in evaluations]

    return log(OLD) == log(new)


@pytest.mark.parametrize(("what", "new", "priority", "events", "alike"), CASES)
def test_decisions_agree_as_the_logs_do(
    what: str, new: Policy, priority: str, events: tuple[Event, ...], alike: bool
) -> None:
    now = _at(600)
    h = TicketHistory("T", T0, {"status": "new", "priority": priority}, events, "customer")
    assert _oracle(new, h, now) is alike  # the table says what the full measure says
    reads = redecide.reads_of(OLD, new)
    timed = [(posix(e.at), e) for e in events if e.at <= now]
    got = redecide.agree(OLD, new, posix(T0), h.fields, "customer", timed, reads)
    assert got is alike
    if redecide.updates_only(reads):  # the update events alone say the same
        only = [(u, e) for u, e in timed if e.type == "update"]
        assert redecide.agree(OLD, new, posix(T0), h.fields, "customer", only, reads) is alike


def test_the_fields_the_rules_read() -> None:
    assert redecide.reads_of(OLD, HIGH) == frozenset({"priority"})
    assert redecide.updates_only(redecide.reads_of(OLD, HIGH))
    assert redecide.reads_of(OLD, STATUS) == frozenset({"priority", "status"})
    assert not redecide.updates_only(redecide.reads_of(OLD, STATUS))
    assert not redecide.updates_only(redecide.reads_of(OLD, UPDATED))
    assert redecide.reads_of(OLD, replace(OLD, prints=None)) is None
    assert not redecide.updates_only(None)
