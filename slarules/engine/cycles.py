"""A fold's cycles under the final level, as of `now` (semantics.md §A cycle's state).

Under the *final* level (its calendar, targets read from the current fields,
pause conditions), every metric with a target gets its cycles. A cycle's span
is cut by the fold's runs into segments labelled `count`, `paused` (a pause
condition or a status category the metric excludes) or `done`; the
non-counting ones are subtracted in the calendar. Every threshold instant is
the *earliest* instant at which the business time reaches it, which is exactly
what `Calendar.add_paused` returns. "Becomes breached" (E > T) is the instant
E reaches T + 1 second, less one second: the next counted moment after E
reached T. One function per figure: labels, state, due, timeline, thresholds.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from functools import lru_cache
from typing import Literal

from slarules.engine.calendar import Calendar
from slarules.engine.fold import Fold, Run
from slarules.engine.fold import _dt as _dt  # memoized
from slarules.engine.measurement import (
    Cycle,
    CycleEvent,
    CycleState,
    Threshold,
    WarningMark,
)
from slarules.engine.policy import METRICS, RESPONSE_METRICS, Level, Metric, Policy

__all__ = ["Outcome", "Prepared", "excluded_categories", "outcomes", "project", "spans"]

# Status categories during which a metric does not count (semantics.md §The six metrics).
_EXCLUDED: Mapping[str, frozenset[str]] = {
    "requester_wait": frozenset({"waiting"}),
    "agent_work": frozenset({"waiting", "hold"}),
}
_NONE: frozenset[str] = frozenset()

Label = Literal["count", "paused", "done"]
# Order of timeline entries that share an instant.
_RANK: Mapping[str, int] = {
    "started": 0,
    "resumed": 1,
    "warned": 2,
    "breached": 3,
    "paused": 4,
    "stopped": 5,
}


_FAR = 1 << 62  # an end past every instant


def excluded_categories(metric: str) -> frozenset[str]:
    """The status categories a metric's own definition does not count."""
    return _EXCLUDED.get(metric, _NONE)


class Labels:
    """Per-run label (count / paused / done) of one metric under one level."""

    def __init__(self, runs: Sequence[Run], level_ix: int, level: Level, metric: str) -> None:
        mine = [k for k, p in enumerate(level.pauses) if p.covers(metric)]
        excluded = excluded_categories(metric)
        labels: list[Label] = []
        paused: dict[tuple[bool, ...], bool] = {}  # per hits of the level: runs repeat a few
        for _, cat, hit in runs:
            if cat == "done":
                labels.append("done")
                continue
            if cat not in excluded:
                hits = hit[level_ix]
                held = paused.get(hits)
                if held is None:
                    held = paused[hits] = any(hits[k] for k in mine)
                if not held:
                    labels.append("count")
                    continue
            labels.append("paused")
        self.instants = [r[0] for r in runs]
        self.labels = labels
        self._open: dict[int, list[tuple[int, int, Label]]] = {}

    def segments(self, start: int, end: int) -> list[tuple[int, int, Label]]:
        """`[start, end)` cut where the label changes (merged); empty when end <= start."""
        if end <= start:
            return []
        inst = self.instants
        if inst and end > inst[-1]:
            # past the last run only the last segment's end depends on `end`: the cut of
            # `[start, ∞)` is kept per start (labels shared by a projection to many `now`)
            base = self._open.get(start)
            if base is None:
                base = self._open[start] = self._cut(start, _FAR)
            a, _, lab = base[-1]
            return [*base[:-1], (a, end, lab)]
        return self._cut(start, end)

    def _cut(self, start: int, end: int) -> list[tuple[int, int, Label]]:
        inst, labels = self.instants, self.labels
        i = bisect_right(inst, start) - 1
        out: list[tuple[int, int, Label]] = []
        n = len(inst)
        while i < n and (i < 0 or inst[i] < end):
            a = start if i < 0 or inst[i] < start else inst[i]
            b = inst[i + 1] if i + 1 < n and inst[i + 1] < end else end
            lab = labels[max(i, 0)]
            if out and out[-1][2] == lab:
                out[-1] = (out[-1][0], b, lab)
            elif b > a:
                out.append((a, b, lab))
            i += 1
        return out

    def at(self, u: int) -> Label:
        return self.labels[max(bisect_right(self.instants, u) - 1, 0)]


@lru_cache(maxsize=4096)
def threshold_seconds(percent: float, target: int) -> int:
    """floor(percent / 100 × target), exact for percentages written in decimal."""
    return int(Fraction(repr(percent)) * target / 100)


def _state(elapsed: int, target: int, stop: int | None, now_label: Label) -> CycleState:
    if elapsed > target:
        return "breached"
    if stop is not None:
        return "met"
    return "paused" if now_label == "paused" else "active"


def _marks(
    segs: Sequence[tuple[int, int, Label]], start: int, stop: int | None
) -> list[tuple[int, str]]:
    """The started / paused / resumed / stopped entries of the timeline."""
    marks: list[tuple[int, str]] = [(start, "started")]
    prev: Label | None = None
    for a, _, lab in segs:
        if prev is None:
            if lab == "paused":
                marks.append((a, "paused"))
            elif lab == "done":
                marks.append((a, "stopped"))
        elif prev == "done":
            marks.append((a, "resumed"))
            if lab == "paused":
                marks.append((a, "paused"))
        elif lab == "done":
            marks.append((a, "stopped"))
        elif lab == "paused":
            marks.append((a, "paused"))
        else:
            marks.append((a, "resumed"))
        prev = lab
    if stop is not None:
        marks.append((stop, "stopped"))
    return marks


class _Clock:
    """Business time of one cycle: `reach(x)` is when its elapsed time reaches x."""

    def __init__(self, cal: Calendar, start: int, end: int, off: list[tuple[int, int]]) -> None:
        self.cal, self.start, self.end, self.off = cal, start, end, off
        self.elapsed = cal.elapsed_paused(start, end, off)

    def reach(self, x: int) -> int:
        return self.cal.add_paused(self.start, x, self.off)

    def ahead(self, x: int) -> int:
        """When x is reached counting on from the end (the cycle is counting)."""
        return self.cal.add_posix(self.end, x - self.elapsed)


def _due(clock: _Clock, state: CycleState, target: int, breached_at: int | None) -> int | None:
    if state == "breached":
        return breached_at
    if state == "paused":
        return None
    if clock.elapsed == target:
        return clock.reach(target)
    return clock.ahead(target)


def _thresholds(
    level: Level,
    clock: _Clock,
    metric: Metric,
    target: int,
    counting: bool,
    marks: list[tuple[int, str]],
) -> tuple[list[WarningMark], list[Threshold]]:
    """Warnings reached (their marks appended) and every alert threshold."""
    elapsed = clock.elapsed
    warnings: list[WarningMark] = []
    thresholds: list[Threshold] = []
    levels: list[tuple[int, float | None, int | None]] = [
        (threshold_seconds(p, target), p, None) for p in level.warn_percents
    ]
    levels += [(target - d, None, d) for d in level.warn_befores if d < target]
    for x, percent, before in levels:
        if elapsed >= x:
            u = clock.reach(x)
            w = _dt(u)
            warnings.append(WarningMark(metric, w, percent, before))
            marks.append((u, "warned"))
            thresholds.append(Threshold("warning", w, True, percent, before))
        else:
            ahead = _dt(clock.ahead(x)) if counting else None
            thresholds.append(Threshold("warning", ahead, False, percent, before))
    if elapsed > target:
        thresholds.append(Threshold("breach", _dt(clock.reach(target + 1) - 1), True))
    else:
        ahead = _dt(clock.ahead(target + 1) - 1) if counting else None
        thresholds.append(Threshold("breach", ahead, False))
    return warnings, thresholds


def _core(
    level: Level, labels: Labels, start: int, stop: int | None, target: int, now: int
) -> tuple[list[tuple[int, int, Label]], _Clock, CycleState, int | None, int | None]:
    """A cycle's segments, business clock, state, breach and due instants as of `now`."""
    end = now if stop is None else stop
    segs = labels.segments(start, end)
    clock = _Clock(level.calendar, start, end, [(a, b) for a, b, lab in segs if lab != "count"])
    state = _state(clock.elapsed, target, stop, labels.at(end if end > start else start))
    breached_at = clock.reach(target) if state == "breached" else None
    return segs, clock, state, breached_at, _due(clock, state, target, breached_at)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The figures of a cycle without its timeline and thresholds (`outcomes`)."""

    metric: Metric
    index: int
    state: CycleState
    started_at: datetime
    stopped_at: datetime | None
    due_at: datetime | None
    target: int
    elapsed: int
    remaining: int


def cycle(
    level: Level,
    labels: Labels,
    metric: Metric,
    index: int,
    start: int,
    stop: int | None,
    target: int,
    now: int,
    version: str,
) -> Cycle:
    """One cycle's figures as of `now` (`stop` None: still running)."""
    segs, clock, state, breached_at, due = _core(level, labels, start, stop, target, now)
    marks = _marks(segs, start, stop)
    if breached_at is not None:
        marks.append((breached_at, "breached"))
    warnings, thresholds = _thresholds(level, clock, metric, target, state == "active", marks)
    marks.sort(key=lambda m: (m[0], _RANK[m[1]]))
    timeline = tuple([CycleEvent(k, _dt(u)) for u, k in marks])  # type: ignore[arg-type]
    return Cycle(
        metric=metric,
        index=index,
        state=state,
        started_at=_dt(start),
        stopped_at=None if stop is None else _dt(stop),
        due_at=None if due is None else _dt(due),
        breached_at=None if breached_at is None else _dt(breached_at),
        target=target,
        elapsed=clock.elapsed,
        remaining=target - clock.elapsed,
        warnings=tuple(warnings),
        timeline=timeline,
        ruleset_version=version,
        thresholds=tuple(thresholds),
    )


def spans(s: Fold, metric: Metric) -> list[tuple[int, int, int | None]]:
    """(index, start, stop|None) of a metric's cycles the fold knows, by index."""
    if metric in RESPONSE_METRICS:
        out: list[tuple[int, int, int | None]] = [
            (i, a, b) for _, m, i, a, b in s.closed if m == metric
        ]
        r = s.running.get(metric)
        if r is not None:
            out.append((r[1], r[2], None))
        out.sort()
        return out
    return [(1, s.created, s.done_since)]


def level_of(policy: Policy, s: Fold) -> tuple[int, Level] | None:
    name = s.decision.level
    if name is None or name not in policy.levels:
        return None
    return list(policy.levels).index(name), policy.levels[name]


def targets(policy: Policy, s: Fold) -> dict[str, int | None]:
    """Each metric's target under the final level and the current fields."""
    got = level_of(policy, s)
    if got is None:
        return {}
    return {m: got[1].target_seconds(m, s.fields) for m in METRICS}


_LabelsKey = tuple[tuple[int, ...], frozenset[str], int]


def _labels(
    built: dict[_LabelsKey, Labels],
    runs: Sequence[Run],
    start: int,
    ix: int,
    level: Level,
    metric: str,
) -> Labels:
    """The labels of `metric`'s cycles starting at or after `start`, read from the runs in
    force from then on (see `runs_from`); shared by the metrics with the same pauses,
    exclusions and first run."""
    cut = _cut(runs, start)
    key = (
        tuple(k for k, p in enumerate(level.pauses) if p.covers(metric)),
        excluded_categories(metric),
        cut,
    )
    got = built.get(key)
    if got is None:
        got = built[key] = Labels(runs[cut:] if cut > 0 else runs, ix, level, metric)
    return got


def _each(
    policy: Policy, s: Fold, only: Collection[tuple[str, int]] | None = None
) -> Iterator[tuple[Level, Labels, Metric, int, int, int | None, int]]:
    """(level, labels, metric, index, start, stop, target) of every cycle `project` makes
    (`only`: of those among these (metric, index) pairs)."""
    got = level_of(policy, s)
    if got is None:
        return
    ix, level = got
    built: dict[_LabelsKey, Labels] = {}
    metrics = METRICS if only is None else [m for m in METRICS if any(m == k for k, _ in only)]
    for metric in metrics:
        target = level.target_seconds(metric, s.fields)
        if target is None:
            continue
        known = spans(s, metric)
        if not known:
            continue
        first = min(a for _, a, _ in known)  # of all the metric's cycles, kept or not
        if only is not None:
            known = [k for k in known if (metric, k[0]) in only]
            if not known:
                continue
        labels = _labels(built, s.runs, first, ix, level, metric)
        for i, start, stop in known:
            yield level, labels, metric, i, start, stop, target


def project(policy: Policy, s: Fold, now: int) -> tuple[Cycle, ...]:
    """The cycles the fold knows (see `spans`) as of `now` under the final level."""
    v = policy.version
    return tuple(
        [cycle(lv, lab, m, i, a, b, t, now, v) for lv, lab, m, i, a, b, t in _each(policy, s)]
    )


def _outcome(
    level: Level,
    labels: Labels,
    metric: Metric,
    i: int,
    start: int,
    stop: int | None,
    target: int,
    now: int,
) -> Outcome:
    _, clock, state, _, due = _core(level, labels, start, stop, target, now)
    return Outcome(
        metric,
        i,
        state,
        _dt(start),
        None if stop is None else _dt(stop),
        None if due is None else _dt(due),
        target,
        clock.elapsed,
        target - clock.elapsed,
    )


def outcomes(
    policy: Policy, s: Fold, now: int, only: Collection[tuple[str, int]] | None = None
) -> list[Outcome]:
    """`project` without the timelines, warnings and thresholds: each cycle's state and
    figures (metric, index, state, start, stop, due, target, elapsed, remaining).
    `only`: the cycles among these (metric, index) pairs (each one's figures are the
    same as without it: a cycle is projected on its own)."""
    return [_outcome(*c, now) for c in _each(policy, s, only)]


class Prepared:
    """`outcomes` of one fold with what does not depend on `now` worked out once: the
    final level, each metric's target, the cycles' spans and their labels. For a fold
    that no longer changes (a stored checkpoint's) projected to many instants:
    `Prepared(policy, s).outcomes(now, only)` is `outcomes(policy, s, now, only)`, and
    its `project(now, policy.version)` is `project(policy, s, now)`."""

    __slots__ = ("_cycles",)

    def __init__(self, policy: Policy, s: Fold) -> None:
        self._cycles = tuple(_each(policy, s))

    def outcomes(self, now: int, only: Collection[tuple[str, int]] | None = None) -> list[Outcome]:
        if only is None:
            return [_outcome(*c, now) for c in self._cycles]
        return [_outcome(*c, now) for c in self._cycles if (c[2], c[3]) in only]

    def project(self, now: int, version: str) -> tuple[Cycle, ...]:
        """`project(policy, s, now)` (`version`: the policy's)."""
        return tuple([cycle(*c, now, version) for c in self._cycles])


def _cut(runs: Sequence[Run], start: int) -> int:
    """The index of the run in force at `start` (0 when none is earlier)."""
    return max(0, bisect_right(runs, start, key=lambda r: r[0]) - 1)


def runs_from(runs: Sequence[Run], start: int) -> Sequence[Run]:
    """The runs in force at or after `start` (the one in force at it first): what the
    labels of cycles starting at or after `start` read, so a cycle started late costs
    nothing for the runs before it."""
    cut = _cut(runs, start)
    return runs[cut:] if cut > 0 else runs
