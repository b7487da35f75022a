"""The replay as a resumable fold (semantics.md §Around `done`), in the style of h11.

The replay's whole state is one explicit value, `Fold`: the current fields,
status category and decision, the phase of the first response, the deferred
starts, the running cycles, the done span and the *runs* (when the inputs of
the per-metric labels changed: category and every level's pause conditions).
`step` advances it by one event; the response cycles move by one table,
`TRANSITIONS`, keyed by (first-response phase, event kind, done?) → actions.
`timers.measure` is the fold over the history followed by `cycles.project`.

A `Fold` is a checkpoint: the service stores it after a ticket's last event
(`to_plain` / `from_plain`, keyed by ruleset and `ENGINE_VERSION`) and
folds the next event onto it, so an event costs O(1) in the history length.
`closed` holds the cycles that stopped since the fold began or since
`trim()` (a checkpoint keeps only what is still running).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from slarules.engine.measurement import Evaluation
from slarules.engine.policy import Category, Decision, Metric, Policy, is_unset
from slarules.engine.ticket import Event

__all__ = [
    "ENGINE_VERSION",
    "TRANSITIONS",
    "Closed",
    "Fold",
    "Run",
    "begin",
    "step",
]

# Bump when the meaning of a stored `Fold` changes (stored checkpoints are then ignored).
ENGINE_VERSION = "fold-1"

Phase = Literal["before", "running", "over"]  # of the first response
Kind = Literal["customer", "agent", "done", "reopened"]
Run = tuple[int, Category, tuple[tuple[bool, ...], ...]]  # (from, category, hits per level)
Closed = tuple[int, Metric, int, int, int]  # (seq, metric, index, start, stop)

_RESPONSE: tuple[Metric, ...] = ("first_response", "next_response", "periodic_response")


@dataclass(slots=True)
class Fold:
    """The replay's state after its last event (mutable: `step` advances it in place)."""

    created: int
    last: int  # instant of the last folded event (the creation before any)
    fields: dict[str, Any]
    category: Category
    decision: Decision
    phase: Phase = "before"
    fr_pending: bool = False
    nr_pending: bool = False
    seq: int = 0  # cycles started so far (all metrics): their order
    counts: dict[str, int] = field(default_factory=dict)  # cycles started per metric
    running: dict[Metric, tuple[int, int, int]] = field(default_factory=dict)  # seq, i, start
    closed: list[Closed] = field(default_factory=list)
    done_spans: list[tuple[int, int | None]] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    events: int = 0  # events folded

    def copy(self) -> Fold:
        return Fold(
            self.created,
            self.last,
            dict(self.fields),
            self.category,
            self.decision,
            self.phase,
            self.fr_pending,
            self.nr_pending,
            self.seq,
            dict(self.counts),
            dict(self.running),
            list(self.closed),
            list(self.done_spans),
            list(self.runs),
            self.events,
        )

    def trim(self) -> Fold:
        """The same state without the cycles already stopped (a checkpoint)."""
        out = self.copy()
        out.closed = []
        out.done_spans = out.done_spans[-1:]
        return out

    @property
    def done_since(self) -> int | None:
        """When the ticket became done, while it is."""
        last = self.done_spans[-1] if self.done_spans else None
        return last[0] if last is not None and last[1] is None else None


# -- the transition table ----------------------------------------------------------------

Action = Literal[
    "start_fr",
    "start_pr",
    "start_nr_if_idle",
    "defer_fr",
    "defer_nr_if_idle",
    "phase_over",
    "cancel_fr",
    "cancel_nr",
    "answer",
    "stop_all",
    "open_done",
    "close_done",
    "resume_deferred",
]

_A = tuple[Action, ...]
_NOTHING: _A = ()

# (phase, kind, done?) → actions. "customer"/"agent": a public message by that author
# (private agent notes do not move cycles); "done"/"reopened": the category changed.
TRANSITIONS: Mapping[tuple[Phase, Kind, bool], _A] = {
    ("before", "customer", False): ("start_fr",),
    ("before", "customer", True): ("defer_fr",),
    ("running", "customer", False): _NOTHING,
    ("running", "customer", True): _NOTHING,
    ("over", "customer", False): ("start_nr_if_idle",),
    ("over", "customer", True): ("defer_nr_if_idle",),
    **{(p, "agent", False): ("answer",) for p in ("before", "running", "over")},
    **{(p, "agent", True): ("cancel_fr", "cancel_nr") for p in ("before", "running", "over")},
    **{(p, "done", False): ("stop_all", "open_done") for p in ("before", "running", "over")},
    **{
        (p, "reopened", True): ("close_done", "resume_deferred")
        for p in ("before", "running", "over")
    },
}
# Creation: (created by, done?) → actions.
CREATION: Mapping[tuple[str, bool], _A] = {
    ("customer", False): ("start_fr",),
    ("agent", False): ("start_pr",),
    ("customer", True): ("phase_over", "open_done"),
    ("agent", True): ("phase_over", "open_done"),
}


def _start(s: Fold, metric: Metric, at: int) -> None:
    n = s.counts.get(metric, 0) + 1
    s.counts[metric] = n
    s.running[metric] = (s.seq, n, at)
    s.seq += 1
    if metric == "first_response":
        s.phase = "running"


def _stop(s: Fold, metric: Metric, at: int) -> None:
    r = s.running.pop(metric, None)
    if r is not None:
        s.closed.append((r[0], metric, r[1], r[2], at))
        if metric == "first_response":
            s.phase = "over"


def _answer(s: Fold, at: int) -> None:
    for m in _RESPONSE:
        _stop(s, m, at)
    _start(s, "periodic_response", at)


def _stop_all(s: Fold, at: int) -> None:
    for m in _RESPONSE:
        _stop(s, m, at)


def _cancel_fr(s: Fold, at: int) -> None:
    if s.fr_pending:  # a cancelled first-response start ends the phase
        s.fr_pending = False
        s.phase = "over"


def _resume(s: Fold, at: int) -> None:
    if s.fr_pending:
        s.fr_pending = False
        _start(s, "first_response", at)
    if s.nr_pending:
        s.nr_pending = False
        _start(s, "next_response", at)


def _close_done(s: Fold, at: int) -> None:
    s.done_spans[-1] = (s.done_spans[-1][0], at)


def _set(**kw: bool) -> Callable[[Fold, int], None]:
    def act(s: Fold, at: int) -> None:
        for k, v in kw.items():
            setattr(s, k, v)

    return act


def _if_nr_idle(fn: Callable[[Fold, int], None]) -> Callable[[Fold, int], None]:
    def act(s: Fold, at: int) -> None:
        if "next_response" not in s.running:
            fn(s, at)

    return act


_ACTIONS: Mapping[Action, Callable[[Fold, int], None]] = {
    "start_fr": lambda s, at: _start(s, "first_response", at),
    "start_pr": lambda s, at: _start(s, "periodic_response", at),
    "start_nr_if_idle": _if_nr_idle(lambda s, at: _start(s, "next_response", at)),
    "defer_fr": _set(fr_pending=True),
    "defer_nr_if_idle": _if_nr_idle(_set(nr_pending=True)),
    "phase_over": lambda s, at: setattr(s, "phase", "over"),
    "cancel_fr": _cancel_fr,
    "cancel_nr": _set(nr_pending=False),
    "answer": _answer,
    "stop_all": _stop_all,
    "open_done": lambda s, at: s.done_spans.append((at, None)),
    "close_done": _close_done,
    "resume_deferred": _resume,
}


def run_actions(s: Fold, actions: tuple[Action, ...], at: int) -> None:
    for a in actions:
        _ACTIONS[a](s, at)


# -- fields and runs ---------------------------------------------------------------------


def _apply(fields: dict[str, Any], e: Event, at: datetime) -> None:
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
    fields["updated_at"] = at


def hits(policy: Policy, fields: Mapping[str, Any]) -> tuple[tuple[bool, ...], ...]:
    """Whether each pause condition of each level (in `policy.levels` order) holds."""
    return tuple([tuple([h(fields) for h in hs]) for hs in _pause_fns(policy)])


# Per policy, each level's pause conditions (`hits` runs after every event). Keyed by
# id with the policy kept alive beside it, so an id is never reused while cached.
_PAUSES: dict[int, tuple[Policy, tuple[tuple[Callable[[Mapping[str, Any]], bool], ...], ...]]]
_PAUSES = {}


def _pause_fns(
    policy: Policy,
) -> tuple[tuple[Callable[[Mapping[str, Any]], bool], ...], ...]:
    got = _PAUSES.get(id(policy))
    if got is not None and got[0] is policy:
        return got[1]
    fns = tuple(tuple(p.holds for p in lv.pauses) for lv in policy.levels.values())
    if len(_PAUSES) >= 64:
        _PAUSES.clear()
    _PAUSES[id(policy)] = (policy, fns)
    return fns


def _note(policy: Policy, fields: Mapping[str, Any]) -> str | None:
    status = fields.get("status")
    if isinstance(status, str) and status != "" and not policy.knows_status(status):
        return f"unknown status `{status}` treated as open"
    return None


_DT: dict[int, datetime] = {}


def _dt(u: int) -> datetime:
    """The UTC instant of POSIX `u` (memoized: the same instants recur within a ticket,
    across its cycles and under both rulesets of a preview; datetimes are immutable)."""
    got = _DT.get(u)
    if got is None:
        if len(_DT) >= 1 << 16:
            _DT.clear()
        got = _DT[u] = datetime.fromtimestamp(u, UTC)
    return got


def _snapshot(policy: Policy, s: Fold, u: int) -> None:
    run: Run = (u, s.category, hits(policy, s.fields))
    runs = s.runs
    if runs and runs[-1][0] == u:  # the last event at an instant holds from it
        runs[-1] = run
        return
    # the previous instant is final now: fold it into its predecessor when equal
    if len(runs) >= 2 and runs[-1][1:] == runs[-2][1:]:
        runs.pop()
    runs.append(run)


def begin(
    policy: Policy,
    created: int,
    initial: Mapping[str, Any],
    created_by: str,
) -> tuple[Fold, Evaluation]:
    """The state at creation and the first run of the rules."""
    at = _dt(created)
    fields: dict[str, Any] = {k: v for k, v in initial.items() if not is_unset(v)}
    fields["created_at"] = at
    fields["updated_at"] = at
    fields["last_message_by"] = created_by
    category = policy.category(fields.get("status"))
    decision = policy.decide(fields)
    s = Fold(created, created, fields, category, decision)
    by = "customer" if created_by == "customer" else "agent"
    run_actions(s, CREATION[(by, category == "done")], created)
    _snapshot(policy, s, created)
    ev = Evaluation(
        at,
        policy.version,
        decision.matched,
        None,
        decision.level,
        decision.decided_by,
        _note(policy, fields),
    )
    return s, ev


def kind_of(policy: Policy, s: Fold, e: Event) -> Kind | None:
    """Which row of the table an event takes (after its fields applied); None: no row."""
    if e.type == "message":
        return _message_kind(e)
    return _category_kind(s.category, policy.category(s.fields.get("status")))


def _message_kind(e: Event) -> Kind | None:
    if e.by == "customer":
        return "customer"
    return "agent" if e.public else None


def _category_kind(old: Category, new: Category) -> Kind | None:
    if new == old:
        return None
    if new == "done":
        return "done"
    return "reopened" if old == "done" else None


def step(policy: Policy, s: Fold, u: int, e: Event) -> Evaluation:
    """Advance the state by one event at POSIX `u` (>= `s.last`); the run of the rules."""
    at = _dt(u)
    _apply(s.fields, e, e.at if e.at == at else at)  # keeps the event's own offset
    done = s.category == "done"
    if e.type == "message":  # kind_of, with the new category computed once
        kind = _message_kind(e)
    else:
        new = policy.category(s.fields.get("status"))
        kind = _category_kind(s.category, new)
        s.category = new
    if kind is not None:
        run_actions(s, TRANSITIONS[(s.phase, kind, done)], u)
    before = s.decision.level
    d = s.decision = policy.decide(s.fields)
    s.last = u
    s.events += 1
    _snapshot(policy, s, u)
    return Evaluation(
        at,
        policy.version,
        d.matched,
        before,
        d.level,
        d.decided_by,
        _note(policy, s.fields),
    )
