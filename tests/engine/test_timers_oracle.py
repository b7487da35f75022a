"""The timers against a brute-force minute-stepping oracle on random ticket histories.

The oracle shares no code with the engine: it replays the events itself, decides for
every minute whether a metric counts (calendar open, not done, not paused by a status
category or a pause condition), accumulates business seconds, and reads every figure
off that step function: elapsed, state, breached_at, warnings (earliest instants),
due_at. It covers the cumulative metrics and the first response.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slarules.dsl import build_source
from slarules.engine.policy import Policy
from slarules.engine.ticket import Event, TicketHistory
from slarules.engine.timers import measure

RULES = """
calendar biz {
  timezone "UTC"
  hours mon-fri 09:00-17:00
}
level l {
  calendar biz
  first_response 2h
  requester_wait 8h
  agent_work 6h
  resolution 12h
  pause resolution when tags contains "stop"
  pause when priority == "low"
  warn at 50%
  warn before 1h
}
default level l
"""
TARGETS = {
    "first_response": 7200,
    "requester_wait": 8 * 3600,
    "agent_work": 6 * 3600,
    "resolution": 12 * 3600,
}
CATEGORY = {
    "new": "open",
    "open": "open",
    "pending": "waiting",
    "on hold": "hold",
    "solved": "done",
}
EXCLUDED = {
    "requester_wait": {"waiting"},
    "agent_work": {"waiting", "hold"},
    "resolution": set(),
    "first_response": set(),
}
BASE = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # a Monday
MINUTES = 6 * 24 * 60


def _policy() -> Policy:
    result = build_source(RULES)
    assert result.policy is not None, result.diagnostics
    return result.policy


POLICY = _policy()


def _open(m: int) -> bool:
    t = BASE + timedelta(minutes=m)
    return t.weekday() < 5 and 9 <= t.hour < 17


@dataclass
class Step:
    at: int  # minute
    kind: str  # status | tags | priority | customer | agent
    value: Any = None


steps = st.lists(
    st.builds(
        Step,
        st.integers(0, MINUTES),
        st.sampled_from(["status", "tags", "priority", "customer", "agent"]),
        st.sampled_from(["new", "open", "pending", "on hold", "solved", "stop", "low", "high"]),
    ),
    max_size=12,
)


def _event(s: Step) -> Event:
    at = BASE + timedelta(minutes=s.at)
    if s.kind == "status":
        status = s.value if s.value in CATEGORY else "open"
        return Event(at, "status", status=status)
    if s.kind == "tags":
        return Event(at, "update", set={"tags": ("stop",) if s.value == "stop" else ()})
    if s.kind == "priority":
        return Event(at, "update", set={"priority": "low" if s.value == "low" else "high"})
    return Event(at, "message", by="customer" if s.kind == "customer" else "agent")


def _oracle(events: list[Step], created_status: str, now: int, metric: str) -> dict[str, Any]:
    ordered = sorted(events, key=lambda s: s.at)  # stable: ties keep their order
    status, tags, priority = created_status, False, "high"
    fr_stop: int | None = None
    done_at_start = CATEGORY[created_status] == "done"

    def apply(s: Step) -> None:
        nonlocal status, tags, priority, fr_stop
        if s.kind == "status":
            new = s.value if s.value in CATEGORY else "open"
            if CATEGORY[new] == "done" and CATEGORY[status] != "done" and fr_stop is None:
                fr_stop = s.at
            status = new
        elif s.kind == "tags":
            tags = s.value == "stop"
        elif s.kind == "priority":
            priority = "low" if s.value == "low" else "high"
        elif s.kind == "agent" and fr_stop is None and CATEGORY[status] != "done":
            fr_stop = s.at

    state: list[tuple[str, bool, bool]] = []  # per minute: category, stop-tag, low priority
    j = 0
    for m in range(now + 1):  # minute `now` itself: events at `now` still count
        while j < len(ordered) and ordered[j].at <= m:
            apply(ordered[j])
            j += 1
        state.append((CATEGORY[status], tags, priority == "low"))
    final = state.pop()  # what holds at `now`

    def paused(st_: tuple[str, bool, bool]) -> bool:
        cat, stop_tag, low = st_
        return cat in EXCLUDED[metric] or low or (metric == "resolution" and stop_tag)

    if metric == "first_response":
        if done_at_start:
            return {"none": True}
        end = now if fr_stop is None else fr_stop
        stopped = fr_stop is not None
        counted = [_open(m) and not paused(state[m]) for m in range(end)]
    else:
        stopped = final[0] == "done"
        # a stopped cycle ends when the ticket last became done
        end = _last_done_start(ordered, created_status, now) if stopped else now
        counted = [_open(m) and state[m][0] != "done" and not paused(state[m]) for m in range(end)]
    target = TARGETS[metric]
    elapsed = 60 * sum(counted)

    def reach(x: int) -> int:  # earliest second with E == x (x <= elapsed)
        if x == 0:
            return 0
        acc = 0
        for m, c in enumerate(counted):
            if c:
                if acc + 60 >= x:
                    return m * 60 + (x - acc)
                acc += 60
        raise AssertionError("not reached")

    now_paused = paused(final) if not stopped else False
    if elapsed > target:
        st_name = "breached"
    elif stopped:
        st_name = "met"
    elif now_paused:
        st_name = "paused"
    else:
        st_name = "active"

    def count_on(frm: int, secs: int) -> int:  # calendar only, from second `frm`
        m, rem = frm // 60, secs
        off = frm % 60
        if rem == 0:
            return frm
        while True:
            if _open(m):
                avail = 60 - off
                if avail >= rem:
                    return m * 60 + off + rem
                rem -= avail
            m, off = m + 1, 0

    if st_name == "breached":
        due: int | None = reach(target)
    elif st_name == "paused":
        due = None
    elif elapsed == target:
        due = reach(target)
    else:
        due = count_on(end * 60, target - elapsed)
    warns = sorted(reach(x) for x in (target // 2, target - 3600) if elapsed >= x)
    return {
        "state": st_name,
        "elapsed": elapsed,
        "due": due,
        "warnings": warns,
        "breached_at": reach(target) if st_name == "breached" else None,
        "stopped": stopped,
    }


def _last_done_start(ordered: list[Step], created_status: str, now: int) -> int:
    status, start = created_status, 0
    for s in ordered:
        if s.at > now:
            break
        if s.kind == "status":
            new = s.value if s.value in CATEGORY else "open"
            if CATEGORY[new] == "done" and CATEGORY[status] != "done":
                start = s.at
            status = new
    return start


def _sec(t: datetime | None) -> int | None:
    return None if t is None else int((t - BASE).total_seconds())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.sampled_from(["new", "pending", "on hold", "solved"]), st.integers(0, MINUTES))
def test_timers_agree_with_a_minute_stepping_oracle(
    events: list[Step], created_status: str, now: int
) -> None:
    history = TicketHistory(
        "T", BASE, {"status": created_status, "priority": "high"}, tuple(_event(s) for s in events)
    )
    got = measure(POLICY, history, BASE + timedelta(minutes=now))
    for metric in TARGETS:
        want = _oracle(events, created_status, now, metric)
        cycles = got.cycles_of(metric)
        if want.get("none"):
            assert cycles == ()
            continue
        assert len(cycles) == 1, (metric, cycles)
        c = cycles[0]
        assert (metric, c.state, c.elapsed) == (metric, want["state"], want["elapsed"])
        assert c.remaining == TARGETS[metric] - c.elapsed
        assert _sec(c.due_at) == want["due"], metric
        assert _sec(c.breached_at) == want["breached_at"], metric
        assert sorted(_sec(w.at) for w in c.warnings) == want["warnings"], metric
        assert (c.stopped_at is not None) == want["stopped"], metric
