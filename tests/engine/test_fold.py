"""The replay as a fold: the transition table, and resuming from any prefix's checkpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slarules.engine import cycles
from slarules.engine.fold import CREATION, TRANSITIONS, Fold, run_actions, step
from slarules.engine.measurement import Measurement
from slarules.engine.policy import METRICS, Decision, Policy
from slarules.engine.ticket import Event, TicketHistory
from slarules.engine.timers import fold, measure, measurement_of, timed_events
from slarules.fixtures.loader import load_fixture
from slarules.rulesets import load_policy
from tests.engine.test_timers import LEVEL_POLICY

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = load_policy(ROOT / "examples" / "helpdesk")
T0 = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)


def state(phase: str = "before", **kw: Any) -> Fold:
    s = Fold(0, 0, {}, "open", Decision(None, None))
    s.phase = phase  # type: ignore[assignment]
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def test_the_table_covers_every_reachable_row() -> None:
    for phase in ("before", "running", "over"):
        for done in (False, True):
            assert (phase, "customer", done) in TRANSITIONS
            assert (phase, "agent", done) in TRANSITIONS
        assert (phase, "done", False) in TRANSITIONS
        assert (phase, "reopened", True) in TRANSITIONS
    assert set(CREATION) == {(b, d) for b in ("customer", "agent") for d in (False, True)}


def test_a_customer_message_starts_the_first_response_then_next_responses() -> None:
    s = state()
    run_actions(s, TRANSITIONS[("before", "customer", False)], 10)
    assert s.phase == "running" and s.running["first_response"] == (0, 1, 10)
    run_actions(s, TRANSITIONS[("running", "agent", False)], 20)
    assert s.phase == "over" and s.closed == [(0, "first_response", 1, 10, 20)]
    assert s.running == {"periodic_response": (1, 1, 20)}
    run_actions(s, TRANSITIONS[("over", "customer", False)], 30)
    run_actions(s, TRANSITIONS[("over", "customer", False)], 40)  # already running: no-op
    assert s.running["next_response"] == (2, 1, 30)


def test_done_defers_starts_to_the_reopening_and_an_answer_cancels_them() -> None:
    s = state()
    run_actions(s, TRANSITIONS[("before", "done", False)], 5)
    run_actions(s, TRANSITIONS[("before", "customer", True)], 10)
    assert s.fr_pending and not s.running
    run_actions(s, TRANSITIONS[("before", "reopened", True)], 15)
    assert s.running["first_response"] == (0, 1, 15) and s.done_spans == [(5, 15)]
    t = state(fr_pending=True)
    run_actions(t, TRANSITIONS[("before", "agent", True)], 20)
    assert t.phase == "over" and not t.fr_pending and not t.running


def test_a_ticket_created_done_owes_no_first_response() -> None:
    s = state()
    run_actions(s, CREATION[("customer", True)], 0)
    assert s.phase == "over" and s.done_since == 0 and not s.running


# -- resuming ---------------------------------------------------------------------------

STATUSES = ["new", "open", "pending", "on hold", "solved", "closed", "weird"]
UPDATES: list[dict[str, Any]] = [
    {"priority": "urgent"},
    {"priority": "low"},
    {"tags": ("hold",)},
    {"tags": ()},
    {"customer_group": "VIP"},
    {"customer_group": ""},
]


@st.composite
def histories(draw: Any) -> TicketHistory:
    events = []
    minute = 0
    for _ in range(draw(st.integers(0, 14))):
        # same-instant and out-of-order events included
        minute = max(0, minute + draw(st.sampled_from([0, 0, 7, 45, 300, -30])))
        at = T0 + timedelta(minutes=minute)
        kind = draw(st.sampled_from(["customer", "agent", "note", "status", "update"]))
        if kind == "customer":
            events.append(Event(at, "message", by="customer", text="hi"))
        elif kind in ("agent", "note"):
            events.append(Event(at, "message", by="agent", public=kind == "agent", text="ok"))
        elif kind == "status":
            events.append(Event(at, "status", status=draw(st.sampled_from(STATUSES))))
        else:
            events.append(Event(at, "update", set=draw(st.sampled_from(UPDATES))))
    fields = draw(st.sampled_from([{"status": "new"}, {"status": "solved"}]))
    by = draw(st.sampled_from(["customer", "agent"]))
    return TicketHistory("T", T0, fields, tuple(events), by)


def resumed(policy: Policy, h: TicketHistory, now: datetime, k: int) -> Measurement | None:
    """Measure from the checkpoint after the first k events (replay order): stopped cycles
    as measured then, the rest from folding the other events onto the trimmed state."""
    until = int(now.timestamp())
    events = timed_events(h, until)
    prefix = TicketHistory(
        h.id, h.created_at, h.fields, tuple(e for _, e in events[:k]), h.created_by
    )
    base, logs = fold(policy, prefix, now)
    then = measurement_of(policy, h.id, base, logs, now)
    s = base.trim()
    runs = list(logs)
    for u, e in events[k:]:
        runs.append(step(policy, s, u, e))
    if base.decision.level != s.decision.level or cycles.targets(policy, base) != cycles.targets(
        policy, s
    ):
        return None  # the service replays in full: every cycle moves
    m = measurement_of(policy, h.id, s, tuple(runs), now)
    fresh = {(c.metric, c.index): c for c in m.cycles}
    kept = [c for c in then.cycles if c.stopped_at is not None and (c.metric, c.index) not in fresh]
    order = {metric: i for i, metric in enumerate(METRICS)}
    merged = sorted([*kept, *fresh.values()], key=lambda c: (order[c.metric], c.index))
    return Measurement(
        m.ticket_id,
        m.now,
        m.ruleset_version,
        m.decision,
        m.fields,
        m.done,
        tuple(merged),
        m.evaluations,
    )


def check_every_prefix(policy: Policy, h: TicketHistory, now: datetime) -> None:
    full = measure(policy, h, now)
    n = len(timed_events(h, int(now.timestamp())))
    for k in range(n + 1):
        got = resumed(policy, h, now, k)
        if got is not None:
            assert got == full, k


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.integers(0, 3000), st.sampled_from([EXAMPLE, LEVEL_POLICY]))
def test_resuming_from_every_prefix_gives_the_full_replay(
    h: TicketHistory, now: int, policy: Policy | None
) -> None:
    assert policy is not None
    check_every_prefix(policy, h, T0 + timedelta(minutes=now))


FIXTURES = sorted((ROOT / "examples" / "helpdesk" / "fixtures").glob("*.toml"))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_the_example_fixtures_through_the_fold(path: Path) -> None:
    fx = load_fixture(path, EXAMPLE)
    for later in (0, 3600, 3 * 86400):
        check_every_prefix(EXAMPLE, fx.history, fx.now + timedelta(seconds=later))


def _project_over_all_runs(policy: Policy, s: Fold, now: int) -> tuple[Any, ...]:
    """`cycles.project` with every metric labelled over all the runs (no `runs_from` cut)."""
    got = cycles.level_of(policy, s)
    if got is None:
        return ()
    ix, level = got
    out = []
    for metric in METRICS:
        target = level.target_seconds(metric, s.fields)
        if target is None:
            continue
        labels = cycles.Labels(s.runs, ix, level, metric)
        for i, a, b in cycles.spans(s, metric):
            out.append(cycles.cycle(level, labels, metric, i, a, b, target, now, policy.version))
    return tuple(out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.integers(0, 3000), st.sampled_from([EXAMPLE, LEVEL_POLICY]))
def test_labelling_from_the_earliest_start_changes_no_cycle(
    h: TicketHistory, now: int, policy: Policy | None
) -> None:
    assert policy is not None
    when = T0 + timedelta(minutes=now)
    s, _ = fold(policy, h, when)
    u = int(when.timestamp())
    assert cycles.project(policy, s, u) == _project_over_all_runs(policy, s, u)
    t = s.trim()  # a checkpoint: only the running cycles
    assert cycles.project(policy, t, u) == _project_over_all_runs(policy, t, u)


def test_runs_from_keeps_the_run_in_force_at_the_start() -> None:
    runs: Any = [(0, "open", ()), (10, "pending", ()), (20, "open", ())]
    assert cycles.runs_from(runs, 15) == runs[1:]
    assert cycles.runs_from(runs, 20) == runs[2:]
    assert cycles.runs_from(runs, 5) == runs
    assert cycles.runs_from(runs, -5) == runs
