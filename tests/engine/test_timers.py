"""The timers, rule by rule of semantics.md, on a 24×7 UTC calendar unless said otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slarules.dsl import build_source
from slarules.engine.measurement import Cycle, Measurement
from slarules.engine.policy import Policy
from slarules.engine.ticket import Event, TicketHistory
from slarules.engine.timers import measure
from slarules.errors import InputError

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def policy(body: str, extra: str = "") -> Policy:
    result = build_source(f"level l {{\n{body}\n}}\ndefault level l\n{extra}")
    assert result.policy is not None, [d.render() for d in result.diagnostics]
    return result.policy


def cust(m: float, **kw: Any) -> Event:
    return Event(at(m), "message", by="customer", **kw)


def agent(m: float, **kw: Any) -> Event:
    return Event(at(m), "message", by="agent", **kw)


def status(m: float, s: str) -> Event:
    return Event(at(m), "status", status=s)


def update(m: float, **fields: Any) -> Event:
    return Event(at(m), "update", set=fields)


def run(
    p: Policy, *events: Event, now: float = 600, created_by: str = "customer", **fields: Any
) -> Measurement:
    fields.setdefault("status", "new")
    h = TicketHistory("T", T0, fields, tuple(events), created_by)  # type: ignore[arg-type]
    return measure(p, h, at(now))


def spans(m: Measurement, metric: str) -> list[tuple[float, float | None, str]]:
    def mins(t: datetime | None) -> float | None:
        return None if t is None else (t - T0).total_seconds() / 60

    return [
        (mins(c.started_at), mins(c.stopped_at), c.state)  # type: ignore[misc]
        for c in m.cycles_of(metric)
    ]


RESPONSES = policy("first_response 1h\nnext_response 30m\nperiodic_response 2h")


def test_first_next_and_periodic_response_cycles() -> None:
    m = run(RESPONSES, agent(10), cust(20), cust(25), agent(70), cust(80), now=100)
    assert spans(m, "first_response") == [(0, 10, "met")]
    # next response starts at the first customer message after the first reply, once
    assert spans(m, "next_response") == [(20, 70, "breached"), (80, None, "active")]
    assert spans(m, "periodic_response") == [(10, 70, "met"), (70, None, "active")]


def test_agent_messages_before_the_first_customer_message_do_not_start_or_end_it() -> None:
    m = run(RESPONSES, agent(5), cust(10), agent(30), created_by="agent", now=60)
    assert spans(m, "first_response") == [(10, 30, "met")]
    assert spans(m, "next_response") == []
    # creation by an agent is a public agent message: a periodic cycle starts
    assert spans(m, "periodic_response") == [(0, 5, "met"), (5, 30, "met"), (30, None, "active")]


def test_private_agent_notes_do_not_answer() -> None:
    m = run(RESPONSES, agent(10, public=False), now=30)
    assert spans(m, "first_response") == [(0, None, "active")]


def test_done_stops_response_cycles_and_defers_starts_to_the_reopening() -> None:
    m = run(RESPONSES, status(10, "solved"), cust(20), status(50, "open"), now=60)
    assert spans(m, "first_response") == [(0, 10, "met")]
    assert spans(m, "next_response") == [(50, None, "active")]


def test_a_deferred_first_response_start_is_cancelled_by_an_agent_reply() -> None:
    m = run(
        RESPONSES,
        status(5, "solved"),
        cust(10),
        agent(20),
        status(30, "open"),
        cust(40),
        created_by="agent",
        now=60,
    )
    assert spans(m, "first_response") == []  # cancelled: the phase is over
    assert spans(m, "next_response") == [(40, None, "active")]


def test_a_ticket_created_done_owes_no_first_response_and_resumes_cumulative_cycles() -> None:
    p = policy("first_response 1h\nresolution 2h")
    m = run(p, status(30, "open"), now=60, status="solved")
    assert spans(m, "first_response") == []
    (c,) = m.cycles_of("resolution")
    assert (c.state, c.elapsed) == ("active", 1800)
    assert [e.kind for e in c.timeline] == ["started", "stopped", "resumed"]
    closed = run(p, now=60, status="solved").cycles_of("resolution")[0]
    assert (closed.state, closed.elapsed, closed.stopped_at) == ("met", 0, T0)


def test_reopening_resumes_the_same_resolution_cycle() -> None:
    p = policy("resolution 1h")
    m = run(p, status(20, "solved"), status(40, "open"), status(70, "closed"), now=120)
    (c,) = m.cycles_of("resolution")
    assert (c.state, c.elapsed, c.stopped_at) == ("met", 50 * 60, at(70))
    assert [(e.kind, (e.at - T0).seconds // 60) for e in c.timeline] == [
        ("started", 0),
        ("stopped", 20),
        ("resumed", 40),
        ("stopped", 70),
    ]
    # met with E < T: due counts on from the stop
    assert c.due_at == at(80)


def test_status_categories_requester_wait_and_agent_work() -> None:
    p = policy("requester_wait 8h\nagent_work 8h\nresolution 8h")
    m = run(p, status(10, "pending"), status(20, "on hold"), status(40, "open"), now=60)
    figures = {c.metric: c.elapsed // 60 for c in m.cycles}
    assert figures == {"requester_wait": 50, "agent_work": 30, "resolution": 60}


def test_unknown_status_counts_as_open_and_the_log_says_so() -> None:
    p = policy("agent_work 8h")
    m = run(p, status(10, "Waiting For Godot"), now=60)
    assert m.cycles[0].elapsed == 3600
    assert m.evaluations[-1].note == "unknown status `Waiting For Godot` treated as open"


def test_met_is_inclusive_and_breach_is_the_instant_the_target_was_reached() -> None:
    p = policy("first_response 30m")
    assert spans(run(p, agent(30), now=60), "first_response") == [(0, 30, "met")]
    c = run(p, agent(31), now=60).cycles[0]
    assert (c.state, c.breached_at, c.due_at, c.remaining) == ("breached", at(30), at(30), -60)


def test_paused_state_has_no_due_and_pause_conditions_cover_named_metrics() -> None:
    p = policy('resolution 1h\nagent_work 1h\npause resolution when tags contains "visit"')
    m = run(p, update(10, tags=("visit",)), now=30)
    res, work = m.cycles_of("resolution")[0], m.cycles_of("agent_work")[0]
    assert (res.state, res.elapsed, res.due_at) == ("paused", 600, None)
    assert (work.state, work.elapsed) == ("active", 1800)
    assert [e.kind for e in res.timeline] == ["started", "paused"]


def test_a_cycle_that_starts_inside_a_pause_logs_started_then_paused() -> None:
    p = policy('resolution 1h\npause when priority == "low"')
    c = run(p, update(30, priority="high"), now=60, priority="low").cycles[0]
    assert [(e.kind, e.at) for e in c.timeline] == [
        ("started", T0),
        ("paused", T0),
        ("resumed", at(30)),
    ]
    assert c.elapsed == 1800


def test_warnings_are_earliest_instants_and_thresholds_project_ahead() -> None:
    p = policy("resolution 1h\nwarn at 50%, 80%\nwarn before 15m")
    c = run(p, now=40).cycles[0]
    assert [(w.percent, w.before, w.at) for w in c.warnings] == [(50.0, None, at(30))]
    ahead = {(t.kind, t.percent, t.before): (t.at, t.reached) for t in c.thresholds}
    assert ahead[("warning", 80.0, None)] == (at(48), False)
    assert ahead[("warning", None, 900)] == (at(45), False)
    assert ahead[("breach", None, None)] == (at(60), False)


def test_business_calendar_breach_becomes_due_at_the_next_opening() -> None:
    extra = 'calendar biz {\n timezone "UTC"\n hours mon-fri 09:00-10:00\n}\n'
    p = policy("calendar biz\nresolution 1h", extra)
    c = run(p, now=120).cycles[0]  # E == T reached at 10:00, now 11:00
    assert (c.state, c.elapsed, c.due_at) == ("active", 3600, at(60))
    breach = next(t for t in c.thresholds if t.kind == "breach")
    assert breach.at == T0 + timedelta(days=1)  # Tuesday 09:00, the next counted moment


def test_targets_come_from_the_current_fields_and_the_final_level() -> None:
    p = policy("first_response by priority { high 1h, else 4h }")
    m = run(p, update(5, priority="high"), now=30, priority="low")
    assert m.cycles[0].target == 3600


def test_none_level_has_no_cycles_and_records_the_deciding_rule() -> None:
    p = policy("resolution 1h", 'rule "spam" {\n when tags contains "spam"\n set level none\n}\n')
    m = run(p, update(5, tags=("spam",)), now=30)
    assert (m.level, m.decision.decided_by, m.cycles) == (None, "spam", ())
    assert [(e.level_before, e.level_after) for e in m.evaluations] == [(None, "l"), ("l", None)]


def test_events_after_now_are_ignored_and_bad_input_is_an_input_error() -> None:
    p = policy("resolution 1h")
    assert run(p, status(90, "solved"), now=70).cycles[0].state == "breached"
    with pytest.raises(InputError) as e:
        run(p, Event(T0 - timedelta(seconds=1), "status", status="open"))
    assert e.value.code == "event-before-creation"
    with pytest.raises(InputError) as e:
        run(p, cust(5, public=False))
    assert e.value.code == "bad-value"
    with pytest.raises(InputError) as e:
        measure(p, TicketHistory("T", T0, {}), datetime(2026, 3, 2))
    assert e.value.code == "naive-datetime"
    with pytest.raises(InputError) as e:
        measure(p, TicketHistory("T", T0, {}), T0 - timedelta(hours=1))
    assert e.value.code == "now-before-creation"


def test_events_at_the_same_instant_apply_in_the_given_order() -> None:
    p = policy("resolution 1h")
    reopened = run(p, status(10, "solved"), status(10, "open"), now=60).cycles[0]
    closed = run(p, status(10, "open"), status(10, "solved"), now=60).cycles[0]
    assert (reopened.state, reopened.elapsed) == ("active", 3600)
    assert (closed.state, closed.elapsed) == ("met", 600)


LEVELS = """
level slow {
  resolution 8h
  pause when tags contains "hold"
}
level fast {
  resolution 1h
  pause when tags contains "hold"
}
default level slow
rule "vip" {
  when customer_group == "VIP"
  set level fast
}
"""
LEVEL_POLICY = build_source(LEVELS).policy
FAST_ONLY = build_source(LEVELS.replace("default level slow", "default level fast")).policy


def _figures(c: Cycle) -> tuple[object, ...]:
    return (c.metric, c.state, c.elapsed, c.due_at, c.breached_at, c.stopped_at, c.timeline)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 600), st.sampled_from(["vip", "plain", "hold", "free"])),
        max_size=10,
    ),
    st.integers(0, 700),
)
def test_a_level_change_never_loses_pause_time(changes: list[tuple[int, str]], now: int) -> None:
    """Measured under the final level, the history is what it would be had that level
    applied from the start: whatever levels came between, no pause is lost."""
    assert LEVEL_POLICY is not None and FAST_ONLY is not None
    events = [
        update(m, customer_group="VIP")
        if k == "vip"
        else update(m, customer_group="")
        if k == "plain"
        else update(m, tags=("hold",) if k == "hold" else ())
        for m, k in changes
    ]
    h = TicketHistory("T", T0, {"status": "new"}, tuple(events))
    got = measure(LEVEL_POLICY, h, at(now))
    if got.level == "fast":
        alone = measure(FAST_ONLY, h, at(now))
        assert [_figures(c) for c in got.cycles] == [_figures(c) for c in alone.cycles]
    # events after `now` never change the answer (recomputing equals the incremental path)
    later = TicketHistory("T", T0, h.fields, (*events, status(now + 5, "solved")))
    assert measure(LEVEL_POLICY, later, at(now)).cycles == got.cycles
