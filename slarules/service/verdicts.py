"""What the preview's tally reads of a ticket's measurement, measured or read from the store.

A `Verdict` is the level, the deciding rule and the SLA-log rows (one per cycle:
metric, index, state, figures) of one ticket under one ruleset as of `now`: all
that `preview.Preview` counts (transitions, flips, compliance).

The preview measures every ticket under the OLD and the NEW ruleset. When OLD is
the version a ticket was last measured under, the store already holds that
verdict: the ticket row (level, deciding rule, text columns), its cycles, and for
an open ticket its checkpoint (`engine.fold`). `stored_verdict` returns it only
when it is exactly what measuring the history gives, that is when

- every stored event is at or before both the instant it was measured at and the
  preview's `now` (no event the stored measurement did not fold, none the
  preview leaves out);
- a done ticket's cycles are all stopped (their figures no longer depend on
  `now`): they are read as stored;
- an open ticket has a checkpoint under this ruleset and engine version that
  folded every stored event: its stopped cycles stand as stored and the running
  ones are projected to `now` from the checkpoint (the engine's projection, as
  `recording.project_stored` reads an open ticket).

Otherwise it returns None and the caller measures the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

from slarules.engine.cycles import outcomes
from slarules.engine.fold import Fold
from slarules.engine.measurement import Measurement
from slarules.engine.policy import METRICS, Policy
from slarules.engine.reports import LogRow, log_rows
from slarules.engine.ticket import TicketHistory
from slarules.engine.timers import fold, posix
from slarules.service import checkpoints
from slarules.store.histories import Measured, StoredCycle
from slarules.store.rows import EventRow, TicketHead

_ORDER: dict[str, int] = {m: i for i, m in enumerate(METRICS)}


class Verdict(NamedTuple):
    """One ticket under one ruleset as of `now`: what the preview's tally counts."""

    ticket_id: str
    level: str | None
    decided_by: str | None
    rows: tuple[LogRow, ...]  # engine.reports.log_rows: none without a level


_FINISHED = {"met", "breached", "no cycle"}


def flip_kind(before: str, after: str) -> str | None:
    """The kind of a cycle's change (`before`/`after`: a state or "no cycle"), or None."""
    if before == after or not ({before, after} & _FINISHED):
        return None
    if before == "no cycle":
        return "appeared"
    if after == "no cycle":
        return "disappeared"
    if (before, after) == ("met", "breached"):
        return "met_to_breached"
    if (before, after) == ("breached", "met"):
        return "breached_to_met"
    return "other"


class _Outcome(Protocol):
    @property
    def metric(self) -> str: ...
    @property
    def index(self) -> int: ...
    @property
    def state(self) -> str: ...


def flips_between(
    old: Iterable[_Outcome], new: Iterable[_Outcome]
) -> list[tuple[str, int, str, str, str]]:
    """(metric, index, before, after, kind) of every cycle whose outcome changes."""
    a = {(c.metric, c.index): c.state for c in old}
    b = {(c.metric, c.index): c.state for c in new}
    out: list[tuple[str, int, str, str, str]] = []
    for k in sorted(a.keys() | b.keys(), key=lambda k: (_ORDER[k[0]], k[1])):
        sa, sb = a.get(k, "no cycle"), b.get(k, "no cycle")
        kind = flip_kind(sa, sb)
        if kind is not None:
            out.append((k[0], k[1], sa, sb, kind))
    return out


def cycle_flips(old: Measurement, new: Measurement) -> list[tuple[str, int, str, str, str]]:
    """(metric, index, before, after, kind) of every cycle whose outcome changes."""
    return flips_between(old.cycles, new.cycles)


def verdict(m: Measurement) -> Verdict:
    return Verdict(m.ticket_id, m.level, m.decision.decided_by, tuple(log_rows(m)))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _outcome_rows(policy: Policy, ticket_id: str, s: Fold, when: datetime) -> tuple[LogRow, ...]:
    """`log_rows` of the fold's cycles as of `when` (`cycles.outcomes`: no timelines)."""
    level = s.decision.level
    if level is None:
        return ()
    f = s.fields
    texts = (_text(f.get("requester")), _text(f.get("department")), _text(f.get("assignee")))
    return tuple(
        [
            LogRow(
                ticket_id,
                *texts,
                level,
                c.metric,
                c.index,
                c.started_at,
                c.due_at,
                c.stopped_at,
                c.state,
                c.target,
                c.elapsed,
                c.remaining,
                policy.version,
            )
            for c in outcomes(policy, s, posix(when))
        ]
    )


def measured_verdict(policy: Policy, h: TicketHistory, now: datetime) -> Verdict:
    """`verdict(measure_at(policy, h, now))` without the cycles' timelines and thresholds
    (the tally does not read them): the fold, then `cycles.outcomes`."""
    when = max(now, h.created_at)
    s, _ = fold(policy, h, when)
    return Verdict(
        h.id, s.decision.level, s.decision.decided_by, _outcome_rows(policy, h.id, s, when)
    )


def _row(ticket_id: str, level: str, got: Measured, c: StoredCycle) -> LogRow:
    """`engine.reports.log_row` of a stored cycle (the ticket row holds the text columns)."""
    return LogRow(
        ticket_id=ticket_id,
        requester=got.requester,
        department=got.department,
        assignee=got.assignee,
        level=level,
        metric=c.metric,
        index=c.index,
        started_at=c.started_at,
        due_at=c.due_at,
        stopped_at=c.stopped_at,
        state=c.state,
        target=c.target,
        elapsed=c.elapsed,
        remaining=c.remaining,
        ruleset_version=c.ruleset_version,
    )


def stored_verdict(
    policy: Policy,
    head: TicketHead,
    events: Sequence[EventRow],
    got: Measured | None,
    now: datetime,
) -> Verdict | None:
    """The verdict of a stored ticket under `policy` as of `now`, read from the store
    (see the module), or None when only measuring its history gives it."""
    if got is None or got.version != policy.version or head.measured_at is None:
        return None
    if any(c.ruleset_version != policy.version for c in got.cycles):
        return None
    when = max(now, head.created_at)
    last = max((e.at for e in events), default=head.created_at)
    if last > when or last > head.measured_at:
        return None
    stored = sorted(got.cycles, key=lambda c: (_ORDER[c.metric], c.index))
    if head.done:
        if any(c.stopped_at is None for c in stored):
            return None
        level = got.level
        rows = () if level is None else tuple(_row(head.id, level, got, c) for c in stored)
        return Verdict(head.id, level, got.decided_by, rows)
    point = got.checkpoint
    if point is None or not checkpoints.usable(policy, point):
        return None
    if point.state.get("events") != len(events) or point.last_at != last:
        return None
    s, _ = checkpoints.from_plain(policy, point.state)
    level = s.decision.level
    if level is None:
        return Verdict(head.id, None, s.decision.decided_by, ())
    running = {(r.metric, r.index): r for r in _outcome_rows(policy, head.id, s, when)}
    merged = []
    for c in stored:
        r = running.pop((c.metric, c.index), None)
        merged.append(r if r is not None else _row(head.id, level, got, c))
    merged.extend(running.values())
    merged.sort(key=lambda r: (_ORDER[r.metric], r.index))
    return Verdict(head.id, level, s.decision.decided_by, tuple(merged))
