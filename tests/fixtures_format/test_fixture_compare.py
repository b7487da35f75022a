"""Comparing expectations with a measurement: only written keys, "none", tables, arrays."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slarules.engine.measurement import Cycle, Measurement, WarningMark
from slarules.engine.policy import Decision, Policy
from slarules.engine.ticket import Event, TicketHistory
from slarules.engine.timers import measure
from slarules.fixtures import compare
from slarules.fixtures.model import (
    CYCLE_KEYS,
    CycleExpect,
    Expectations,
    MetricExpect,
    WarningExpect,
)

SP = ZoneInfo("America/Sao_Paulo")
T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _cycle(
    metric: str,
    index: int,
    state: str,
    elapsed: int,
    target: int = 3600,
    stopped: int | None = None,
) -> Cycle:
    return Cycle(
        metric=metric,  # type: ignore[arg-type]
        index=index,
        state=state,  # type: ignore[arg-type]
        started_at=T0,
        stopped_at=None if stopped is None else T0 + timedelta(seconds=stopped),
        due_at=T0 + timedelta(seconds=target),
        breached_at=T0 + timedelta(seconds=target) if state == "breached" else None,
        target=target,
        elapsed=elapsed,
        remaining=target - elapsed,
        warnings=(),
        timeline=(),
        ruleset_version="v",
    )


def _measurement(
    cycles: tuple[Cycle, ...],
    warnings: tuple[WarningMark, ...] = (),
    level: str | None = "standard",
    by: str | None = "default",
) -> Measurement:
    if cycles and warnings:
        cycles = (replace(cycles[0], warnings=warnings), *cycles[1:])
    return Measurement("T", T0, "v", Decision(level, by), {}, False, cycles, ())


M = _measurement(
    (
        _cycle("first_response", 1, "met", 600, stopped=600),
        _cycle("next_response", 1, "breached", 2400, target=1800, stopped=2400),
        _cycle("next_response", 2, "active", 60, target=1800),
    )
)


def _keys(diffs: list[Any]) -> list[str]:
    return [d.key for d in diffs]


def test_only_written_keys_are_compared() -> None:
    assert compare(Expectations(), M, SP) == []
    assert compare(Expectations(level="standard", rule="default"), M, SP) == []
    x = Expectations(
        metrics={
            "first_response": MetricExpect(
                (CycleExpect({"state": "met", "elapsed": 600}),), exact=False
            )
        }
    )
    assert compare(x, M, SP) == []


def test_level_rule_and_none() -> None:
    diffs = compare(Expectations(level="vip", rule="VIP customers"), M, SP)
    assert [d.render() for d in diffs] == [
        "level: expected `vip`, got `standard`",
        'rule: expected "VIP customers", got "default"',
    ]
    none = _measurement((), level=None, by="Spam has no SLA")
    assert compare(Expectations(level="none", rule="Spam has no SLA"), none, SP) == []
    nobody = _measurement((), level=None, by=None)
    assert compare(Expectations(level="none", rule="none"), nobody, SP) == []


def test_metric_none_table_and_array() -> None:
    none = MetricExpect((), exact=True)
    assert compare(Expectations(metrics={"resolution": none}), M, SP) == []
    d = compare(Expectations(metrics={"next_response": none}), M, SP)
    assert [x.render() for x in d] == ["next_response: expected none, got 2 cycles"]
    table = MetricExpect((CycleExpect({"state": "met"}),), exact=False)
    d = compare(Expectations(metrics={"resolution": table}), M, SP)
    assert [x.render() for x in d] == ["resolution: expected a cycle, got none"]
    # a table checks the first cycle only, whatever follows
    first = MetricExpect((CycleExpect({"state": "breached", "elapsed": 2400}),), exact=False)
    assert compare(Expectations(metrics={"next_response": first}), M, SP) == []
    # an array checks the count and each cycle in order
    arr = MetricExpect((CycleExpect({"state": "breached"}),), exact=True)
    d = compare(Expectations(metrics={"next_response": arr}), M, SP)
    assert [x.render() for x in d] == ["next_response: expected 1 cycle, got 2 cycles"]
    arr = MetricExpect(
        (CycleExpect({"state": "breached"}), CycleExpect({"state": "met"})), exact=True
    )
    d = compare(Expectations(metrics={"next_response": arr}), M, SP)
    assert [x.render() for x in d] == ["next_response#2.state: expected met, got active"]


def test_durations_and_instants_any_offset() -> None:
    brt = timezone(timedelta(hours=-3))
    want = CycleExpect(
        {
            "elapsed": 2400,
            "remaining": -600,
            "target": 1800,
            "due_at": datetime(2026, 3, 2, 9, 30, tzinfo=brt),  # 12:30Z written at -03:00
            "breached_at": T0 + timedelta(seconds=1800),
            "stopped_at": T0 + timedelta(seconds=2400),
        }
    )
    x = Expectations(metrics={"next_response": MetricExpect((want,), exact=False)})
    assert compare(x, M, SP) == []
    wrong = CycleExpect({"elapsed": 2460, "remaining": 600, "due_at": None, "breached_at": None})
    x = Expectations(metrics={"next_response": MetricExpect((wrong,), exact=False)})
    assert [d.render() for d in compare(x, M, SP)] == [
        "next_response.elapsed: expected 41m, got 40m",
        "next_response.remaining: expected 10m, got -10m",
        "next_response.due_at: expected none, got 2026-03-02T09:30:00-03:00",
        "next_response.breached_at: expected none, got 2026-03-02T09:30:00-03:00",
    ]


def test_warnings_are_a_multiset() -> None:
    at1, at2 = T0 + timedelta(minutes=30), T0 + timedelta(minutes=48)
    marks = (
        WarningMark("resolution", at1, percent=50.0),
        WarningMark("resolution", at2, percent=80.0),
        WarningMark("first_response", at2, before=900),
    )
    m = _measurement((_cycle("resolution", 1, "active", 3000),), marks)
    exact = (
        WarningExpect("first_response", before=900, at=at2),
        WarningExpect("resolution", percent=80, at=at2),
        WarningExpect("resolution", percent=50, at=at1),
    )
    assert compare(Expectations(warnings=exact), m, SP) == []
    # without `at`, a warning matches any instant; pinned ones are matched first
    loose = (
        WarningExpect("resolution", percent=50),
        WarningExpect("first_response", before=900),
        WarningExpect("resolution", percent=80, at=at2),
    )
    assert compare(Expectations(warnings=loose), m, SP) == []
    d = compare(Expectations(warnings=exact[:2]), m, SP)
    assert [x.render() for x in d] == [
        'warnings: expected no such warning, got { metric = "resolution", percent = 50, '
        "at = 2026-03-02T09:30:00-03:00 }"
    ]
    extra = (*exact, WarningExpect("resolution", percent=50, at=at1))
    d = compare(Expectations(warnings=extra), m, SP)
    assert _keys(d) == ["warnings"] and d[0].actual == "no such warning"
    assert compare(Expectations(warnings=()), m, SP) != []
    assert compare(Expectations(warnings=()), M, SP) == []


# -- property: expectations written from a measurement always match it ------------


def _expect_all(m: Measurement) -> Expectations:
    metrics = {}
    for metric in {c.metric for c in m.cycles}:
        metrics[metric] = MetricExpect(
            tuple(CycleExpect({k: getattr(c, k) for k in CYCLE_KEYS}) for c in m.cycles_of(metric)),
            exact=True,
        )
    for metric in (
        "first_response",
        "next_response",
        "periodic_response",
        "requester_wait",
        "agent_work",
        "resolution",
    ):
        metrics.setdefault(metric, MetricExpect((), exact=True))
    warnings = tuple(WarningExpect(w.metric, w.percent, w.before, w.at) for w in m.warnings)
    return Expectations(m.level or "none", m.decision.decided_by or "none", warnings, None, metrics)


EVENTS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=5 * 24 * 60),
        st.sampled_from(
            [
                ("message", "customer"),
                ("message", "agent"),
                ("status", "pending"),
                ("status", "solved"),
                ("status", "open"),
                ("status", "on hold"),
                ("update", "urgent"),
                ("update", "vip"),
            ]
        ),
    ),
    max_size=10,
)


def _history(
    created_min: int, events: list[tuple[int, tuple[str, str]]], fields: dict[str, Any]
) -> TicketHistory:
    created = T0 + timedelta(minutes=created_min)
    out = []
    for minutes, (kind, arg) in sorted(events):
        at = created + timedelta(minutes=minutes)
        if kind == "message":
            out.append(Event(at, "message", by=arg))  # type: ignore[arg-type]
        elif kind == "status":
            out.append(Event(at, "status", status=arg))
        elif arg == "urgent":
            out.append(Event(at, "update", set={"tags": ("urgent",)}))
        else:
            out.append(Event(at, "update", set={"customer_group": "VIP", "source": "email"}))
    return TicketHistory("P", created, fields, tuple(out))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    created=st.integers(min_value=0, max_value=7 * 24 * 60),
    events=EVENTS,
    priority=st.sampled_from(["low", "medium", "high", "critical"]),
    source=st.sampled_from(["email", "chat", "phone"]),
    extra=st.integers(min_value=0, max_value=3 * 24 * 60),
)
def test_written_from_the_measurement_means_no_difference(
    helpdesk: Policy,
    created: int,
    events: list[tuple[int, tuple[str, str]]],
    priority: str,
    source: str,
    extra: int,
) -> None:
    h = _history(created, events, {"priority": priority, "source": source, "status": "new"})
    last = h.events[-1].at if h.events else h.created_at
    m = measure(helpdesk, h, last + timedelta(minutes=extra))
    x = _expect_all(m)
    assert compare(x, m, helpdesk.timezone) == []
    # and changing any one written key is exactly one difference, under that key
    for metric, want in x.metrics.items():
        if want.cycles:
            c = want.cycles[0]
            bumped = CycleExpect({**c.keys, "elapsed": c.keys["elapsed"] + 1})
            y = replace(
                x, metrics={**x.metrics, metric: MetricExpect((bumped, *want.cycles[1:]), True)}
            )
            assert [d.key for d in compare(y, m, helpdesk.timezone)] == [f"{metric}#1.elapsed"]


@pytest.mark.parametrize("key", CYCLE_KEYS)
def test_every_cycle_key_is_compared(key: str) -> None:
    c = M.cycles[1]
    value = getattr(c, key)
    if key == "state":
        other: Any = "met"
    elif isinstance(value, int):
        other = value + 1
    elif value is None:
        other = T0
    else:
        other = None
    x = Expectations(metrics={"next_response": MetricExpect((CycleExpect({key: other}),), False)})
    assert _keys(compare(x, M, SP)) == [f"next_response.{key}"]
