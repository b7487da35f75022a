"""Ticket history → level, timer cycles and evaluation log (semantics.md), as of `now`.

Theory of operation
-------------------
1. **Replay** (`engine.fold`). Events apply in order of `at` (ties in the given
   order); only those at or before `now` count. The rules run at creation and
   after every event (the evaluation log). The fields holding over
   `[t_i, t_i+1)` are the ones after the *last* event at `t_i`. The replay is
   a fold: one explicit state value advanced event by event by one transition
   table (first, next, periodic response; deferred starts and cancellations
   around `done`; the done spans that stop and resume the cumulative cycles).
2. **Measure** (`engine.cycles`). Under the *final* level every metric with a
   target gets its cycles, cut by the fold's runs into counting, paused and
   done segments and measured in the level's calendar.

`measure` = `fold` + `cycles.project`; the service resumes a stored fold
instead of replaying a long history (`engine.fold` explains the checkpoint).
Everything inside is integer POSIX seconds; outputs are UTC-aware datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slarules.engine import cycles as _cycles
from slarules.engine.cancel import NEVER, Cancel
from slarules.engine.fold import Fold, begin, step
from slarules.engine.fold import _dt as _dt  # memoized
from slarules.engine.measurement import Evaluation, Measurement
from slarules.engine.policy import Category, Decision, Metric, Policy
from slarules.engine.ticket import Event, TicketHistory
from slarules.errors import InputError

__all__ = ["Replay", "excluded_categories", "fold", "measure", "measurement_of", "replay"]

excluded_categories = _cycles.excluded_categories


def _posix(t: datetime, key: str | int) -> int:
    """POSIX seconds of an aware instant; `key` names it in errors (an int: `events[i].at`)."""
    try:
        d = t - _EPOCH  # aware: one subtraction (the offset applied in C)
    except TypeError:
        return _posix_checked(t, key)
    return d.days * 86400 + d.seconds


def _posix_checked(t: datetime, key: str | int) -> int:
    off = t.utcoffset()
    if off is None:
        where = f"events[{key}].at" if isinstance(key, int) else key
        raise InputError("naive-datetime", f"`{t.isoformat()}` has no UTC offset", where)
    d = t.replace(tzinfo=None) - off - _NAIVE_EPOCH
    return d.days * 86400 + d.seconds


_NAIVE_EPOCH = datetime(1970, 1, 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def posix(t: datetime, key: str = "now") -> int:
    """POSIX seconds of an aware instant (InputError `naive-datetime` otherwise)."""
    return _posix(t, key)


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


def timed_events(history: TicketHistory, now: int) -> list[tuple[int, Event]]:
    """The events at or before `now` in replay order (POSIX instant, event); checks them."""
    created = _posix(history.created_at, "ticket.created_at")
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
        if u <= now:
            timed.append((u, i, e))
    timed.sort(key=lambda x: (x[0], x[1]))
    return [(u, e) for u, _, e in timed]


def _start(policy: Policy, history: TicketHistory, now: datetime) -> tuple[int, Fold, Evaluation]:
    created = _posix(history.created_at, "ticket.created_at")
    until = _posix(now, "now")
    if until < created:
        raise InputError("now-before-creation", "`now` is before the ticket's `created_at`", "now")
    s, ev = begin(policy, created, history.fields, history.created_by)
    return until, s, ev


def fold(
    policy: Policy, history: TicketHistory, now: datetime, cancel: Cancel = NEVER
) -> tuple[Fold, tuple[Evaluation, ...]]:
    """The replay's state after the events up to `now`, and the evaluation log.

    `cancel.check()` is polled before each event (the edge's time budget)."""
    until, s, ev = _start(policy, history, now)
    evaluations = [ev]
    for u, e in timed_events(history, until):
        cancel.check()
        evaluations.append(step(policy, s, u, e))
    return s, tuple(evaluations)


def replay(policy: Policy, history: TicketHistory, now: datetime) -> Replay:
    """Apply the events up to `now`, run the rules after each, build the cycle skeleton."""
    until, s, ev = _start(policy, history, now)
    evaluations = [ev]
    decisions = [s.decision]
    instants = [s.created]
    snapshots: list[Mapping[str, Any]] = [dict(s.fields)]
    categories: list[Category] = [s.category]
    for u, e in timed_events(history, until):
        evaluations.append(step(policy, s, u, e))
        decisions.append(s.decision)
        if instants[-1] == u:
            snapshots[-1] = dict(s.fields)
            categories[-1] = s.category
        else:
            instants.append(u)
            snapshots.append(dict(s.fields))
            categories.append(s.category)
    started: list[tuple[int, Metric, int, int | None]]
    started = [(q, m, a, b) for q, m, _, a, b in s.closed]
    started += [(q, m, a, None) for m, (q, _, a) in s.running.items()]
    started.sort(key=lambda c: c[0])
    return Replay(
        tuple(instants),
        tuple(snapshots),
        tuple(categories),
        tuple(decisions),
        tuple(evaluations),
        tuple((m, a, b) for _, m, a, b in started),
        tuple(s.done_spans),
    )


def measurement_of(
    policy: Policy,
    ticket_id: str,
    s: Fold,
    evaluations: tuple[Evaluation, ...],
    now: datetime,
    cycles: bool = True,
) -> Measurement:
    """The measurement of a fold as of `now` (its cycles: those `cycles.spans` knows;
    `cycles=False`: none, for a caller that reads their figures from `cycles.outcomes`)."""
    until = _posix(now, "now")
    return Measurement(
        ticket_id=ticket_id,
        now=_dt(until),
        ruleset_version=policy.version,
        decision=s.decision,
        fields=dict(s.fields),
        done=s.category == "done",
        cycles=_cycles.project(policy, s, until) if cycles else (),
        evaluations=evaluations,
    )


def measure(
    policy: Policy, history: TicketHistory, now: datetime, cancel: Cancel = NEVER
) -> Measurement:
    """A ticket's level, cycles and evaluation log as of `now` (pure; semantics.md)."""
    s, evaluations = fold(policy, history, now, cancel)
    return measurement_of(policy, history.id, s, evaluations, now)
