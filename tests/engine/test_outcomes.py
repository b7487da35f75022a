"""`cycles.outcomes` is `cycles.project` without the timelines, warnings and thresholds."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slarules.engine import cycles
from slarules.engine.policy import Policy
from slarules.engine.ticket import TicketHistory
from slarules.engine.timers import fold, posix
from slarules.fixtures.loader import load_fixture
from tests.engine.test_fold import EXAMPLE, FIXTURES, T0, histories
from tests.engine.test_timers import LEVEL_POLICY


def _figures(c: cycles.Outcome | object) -> tuple[object, ...]:
    names = ("metric", "index", "state", "started_at", "stopped_at", "due_at", "target")
    return tuple(getattr(c, n) for n in (*names, "elapsed", "remaining"))


def check(policy: Policy, h: TicketHistory, now: int) -> None:
    s, _ = fold(policy, h, T0 + timedelta(seconds=now))
    until = posix(T0 + timedelta(seconds=now))
    full = cycles.project(policy, s, until)
    assert [_figures(c) for c in cycles.outcomes(policy, s, until)] == [_figures(c) for c in full]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.integers(0, 400_000), st.sampled_from([EXAMPLE, LEVEL_POLICY]))
def test_outcomes_are_the_projected_figures(
    h: TicketHistory, now: int, policy: Policy | None
) -> None:
    assert policy is not None
    check(policy, h, now)


def test_the_example_fixtures() -> None:
    for path in FIXTURES:
        fx = load_fixture(path, EXAMPLE)
        for later in (0, 3600, 3 * 86400):
            s, _ = fold(EXAMPLE, fx.history, fx.now + timedelta(seconds=later))
            until = posix(fx.now + timedelta(seconds=later))
            got = [_figures(c) for c in cycles.outcomes(EXAMPLE, s, until)]
            assert got == [_figures(c) for c in cycles.project(EXAMPLE, s, until)], path


def check_only(policy: Policy, h: TicketHistory, now: int, picks: list[bool]) -> None:
    """`outcomes(only=...)` gives exactly the chosen cycles of the full list, in its order."""
    s, _ = fold(policy, h, T0 + timedelta(seconds=now))
    until = posix(T0 + timedelta(seconds=now))
    full = cycles.outcomes(policy, s, until)
    keys = [(o.metric, o.index) for o in full]
    only = {k for k, pick in zip(keys, picks * len(keys), strict=False) if pick}
    got = cycles.outcomes(policy, s, until, only)
    assert got == [o for o in full if (o.metric, o.index) in only]
    assert cycles.outcomes(policy, s, until, set()) == []
    for k in keys:  # each cycle on its own
        assert cycles.outcomes(policy, s, until, {k}) == [
            o for o in full if (o.metric, o.index) == k
        ]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    histories(),
    st.integers(0, 400_000),
    st.sampled_from([EXAMPLE, LEVEL_POLICY]),
    st.lists(st.booleans(), min_size=1, max_size=8),
)
def test_outcomes_of_some_cycles_are_those_of_all(
    h: TicketHistory, now: int, policy: Policy | None, picks: list[bool]
) -> None:
    assert policy is not None
    check_only(policy, h, now, picks)


def check_prepared(policy: Policy, h: TicketHistory, now: int, later: list[int]) -> None:
    """One `Prepared` of a fold, projected to several instants in turn (out of order too),
    gives what `outcomes` and `project` give of that fold at each of them."""
    s, _ = fold(policy, h, T0 + timedelta(seconds=now))
    prep = cycles.Prepared(policy, s)
    for d in [0, *later, 0]:
        until = posix(T0 + timedelta(seconds=now + d))
        full = cycles.outcomes(policy, s, until)
        assert prep.outcomes(until) == full
        assert prep.project(until, policy.version) == cycles.project(policy, s, until)
        keys = [(o.metric, o.index) for o in full]
        for k in keys:
            assert prep.outcomes(until, {k}) == cycles.outcomes(policy, s, until, {k})
        assert prep.outcomes(until, set(keys[::2])) == [o for o in full if o in full[::2]]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    histories(),
    st.integers(0, 400_000),
    st.sampled_from([EXAMPLE, LEVEL_POLICY]),
    st.lists(st.integers(0, 20 * 86_400), min_size=1, max_size=4),
)
def test_prepared_cycles_project_as_the_fold(
    h: TicketHistory, now: int, policy: Policy | None, later: list[int]
) -> None:
    assert policy is not None
    check_prepared(policy, h, now, later)


def test_prepared_example_fixtures() -> None:
    for path in FIXTURES:
        fx = load_fixture(path, EXAMPLE)
        s, _ = fold(EXAMPLE, fx.history, fx.now)
        prep = cycles.Prepared(EXAMPLE, s)
        for later in (0, 3600, 3 * 86400, 40 * 86400, 1):
            until = posix(fx.now + timedelta(seconds=later))
            assert prep.outcomes(until) == cycles.outcomes(EXAMPLE, s, until), path
            assert prep.project(until, EXAMPLE.version) == cycles.project(EXAMPLE, s, until)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.sampled_from(["count", "paused", "done"])),
        min_size=1,
        max_size=8,
    ),
    st.integers(-5, 60),
    st.lists(st.integers(-5, 80), min_size=1, max_size=6),
)
def test_segments_past_the_last_run_are_the_cut(
    runs: list[tuple[int, str]], start: int, ends: list[int]
) -> None:
    """The kept cut of `[start, ∞)` gives, for every end past the last run, what cutting
    `[start, end)` gives (asked in any order, the same start again)."""
    instants = sorted({u for u, _ in runs})
    lab = cycles.Labels.__new__(cycles.Labels)
    lab.instants = instants
    lab.labels = [dict(runs)[u] for u in instants]  # type: ignore[misc]
    lab._open = {}
    for end in [*ends, *ends]:
        assert lab.segments(start, end) == (lab._cut(start, end) if end > start else [])
