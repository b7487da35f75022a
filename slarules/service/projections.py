"""The running cycles of open tickets as of `now`, from their stored checkpoints.

The engine defines how a ticket's state after its last event projects to a later
`now` (`engine.timers.measurement_of` over the fold); a checkpoint is that state,
stored. A list that shows stored rows (the SLA log, its export, compliance) needs
only the figures of the running cycles: their stopped cycles stand as stored. Those
figures come from `engine.cycles.outcomes` (the projection without the timelines,
warnings and thresholds that no log row shows, which cost most of a projection).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from slarules.engine.cycles import Outcome
from slarules.engine.measurement import Cycle
from slarules.engine.policy import Policy
from slarules.engine.timers import posix
from slarules.service import checkpoints
from slarules.store import Store


class Running(NamedTuple):
    """An open ticket as of `now`: its level, current fields and the figures of its
    cycles (`log_cycle`: no warnings, timeline or thresholds)."""

    level: str | None
    fields: Mapping[str, Any]
    cycles: dict[tuple[str, int], Cycle]  # by (metric, index)


def log_cycle(o: Outcome, version: str) -> Cycle:
    """A cycle's figures as a log row reads them: the engine's projection without its
    warnings, timeline and thresholds (a breached cycle's breach instant is its due
    instant, `engine.cycles._due`)."""
    return Cycle(
        metric=o.metric,
        index=o.index,
        state=o.state,
        started_at=o.started_at,
        stopped_at=o.stopped_at,
        due_at=o.due_at,
        breached_at=o.due_at if o.state == "breached" else None,
        target=o.target,
        elapsed=o.elapsed,
        remaining=o.remaining,
        warnings=(),
        timeline=(),
        ruleset_version=version,
    )


def running_now(
    store: Store,
    policy: Policy,
    ids: Sequence[str],
    now: datetime,
    only: Mapping[str, Collection[tuple[str, int]]] | None = None,
) -> tuple[dict[str, Running], list[str]]:
    """The projections of the tickets with a usable checkpoint (of this ruleset and engine
    version, no event after `now`), and the other ids (done, or to be measured). `only`:
    per ticket, the (metric, index) of the cycles wanted (a page's rows); the others are
    not projected (`engine.cycles.outcomes`)."""
    repo = store.tickets
    with store.read() as cur:
        heads, points = repo.heads_and_checkpoints(cur, ids)
    out: dict[str, Running] = {}
    rest: list[str] = []
    for t in ids:
        h, p = heads.get(t), points.get(t)
        if h is None:
            continue
        at = max(now, h.created_at)
        if p is None or not checkpoints.usable(policy, p) or at < p.last_at:
            rest.append(t)
            continue
        s, prep = checkpoints.prepared(policy, p.state)
        figures = prep.outcomes(posix(at), None if only is None else only.get(t, ()))
        cycles: dict[tuple[str, int], Cycle] = {
            (o.metric, o.index): log_cycle(o, policy.version) for o in figures
        }
        out[t] = Running(s.decision.level, dict(s.fields), cycles)
    return out, rest
