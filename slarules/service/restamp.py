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

A batch is restamped in two steps (`restamp_batch`): a *plan* made in a read (the
checkpoints, stored spans and events it needs, and the measuring: `plan_in`), then a
short write that saves it (`commit_in`) for the tickets whose checkpoint and last
measuring instant are still those it was made from (the others are left to the full
re-measure). The write lock is held only while saving, so the plans of other batches
(worker processes: `service.remeasure`) are made meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from slarules.alerts import codec as alert_codec
from slarules.engine import alerts as rules
from slarules.engine.fold import ENGINE_VERSION, Fold
from slarules.engine.impact import Impact, impact
from slarules.engine.policy import Policy
from slarules.engine.timers import fold as fold_history
from slarules.engine.timers import measurement_of
from slarules.service import checkpoints
from slarules.service.recording import Recorder, Work, history_of
from slarules.service.recording import _stopped_seen as stopped_seen
from slarules.service.reproject import agreeing, meeting, needs_rows, reprojected
from slarules.store import runs
from slarules.store.cycles import cycle_row
from slarules.store.rows import Mark, TicketHead, mark_of
from slarules.store.sql import Sql
from slarules.store.times import FAR_FUTURE, to_db

__all__ = ["Plan", "commit_in", "plan_in", "remeasure_since", "restamp_batch", "restamp_in"]


@dataclass(frozen=True, slots=True)
class Rows:
    """What restamping one ticket writes, encoded: its cycle rows rewritten (`keys` the
    (metric, index) of those deleted first; `whole`: all of its cycles), its ticket row's
    stamps, its checkpoint's, and the alerts it wants raised and the ids it reached."""

    keys: tuple[tuple[str, int], ...]
    whole: bool
    cycles: tuple[tuple[Any, ...], ...]
    updates: tuple[tuple[Any, ...], ...]  # stopped cycles measured again: `CYCLE_UPDATE` rows
    ticket: tuple[Any, ...]
    point: tuple[Any, ...]
    wanted: dict[str, tuple[rules.Alert, str]]
    reached: frozenset[str]


@dataclass
class Plan:
    """What restamping some tickets saves: `rows` (encoded, per ticket), `work` (replayed
    under new rules: the save path), `copies` of the previous runs under the new version,
    `kept`: the tickets whose other stopped cycles stand. `marks`: what each planned
    ticket's checkpoint and head were when the plan was made."""

    rows: dict[str, Rows] = field(default_factory=dict)
    work: list[Work] = field(default_factory=list)
    copies: list[tuple[str, int, int]] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    marks: dict[str, Mark] = field(default_factory=dict)

    def only(self, ids: set[str]) -> Plan:
        """The plan of these tickets alone."""
        return Plan(
            {t: r for t, r in self.rows.items() if t in ids},
            [w for w in self.work if w.m.ticket_id in ids],
            [c for c in self.copies if c[0] in ids],
            [t for t in self.kept if t in ids],
            {t: m for t, m in self.marks.items() if t in ids},
        )


def restamp_in(
    recorder: Recorder,
    cur: Any,
    old: Policy,
    new: Policy,
    change: Impact,
    heads: Mapping[str, TicketHead],
    now: datetime,
) -> tuple[list[rules.Alert], dict[str, TicketHead]]:
    """Restamp the open tickets among `heads` whose replay the change cannot touch, in the
    caller's write: (alerts raised, the heads left to measure from their events)."""
    plan = plan_in(recorder, cur, old, new, change, heads, now)
    raised = commit_in(recorder, cur, new, plan, heads, now)
    return raised, {t: h for t, h in heads.items() if t not in plan.marks}


def restamp_batch(
    recorder: Recorder,
    old: Policy,
    new: Policy,
    change: Impact,
    ids: Iterable[str],
    now: datetime,
) -> tuple[int, list[str], list[rules.Alert]]:
    """Restamp the open tickets among `ids` the change from `old` cannot touch: planned in
    a read, saved in a short write (see the module doc). (How many, the ids left to
    measure from their events, the alerts raised: the caller hands them on.)"""
    store = recorder.store
    with store.read() as cur:
        heads = store.tickets.heads(cur, ids, open_only=True)
        plan = plan_in(recorder, cur, old, new, change, heads, now)
    raised: list[rules.Alert] = []
    if plan.marks:
        with store.write() as cur:
            fresh = store.tickets.heads(cur, plan.marks, lock=True, open_only=True)
            now_marks = runs.checkpoint_marks(store.sql, cur, fresh)
            same = {
                t
                for t, h in fresh.items()
                if t in now_marks and (*now_marks[t], h.measured_at) == plan.marks[t]
            }
            plan = plan.only(same)
            raised = commit_in(recorder, cur, new, plan, fresh, now)
    rest = [t for t in heads if t not in plan.marks]
    return len(plan.marks), rest, raised


def plan_in(
    recorder: Recorder,
    cur: Any,
    old: Policy,
    new: Policy,
    change: Impact,
    heads: Mapping[str, TicketHead],
    now: datetime,
) -> Plan:
    """The plan of restamping the tickets among `heads` the change cannot touch (reads)."""
    if not heads or (change.replay and not change.decisions):
        return Plan()
    store = recorder.store
    points = store.tickets.checkpoints(cur, heads)
    lengths = runs.log_lengths(store.sql, cur, points, new.version)
    if not change.decisions:
        return _restamp(recorder, cur, old, new, change, heads, now, points, lengths)
    return _redecide(recorder, cur, old, new, change, heads, now, points, lengths)


def _known(old: Policy, p: Any, length: tuple[int, int] | None, now: datetime) -> bool:
    """Is this checkpoint the fold of all the ticket's events under `old`, its log's run
    of `old` known and in order, and nothing of the new version logged yet?"""
    if p is None or p.ruleset_version != old.version or p.engine_version != ENGINE_VERSION:
        return False
    run = checkpoints.run_of(p)
    return run is not None and length == (p.evaluations, 0) and p.last_at <= now


def _restamp(
    recorder: Recorder,
    cur: Any,
    old: Policy,
    new: Policy,
    change: Impact,
    heads: Mapping[str, TicketHead],
    now: datetime,
    points: Mapping[str, Any],
    lengths: Mapping[str, tuple[int, int]],
) -> Plan:
    store = recorder.store
    found: dict[str, tuple[Any, Fold, list[str], int]] = {}
    for t in heads:
        p = points.get(t)
        if p is None or not _known(old, p, lengths.get(t), now):
            continue
        run = checkpoints.run_of(p)
        assert run is not None
        s, seen = checkpoints.from_plain(new, p.state)
        found[t] = (p, s, seen, run)
    redo = meeting(recorder, cur, old, new, change, found)
    moved = [
        t
        for t, (_, s, _, _) in found.items()
        if needs_rows(old, new, change, s) and redo.get(t, True)
    ]
    spans = runs.cycle_spans(store.sql, cur, moved) if moved else {}
    plan = Plan()
    for t, (p, s, seen, run) in found.items():
        when = max(now, heads[t].created_at)
        try:
            if t in spans:
                level = s.decision.level or ""
                scope = change.metrics_of(level)
                w = reprojected(old, new, t, s, seen, spans[t], when, scope, redo.get(t))
            else:
                w = Work(measurement_of(new, t, s, (), when), s, seen=tuple(seen), partial=True)
        except Exception:
            continue  # the full re-measure reports it
        if w is None:
            continue
        k = p.evaluations - run  # the previous version's run, copied under the new one
        w = replace(w, seq=p.evaluations + k, run=p.evaluations)
        plan.rows[t] = _encoded(recorder, new, w, p, heads[t], now)
        if w.partial:
            plan.kept.append(t)
        plan.copies.append((t, run, p.evaluations))
        plan.marks[t] = mark_of(p, heads[t])
    return plan


def _redecide(
    recorder: Recorder,
    cur: Any,
    old: Policy,
    new: Policy,
    change: Impact,
    heads: Mapping[str, TicketHead],
    now: datetime,
    points: Mapping[str, Any],
    lengths: Mapping[str, tuple[int, int]],
) -> Plan:
    """Only the rules changed. A ticket whose decisions the new rules make as the old ones
    did at every event (`engine.redecide`, from its fields alone) measures as before:
    restamped as for a change that touches no replay (its level's cycles re-projected if
    that level changed too). Each other one is replayed under the new rules (its level
    decisions and evaluation log), and one that ends on the level it had, unchanged,
    keeps its stopped cycles (the runs that cut them did not change): only its running
    cycles are saved. The others are left to the full re-measure."""
    store = recorder.store
    known = {t: h for t, h in heads.items() if _known(old, points.get(t), lengths.get(t), now)}
    same = agreeing(recorder, cur, old, new, known, now)
    plan = Plan()
    if same:
        kept = replace(change, replay=False, decisions=False)
        plan = _restamp(recorder, cur, old, new, kept, same, now, points, lengths)
    found: dict[str, tuple[str | None, list[str]]] = {}
    for t in heads:
        p = points.get(t)
        if t in plan.marks or p is None:
            continue
        if p.ruleset_version != old.version or p.engine_version != ENGINE_VERSION:
            continue
        if lengths[t][1] or p.last_at > now:
            continue
        s, seen = checkpoints.from_plain(old, p.state)
        level = s.decision.level
        if level is None or level not in change.levels:
            found[t] = (level, seen)
    rows = store.tickets.events(cur, found)
    for t, (level, seen) in found.items():
        when = max(now, heads[t].created_at)
        try:
            s, evaluations = fold_history(new, history_of(heads[t], rows[t]), when)
            if s.decision.level != level:
                continue  # its cycles move to another level: the full re-measure
            m = measurement_of(new, t, s.trim(), evaluations, when)
        except Exception:
            continue  # the full re-measure reports it
        plan.work.append(Work(m, s, partial=True, seen=tuple(seen)))  # appends the new run
        plan.kept.append(t)
        plan.marks[t] = mark_of(points[t], heads[t])
    return plan


def commit_in(
    recorder: Recorder,
    cur: Any,
    new: Policy,
    plan: Plan,
    heads: Mapping[str, TicketHead],
    now: datetime,
) -> list[rules.Alert]:
    """Save a plan in the caller's write (`heads`: the planned tickets' current rows)."""
    if not plan.marks:
        return []
    store = recorder.store
    runs.copy_runs(store.sql, cur, plan.copies, new.version)
    previous = {t: heads[t].measured_at for t in plan.marks}
    raised = recorder._persist(cur, new, plan.work, previous, now) if plan.work else []
    if plan.rows:
        rows = plan.rows.values()
        runs.write_restamped(
            store.sql,
            cur,
            [t for t, r in plan.rows.items() if r.whole],
            [(t, m, i) for t, r in plan.rows.items() for m, i in r.keys],
            [c for r in rows for c in r.cycles],
            [u for r in rows for u in r.updates],
            [r.ticket for r in rows],
            [r.point for r in rows],
        )
        wanted = {k: v for r in rows for k, v in r.wanted.items()}
        reached = {a for r in rows for a in r.reached}
        raised += store.alerts.plan(cur, list(plan.rows), wanted, reached, now)
    runs.restamp_cycles(store.sql, cur, plan.kept, new.version, now)  # their stopped cycles stand
    return raised


def _encoded(
    recorder: Recorder, policy: Policy, w: Work, p: Any, head: TicketHead, now: datetime
) -> Rows:
    """A restamped ticket's rows (what `Recorder._persist` writes for it, without rewriting
    what stands: its fields and level, its other stopped cycles). Its cycles are the
    running ones, credited to the current assignee, and the stopped ones measured again,
    credited as stored (`w.credit`)."""
    sql = recorder.store.sql
    m, t = w.m, w.m.ticket_id
    measured = sql.t(now)
    who = m.fields.get("assignee")
    here = who if isinstance(who, str) and who else None
    credit = w.credit if w.credit is not None else tuple(here for _ in m.cycles)
    rows = [
        cycle_row(sql, t, c, rules.breach_instant(c), rules.next_threshold(c, now), by, measured)
        for c, by in zip(m.cycles, credit, strict=True)
    ]
    # a stopped cycle measured again is one of the stored rows (same span, same credit):
    # updated in place; the others are rewritten
    again = [w.partial and c.stopped_at is not None for c in m.cycles]
    cycles = tuple(r for r, a in zip(rows, again, strict=True) if not a)
    updates = tuple(runs.cycle_update(r) for r, a in zip(rows, again, strict=True) if a)
    keys = tuple((c.metric, c.index) for c, a in zip(m.cycles, again, strict=True) if not a)
    due, nxt = rules.due_key(m), rules.next_wakeup(m, now)
    ticket = (policy.version, measured, sql.tn(to_db(due) if due else FAR_FUTURE), sql.t(nxt), t)
    raise_, seen = rules.reached(m, head.measured_at, now, recorder.max_age)
    wanted = {aid: (a, alert_codec.encode(a)) for aid, a in raise_.items()}
    state = dict(p.state)
    state["run"], state["seen"] = w.run, sorted({*w.seen, *stopped_seen(m, now)})
    assert w.seq is not None
    point = (policy.version, w.seq, Sql.j(state), t)
    reached = frozenset(seen | set(w.seen))
    return Rows(keys, not w.partial, cycles, updates, ticket, point, wanted, reached)


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
