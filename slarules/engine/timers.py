"""Ticket history → level, timer cycles and evaluation log (semantics.md), as of `now`.

Theory of operation
-------------------
1. **Replay.** Events apply in order of `at` (ties in the given order); only
   those at or before `now` count. The rules run at creation and after every
   event (the evaluation log). The fields holding over `[t_i, t_i+1)` are the
   ones after the *last* event at `t_i`: a list of *snapshots*, one per
   distinct instant.
2. **Skeleton.** A level-independent state machine over the same events gives
   each response cycle's start and stop (first, next, periodic response, with
   the rules around `done`: stops, deferred starts, cancellations) and the
   instants the ticket became done or was reopened (which stop and resume the
   cumulative cycles).
3. **Measure.** Under the *final* level (its calendar, targets read from the
   current fields, pause conditions), every metric with a target gets its
   cycles. A cycle's span is cut by the snapshots into segments labelled
   `count`, `paused` (a pause condition or a status category the metric
   excludes) or `done`; the non-counting ones are subtracted in the calendar.
   Every threshold instant is the *earliest* instant at which the business
   time reaches it, which is exactly what `Calendar.add_paused` returns.
   "Becomes breached" (E > T) is the instant E reaches T + 1 second, less one
   second: the next counted moment after E reached T.

Everything inside is integer POSIX seconds; outputs are UTC-aware datetimes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from functools import lru_cache
from typing import Any, Literal

from slarules.engine.calendar import Calendar
from slarules.engine.measurement import (
    Cycle,
    CycleEvent,
    CycleEventKind,
    CycleState,
    Evaluation,
    Measurement,
    Threshold,
    WarningMark,
)
from slarules.engine.policy import (
    METRICS,
    RESPONSE_METRICS,
    Category,
    Decision,
    Level,
    Metric,
    Policy,
    is_unset,
)
from slarules.engine.ticket import Event, TicketHistory
from slarules.errors import InputError

__all__ = ["excluded_categories", "measure", "replay"]

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


def excluded_categories(metric: str) -> frozenset[str]:
    """The status categories a metric's own definition does not count."""
    return _EXCLUDED.get(metric, _NONE)


def _posix(t: datetime, key: str | int) -> int:
    """POSIX seconds of an aware instant; `key` names it in errors (an int: `events[i].at`)."""
    off = t.utcoffset()
    if off is None:
        where = f"events[{key}].at" if isinstance(key, int) else key
        raise InputError("naive-datetime", f"`{t.isoformat()}` has no UTC offset", where)
    d = t.replace(tzinfo=None) - off - _NAIVE_EPOCH
    return d.days * 86400 + d.seconds


_NAIVE_EPOCH = datetime(1970, 1, 1)


def _dt(u: int) -> datetime:
    return datetime.fromtimestamp(u, UTC)


# -- 1. replay ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Replay:
    """The ticket's field history as of `now` (level-independent).

    `instants[i]` (POSIX) is when `snapshots[i]` (fields) and `categories[i]`
    start to hold. `response` lists (metric, start, stop|None) in start order;
    `done_spans` lists (became done, reopened|None).
    """

    instants: tuple[int, ...]
    snapshots: tuple[Mapping[str, Any], ...]
    categories: tuple[Category, ...]
    decisions: tuple[Decision, ...]
    evaluations: tuple[Evaluation, ...]
    response: tuple[tuple[Metric, int, int | None], ...]
    done_spans: tuple[tuple[int, int | None], ...]


class _Skeleton:
    """The response-cycle state machine (semantics.md §Around `done`)."""

    def __init__(self) -> None:
        self.cycles: list[list[Any]] = []  # [metric, start, stop|None]
        self.running: dict[str, int] = {}  # metric -> index into cycles
        self.fr_phase = "before"  # before | running | over
        self.fr_pending = False
        self.nr_pending = False
        self.done_spans: list[list[int | None]] = []

    def start(self, metric: Metric, at: int) -> None:
        self.running[metric] = len(self.cycles)
        self.cycles.append([metric, at, None])
        if metric == "first_response":
            self.fr_phase = "running"

    def stop(self, metric: str, at: int) -> None:
        i = self.running.pop(metric, None)
        if i is not None:
            self.cycles[i][2] = at
            if metric == "first_response":
                self.fr_phase = "over"

    def created(self, at: int, by: str, done: bool) -> None:
        if done:
            # created done: owes no first response; cumulative cycles start stopped
            self.fr_phase = "over"
            self.done_spans.append([at, None])
        elif by == "customer":
            self.start("first_response", at)
        else:
            self.start("periodic_response", at)

    def customer_message(self, at: int, done: bool) -> None:
        if self.fr_phase == "before":
            if done:
                self.fr_pending = True
            else:
                self.start("first_response", at)
        elif self.fr_phase == "over" and "next_response" not in self.running:
            if done:
                self.nr_pending = True
            else:
                self.start("next_response", at)

    def agent_message(self, at: int, done: bool) -> None:
        if done:
            if self.fr_pending:  # a cancelled first-response start ends the phase
                self.fr_pending = False
                self.fr_phase = "over"
            self.nr_pending = False
            return
        self.stop("first_response", at)
        self.stop("next_response", at)
        self.stop("periodic_response", at)
        self.start("periodic_response", at)

    def became_done(self, at: int) -> None:
        for metric in ("first_response", "next_response", "periodic_response"):
            self.stop(metric, at)
        self.done_spans.append([at, None])

    def reopened(self, at: int) -> None:
        self.done_spans[-1][1] = at
        if self.fr_pending:
            self.fr_pending = False
            self.start("first_response", at)
        if self.nr_pending:
            self.nr_pending = False
            self.start("next_response", at)


def _apply(fields: dict[str, Any], e: Event) -> None:
    if e.type == "message":
        if e.public:
            fields["last_message_by"] = e.by
            if e.text:
                fields["last_message"] = e.text
    elif e.type == "status":
        fields["status"] = e.status
    else:
        for k, v in e.set.items():
            if is_unset(v):
                fields.pop(k, None)
            else:
                fields[k] = v
        for k in e.unset:
            fields.pop(k, None)
    fields["updated_at"] = e.at


def _note(policy: Policy, fields: Mapping[str, Any]) -> str | None:
    status = fields.get("status")
    if isinstance(status, str) and status != "" and not policy.knows_status(status):
        return f"unknown status `{status}` treated as open"
    return None


def replay(policy: Policy, history: TicketHistory, now: datetime) -> Replay:
    """Apply the events up to `now`, run the rules after each, build the cycle skeleton."""
    created = _posix(history.created_at, "ticket.created_at")
    until = _posix(now, "now")
    if until < created:
        raise InputError("now-before-creation", "`now` is before the ticket's `created_at`", "now")
    created_at = _dt(created)
    timed: list[tuple[int, int, Event]] = []
    for i, e in enumerate(history.events):
        u = _posix(e.at, i)
        if u < created:
            raise InputError(
                "event-before-creation",
                "the event is before the ticket's `created_at`",
                f"events[{i}].at",
            )
        if e.type == "message" and e.by == "customer" and not e.public:
            raise InputError(
                "bad-value", "a customer message cannot be private", f"events[{i}].public"
            )
        if u <= until:
            timed.append((u, i, e))
    timed.sort(key=lambda x: (x[0], x[1]))

    fields: dict[str, Any] = {k: v for k, v in history.fields.items() if not is_unset(v)}
    fields["created_at"] = created_at
    fields["updated_at"] = created_at
    fields["last_message_by"] = history.created_by
    category = policy.category(fields.get("status"))
    decision = policy.decide(fields)
    decisions = [decision]
    evaluations = [
        Evaluation(
            created_at,
            policy.version,
            decision.matched,
            None,
            decision.level,
            decision.decided_by,
            _note(policy, fields),
        )
    ]
    sk = _Skeleton()
    sk.created(created, history.created_by, category == "done")

    instants = [created]
    snapshots: list[Mapping[str, Any]] = [dict(fields)]
    categories: list[Category] = [category]
    for u, _, e in timed:
        at = _dt(u)
        if e.at != at:
            e = _with_at(e, at)
        _apply(fields, e)
        done = category == "done"
        if e.type == "message":
            if e.by == "customer":
                sk.customer_message(u, done)
            elif e.public:
                sk.agent_message(u, done)
        else:
            new = policy.category(fields.get("status"))
            if new != category:
                if new == "done":
                    sk.became_done(u)
                elif done:
                    sk.reopened(u)
                category = new
        before = decision.level
        decision = policy.decide(fields)
        decisions.append(decision)
        evaluations.append(
            Evaluation(
                at,
                policy.version,
                decision.matched,
                before,
                decision.level,
                decision.decided_by,
                _note(policy, fields),
            )
        )
        if instants[-1] == u:
            snapshots[-1] = dict(fields)
            categories[-1] = category
        else:
            instants.append(u)
            snapshots.append(dict(fields))
            categories.append(category)
    return Replay(
        tuple(instants),
        tuple(snapshots),
        tuple(categories),
        tuple(decisions),
        tuple(evaluations),
        tuple((c[0], c[1], c[2]) for c in sk.cycles),
        tuple((s[0], s[1]) for s in sk.done_spans),  # type: ignore[misc]
    )


def _with_at(e: Event, at: datetime) -> Event:
    return Event(
        at, e.type, e.by, e.public, e.text, e.channel, e.status, e.set, e.unset, e.event_id
    )


# -- 3. measure --------------------------------------------------------------------------


def _pause_hits(rp: Replay, level: Level) -> list[tuple[bool, ...]]:
    """For each snapshot, whether each of the level's pause conditions holds (once each)."""
    holds = [p.holds for p in level.pauses]
    return [tuple(h(f) for h in holds) for f in rp.snapshots]


class _Labels:
    """Per-snapshot label (count / paused / done) of one metric under one level."""

    def __init__(
        self, rp: Replay, level: Level, hits: Sequence[tuple[bool, ...]], metric: str
    ) -> None:
        mine = [k for k, p in enumerate(level.pauses) if p.covers(metric)]
        excluded = excluded_categories(metric)
        labels: list[Label] = []
        for hit, cat in zip(hits, rp.categories, strict=True):
            if cat == "done":
                labels.append("done")
            elif cat in excluded or any(hit[k] for k in mine):
                labels.append("paused")
            else:
                labels.append("count")
        self.instants = rp.instants
        self.labels = labels

    def segments(self, start: int, end: int) -> list[tuple[int, int, Label]]:
        """`[start, end)` cut where the label changes (merged); empty when end <= start."""
        if end <= start:
            return []
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
def _threshold_seconds(percent: float, target: int) -> int:
    """floor(percent / 100 × target), exact for percentages written in decimal."""
    return int(Fraction(repr(percent)) * target / 100)


def _cycle(
    level: Level,
    labels: _Labels,
    metric: Metric,
    index: int,
    start: int,
    stop: int | None,
    target: int,
    now: int,
    version: str,
) -> Cycle:
    cal: Calendar = level.calendar
    end = now if stop is None else stop
    segs = labels.segments(start, end)
    off = [(a, b) for a, b, lab in segs if lab != "count"]
    elapsed = cal.elapsed_paused(start, end, off)

    def reach(x: int) -> int:
        return cal.add_paused(start, x, off)

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

    now_label = labels.at(end if end > start else start)
    state: CycleState
    if elapsed > target:
        state = "breached"
    elif stop is not None:
        state = "met"
    elif now_label == "paused":
        state = "paused"
    else:
        state = "active"
    counting = state == "active"

    breached_at = reach(target) if state == "breached" else None
    if breached_at is not None:
        marks.append((breached_at, "breached"))
    if state == "breached":
        due: int | None = breached_at
    elif state == "paused":
        due = None
    elif elapsed == target:
        due = reach(target)
    else:
        due = cal.add_posix(end, target - elapsed)

    warnings: list[WarningMark] = []
    thresholds: list[Threshold] = []
    levels: list[tuple[int, float | None, int | None]] = [
        (_threshold_seconds(p, target), p, None) for p in level.warn_percents
    ]
    levels += [(target - d, None, d) for d in level.warn_befores if d < target]
    for x, percent, before in levels:
        if elapsed >= x:
            w = _dt(reach(x))
            warnings.append(WarningMark(metric, w, percent, before))
            marks.append((reach(x), "warned"))
            thresholds.append(Threshold("warning", w, True, percent, before))
        else:
            ahead = _dt(cal.add_posix(end, x - elapsed)) if counting else None
            thresholds.append(Threshold("warning", ahead, False, percent, before))
    if elapsed > target:
        thresholds.append(Threshold("breach", _dt(reach(target + 1) - 1), True))
    else:
        ahead = _dt(cal.add_posix(end, target - elapsed + 1) - 1) if counting else None
        thresholds.append(Threshold("breach", ahead, False))

    marks.sort(key=lambda m: (m[0], _RANK[m[1]]))
    timeline = tuple(CycleEvent(_kind(k), _dt(u)) for u, k in marks)
    return Cycle(
        metric=metric,
        index=index,
        state=state,
        started_at=_dt(start),
        stopped_at=None if stop is None else _dt(stop),
        due_at=None if due is None else _dt(due),
        breached_at=None if breached_at is None else _dt(breached_at),
        target=target,
        elapsed=elapsed,
        remaining=target - elapsed,
        warnings=tuple(warnings),
        timeline=timeline,
        ruleset_version=version,
        thresholds=tuple(thresholds),
    )


def _kind(k: str) -> CycleEventKind:
    return k  # type: ignore[return-value]


def measure_replay(
    policy: Policy, history: TicketHistory, rp: Replay, now: datetime
) -> Measurement:
    """Measure a replayed history under the final level (see the module docstring)."""
    until = _posix(now, "now")
    decision = rp.decisions[-1]
    fields = rp.snapshots[-1]
    cycles: list[Cycle] = []
    level = policy.levels.get(decision.level) if decision.level is not None else None
    if level is not None:
        created = rp.instants[0]
        hits = _pause_hits(rp, level)
        for metric in METRICS:
            target = level.target_seconds(metric, fields)
            if target is None:
                continue
            labels = _Labels(rp, level, hits, metric)
            spans: Sequence[tuple[Metric, int, int | None]]
            if metric in RESPONSE_METRICS:
                spans = [c for c in rp.response if c[0] == metric]
            else:
                last = rp.done_spans[-1] if rp.done_spans else None
                stop = last[0] if last is not None and last[1] is None else None
                spans = [(metric, created, stop)]
            for i, (_, start, stop) in enumerate(spans, 1):
                cycles.append(
                    _cycle(level, labels, metric, i, start, stop, target, until, policy.version)
                )
    return Measurement(
        ticket_id=history.id,
        now=_dt(until),
        ruleset_version=policy.version,
        decision=decision,
        fields=fields,
        done=rp.categories[-1] == "done",
        cycles=tuple(cycles),
        evaluations=rp.evaluations,
    )


def measure(policy: Policy, history: TicketHistory, now: datetime) -> Measurement:
    """A ticket's level, cycles and evaluation log as of `now` (pure; semantics.md)."""
    return measure_replay(policy, history, replay(policy, history, now), now)
