"""Re-measure after a reload without replaying the tickets the change cannot touch.

`engine.impact` says what a new policy may measure differently from the old one: a
ticket whose replay reads nothing that changed and whose final level did not change
measures the same under both, apart from the version. Such a ticket is *restamped*
from its checkpoint (a fold of all its events under the old policy, which is the fold
under the new one): its running cycles are projected to `now` under the new policy
(the figures move with `now`), its stopped cycles keep their figures and take the new
version in SQL, and its log gets the old version's run copied under the new version
in SQL (the checkpoint knows where that run starts: `checkpoints.run_of`). The rows
are those a full re-measure at `now` writes (`tests/service/test_restamp.py`).

Every other ticket is left to the full re-measure: one without a checkpoint of the old
version, whose log already holds rows of the new version (a return to an earlier
ruleset), or that cannot be measured now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from slarules.engine import alerts as rules
from slarules.engine.fold import ENGINE_VERSION
from slarules.engine.impact import Impact, impact
from slarules.engine.policy import Policy
from slarules.engine.timers import measurement_of
from slarules.service import checkpoints
from slarules.service.recording import Recorder, Work
from slarules.store import runs
from slarules.store.rows import TicketHead

__all__ = ["remeasure_since", "restamp_in"]


def restamp_in(
    recorder: Recorder,
    cur: Any,
    old: Policy,
    new: Policy,
    change: Impact,
    heads: Mapping[str, TicketHead],
    now: datetime,
) -> tuple[list[rules.Alert], dict[str, TicketHead]]:
    """Restamp the open tickets among `heads` that measure under `new` as under `old`, in
    the caller's write: (alerts raised, the heads left to measure from their events)."""
    if change.replay or not heads:
        return [], dict(heads)
    store = recorder.store
    points = store.tickets.checkpoints(cur, heads)
    lengths = runs.log_lengths(store.sql, cur, points, new.version)
    work: list[Work] = []
    copies: list[tuple[str, int, int]] = []
    for t, h in heads.items():
        p = points.get(t)
        if p is None or p.ruleset_version != old.version or p.engine_version != ENGINE_VERSION:
            continue
        run = checkpoints.run_of(p)
        if run is None or lengths[t] != (p.evaluations, 0) or p.last_at > now:
            continue
        s, seen = checkpoints.from_plain(new, p.state)
        if change.affects(s.decision.level):
            continue
        try:
            m = measurement_of(new, t, s, (), max(now, h.created_at))
        except Exception:
            continue  # the full re-measure reports it
        k = p.evaluations - run
        work.append(Work(m, s, p.evaluations + k, True, tuple(seen), run=p.evaluations))
        copies.append((t, run, p.evaluations))
    if not work:
        return [], dict(heads)
    runs.copy_runs(store.sql, cur, copies, new.version)
    done = [w.m.ticket_id for w in work]
    previous = {t: heads[t].measured_at for t in done}
    raised = recorder._persist(cur, new, work, previous, now)  # the one save path
    runs.restamp_cycles(store.sql, cur, done, new.version, now)
    taken = set(done)
    return raised, {t: h for t, h in heads.items() if t not in taken}


def remeasure_since(
    recorder: Recorder, old: Policy, new: Policy, ids: Iterable[str], now: datetime
) -> int:
    """`Recorder.remeasure` after a reload from `old`: the tickets the change cannot touch
    restamped, the others measured from their events, in one write."""
    change = impact(old, new)
    with recorder.store.write() as cur:
        heads = recorder.store.tickets.heads(cur, ids, lock=True, open_only=True)
        raised, rest = restamp_in(recorder, cur, old, new, change, heads, now)
        if rest:
            raised += recorder.remeasure_in(cur, new, rest, now)
    recorder.committed(raised)
    return len(heads)
