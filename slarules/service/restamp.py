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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from slarules.alerts import codec as alert_codec
from slarules.engine import alerts as rules
from slarules.engine import calendar_diff, redecide
from slarules.engine.fold import ENGINE_VERSION, Fold
from slarules.engine.impact import Impact, impact
from slarules.engine.policy import METRICS, RESPONSE_METRICS, Policy
from slarules.engine.timers import fold as fold_history
from slarules.engine.timers import measurement_of, posix
from slarules.service import checkpoints
from slarules.service.recording import Recorder, Work, history_of
from slarules.store import codec, runs
from slarules.store.rows import TicketHead
from slarules.store.runs import Span

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
    """Restamp the open tickets among `heads` whose replay the change cannot touch, in the
    caller's write: (alerts raised, the heads left to measure from their events)."""
    if not heads:
        return [], dict(heads)
    if change.decisions:
        return _redecide_in(recorder, cur, old, new, change, heads, now)
    if change.replay:
        return [], dict(heads)
    store = recorder.store
    points = store.tickets.checkpoints(cur, heads)
    lengths = runs.log_lengths(store.sql, cur, points, new.version)
    return _restamp(recorder, cur, old, new, change, heads, now, points, lengths)


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
) -> tuple[list[rules.Alert], dict[str, TicketHead]]:
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
    redo = _meeting(recorder, cur, old, new, change, found)
    moved = [
        t
        for t, (_, s, _, _) in found.items()
        if _needs_rows(old, new, change, s) and redo.get(t, True)
    ]
    spans = runs.cycle_spans(store.sql, cur, moved) if moved else {}
    light: list[tuple[Work, Any]] = []
    work: list[Work] = []
    copies: list[tuple[str, int, int]] = []
    for t, (p, s, seen, run) in found.items():
        when = max(now, heads[t].created_at)
        try:
            if t in spans:
                level = s.decision.level or ""
                scope = change.metrics_of(level)
                w = _reprojected(old, new, t, s, seen, spans[t], when, scope, redo.get(t))
            else:
                w = Work(measurement_of(new, t, s, (), when), s, seen=tuple(seen), partial=True)
        except Exception:
            continue  # the full re-measure reports it
        if w is None:
            continue
        k = p.evaluations - run  # the previous version's run, copied under the new one
        w = replace(w, seq=p.evaluations + k, run=p.evaluations)
        if t in spans:
            work.append(w)
        else:
            light.append((w, p))
        copies.append((t, run, p.evaluations))
    if not work and not light:
        return [], dict(heads)
    runs.copy_runs(store.sql, cur, copies, new.version)
    previous = {t: heads[t].measured_at for t, _, _ in copies}
    raised = recorder._persist(cur, new, work, previous, now) if work else []  # the save path
    if light:
        raised += _save_light(recorder, cur, new, light, previous, now)
    kept = [w.m.ticket_id for w in work if w.partial] + [w.m.ticket_id for w, _ in light]
    runs.restamp_cycles(store.sql, cur, kept, new.version, now)  # their stopped cycles stand
    taken = {t for t, _, _ in copies}
    return raised, {t: h for t, h in heads.items() if t not in taken}


def _redecide_in(
    recorder: Recorder,
    cur: Any,
    old: Policy,
    new: Policy,
    change: Impact,
    heads: Mapping[str, TicketHead],
    now: datetime,
) -> tuple[list[rules.Alert], dict[str, TicketHead]]:
    """Only the rules changed. A ticket whose decisions the new rules make as the old ones
    did at every event (`engine.redecide`, from its fields alone) measures as before:
    restamped as for a change that touches no replay (its level's cycles re-projected if
    that level changed too). Each other one is replayed under the new rules (its level
    decisions and evaluation log), and one that ends on the level it had, unchanged,
    keeps its stopped cycles (the runs that cut them did not change): only its running
    cycles are saved. The others are left to the full re-measure."""
    store = recorder.store
    points = store.tickets.checkpoints(cur, heads)
    lengths = runs.log_lengths(store.sql, cur, points, new.version)
    known = {t: h for t, h in heads.items() if _known(old, points.get(t), lengths.get(t), now)}
    same = _agreeing(recorder, cur, old, new, known, now)
    raised: list[rules.Alert] = []
    if same:
        kept = replace(change, replay=False, decisions=False)
        raised, rest = _restamp(recorder, cur, old, new, kept, same, now, points, lengths)
        heads = {t: h for t, h in heads.items() if t not in same or t in rest}
    found: dict[str, tuple[str | None, list[str]]] = {}
    for t in heads:
        p = points.get(t)
        if p is None or p.ruleset_version != old.version or p.engine_version != ENGINE_VERSION:
            continue
        if lengths[t][1] or p.last_at > now:
            continue
        s, seen = checkpoints.from_plain(old, p.state)
        level = s.decision.level
        if level is None or level not in change.levels:
            found[t] = (level, seen)
    rows = store.tickets.events(cur, found)
    work: list[Work] = []
    for t, (level, seen) in found.items():
        when = max(now, heads[t].created_at)
        try:
            s, evaluations = fold_history(new, history_of(heads[t], rows[t]), when)
            if s.decision.level != level:
                continue  # its cycles move to another level: the full re-measure
            m = measurement_of(new, t, s.trim(), evaluations, when)
        except Exception:
            continue  # the full re-measure reports it
        work.append(Work(m, s, partial=True, seen=tuple(seen)))
    if not work:
        return raised, dict(heads)
    done = [w.m.ticket_id for w in work]
    previous = {t: heads[t].measured_at for t in done}
    raised += recorder._persist(cur, new, work, previous, now)  # appends the new runs
    runs.restamp_cycles(store.sql, cur, done, new.version, now)  # their stopped cycles stand
    taken = set(done)
    return raised, {t: h for t, h in heads.items() if t not in taken}


def _agreeing(
    recorder: Recorder,
    cur: Any,
    old: Policy,
    new: Policy,
    heads: Mapping[str, TicketHead],
    now: datetime,
) -> dict[str, TicketHead]:
    """The tickets among `heads` whose decisions `old` and `new` make alike at creation
    and after every event (reading only the update events when the rules read nothing
    else the events change)."""
    if not heads:
        return {}
    store = recorder.store
    reads = redecide.reads_of(old, new)
    if redecide.updates_only(reads):
        rows = runs.update_events(store.sql, cur, heads)
    else:
        rows = store.tickets.events(cur, heads)
    out: dict[str, TicketHead] = {}
    for t, h in heads.items():
        until = posix(max(now, h.created_at))
        try:
            timed = [(posix(r.at), r) for r in rows[t]]
            events = [
                (u, codec.event_from_row(r.event_id, r.at, r.type, r.payload))
                for u, r in timed
                if u <= until
            ]
            created = posix(h.created_at)
            if redecide.agree(old, new, created, h.initial_fields, h.created_by, events, reads):
                out[t] = h
        except Exception:
            continue  # replayed: the full path reports it
    return out


def _meeting(
    recorder: Recorder,
    cur: Any,
    old: Policy,
    new: Policy,
    change: Impact,
    found: Mapping[str, tuple[Any, Fold, list[str], int]],
) -> dict[str, set[tuple[str, int]]]:
    """Of the tickets on a level whose calendar alone changed, and not on every day
    (`engine.calendar_diff`): the stopped cycles whose span, from their start to their
    stop or due instant (the last instant their figures read), meets a changed day. The
    others keep their figures (the running ones are projected again anyway)."""
    diffs = {}
    for name in change.calendars & old.levels.keys() & new.levels.keys():
        d = calendar_diff.changed_days(old.levels[name].calendar, new.levels[name].calendar)
        if d is not None:
            diffs[name] = d
    on = {t: diffs[lv] for t, (_, s, _, _) in found.items() if (lv := s.decision.level) in diffs}
    if not on:
        return {}
    got = runs.stopped_horizons(recorder.store.sql, cur, on)
    return {t: {(m, i) for m, i, a, b in got[t] if on[t].meets(a, b)} for t in on}


def _needs_rows(old: Policy, new: Policy, change: Impact, s: Fold) -> bool:
    """Does re-measuring this ticket need its stored cycle rows: its level changed for a
    response metric (their stopped cycles are not in the checkpoint), or for every metric,
    or a metric lost its target (its rows go)? Otherwise its changed cycles are all running
    (a cumulative metric of an open ticket) and the checkpoint has them."""
    name = s.decision.level
    if name is None or not change.affects(name):
        return False
    metrics = change.metrics_of(name)
    if metrics is None or metrics & RESPONSE_METRICS:
        return True
    was, now_ = old.levels.get(name), new.levels.get(name)
    if was is None or now_ is None:
        return True
    return any(
        was.target_seconds(m, s.fields) is not None and now_.target_seconds(m, s.fields) is None
        for m in metrics
    )


def _save_light(
    recorder: Recorder,
    cur: Any,
    policy: Policy,
    light: Sequence[tuple[Work, Any]],
    previous: Mapping[str, datetime | None],
    now: datetime,
) -> list[rules.Alert]:
    """Save restamped tickets whose fold, fields and stopped cycles stand (what `_persist`
    writes for them, without re-encoding what did not change): their running cycles, the
    ticket rows' version, instant, due key and next wake-up, their checkpoints' version,
    log length and run, and their alerts."""
    cycles, tickets, points = [], [], []
    wanted: dict[str, tuple[rules.Alert, str]] = {}
    reached: set[str] = set()
    for w, p in light:
        m, t = w.m, w.m.ticket_id
        who = m.fields.get("assignee")
        here = who if isinstance(who, str) and who else None
        for c in m.cycles:  # all running: credited to the current assignee
            cycles.append((t, c, rules.breach_instant(c), rules.next_threshold(c, now), here))
        tickets.append((t, rules.due_key(m), rules.next_wakeup(m, now)))
        raise_, seen = rules.reached(m, previous.get(t), now, recorder.max_age)
        wanted.update((aid, (a, alert_codec.encode(a))) for aid, a in raise_.items())
        reached |= seen | set(w.seen)
        state = dict(p.state)
        state["run"], state["seen"] = w.run, sorted(set(w.seen))
        assert w.seq is not None
        points.append((t, w.seq, state))
    store = recorder.store
    runs.save_restamped(store.sql, cur, policy.version, now, cycles, tickets, points)
    ids = [w.m.ticket_id for w, _ in light]
    return store.alerts.plan(cur, ids, wanted, reached, now)


def _reprojected(
    old: Policy,
    new: Policy,
    t: str,
    s: Fold,
    seen: Sequence[str],
    stored: Sequence[Span],
    when: datetime,
    metrics: frozenset[str] | None,
    only: set[tuple[str, int]] | None = None,
) -> Work | None:
    """A ticket whose final level changed, measured again from its checkpoint without a
    replay: the cycles of the changed `metrics` (None: all) that stopped, which the
    checkpoint does not keep, come back from the stored cycle rows (they hold every cycle
    of each metric the old level timed). Only those metrics' cycles and the running ones
    are saved (the other stopped cycles stand) unless a metric lost its target or all
    changed. None: the new level times a response metric the old one did not (its
    stopped cycles were never stored: only a replay knows them). `only`: of the stopped
    cycles, only these (metric, index) are measured again (the others stand)."""
    name = s.decision.level
    if name is None or name not in old.levels or name not in new.levels:
        return None
    was, now_ = old.levels[name], new.levels[name]
    scope = frozenset(METRICS) if metrics is None else metrics
    lost = any(
        was.target_seconds(m, s.fields) is not None and now_.target_seconds(m, s.fields) is None
        for m in scope
    )
    if lost:
        scope = frozenset(METRICS)
    whole = scope == frozenset(METRICS) and only is None
    for metric in RESPONSE_METRICS & scope:
        timed = now_.target_seconds(metric, s.fields) is not None
        if timed and was.target_seconds(metric, s.fields) is None:
            return None
    credit: dict[tuple[str, int], str | None] = {}
    full = s.copy()
    gone: set[str] = set()
    for metric, i, start, stop, who, marks in stored:
        if stop is not None and metric in scope and (only is None or (metric, i) in only):
            credit[(metric, i)] = who
            gone.update(_reached_ids(t, metric, start, marks))  # theirs no more
            if metric in RESPONSE_METRICS:
                full.closed.append((0, metric, i, posix(start), posix(stop)))  # type: ignore[arg-type]
    m = measurement_of(new, t, full, (), when)
    current = m.fields.get("assignee")
    here = current if isinstance(current, str) and current else None
    credits: list[str | None] = []
    for c in m.cycles:
        if c.stopped_at is None:
            credits.append(here)
        elif (c.metric, c.index) in credit:
            credits.append(credit[(c.metric, c.index)])
        else:
            return None  # a stopped cycle the rows do not hold: replay
    if whole:
        return Work(m, s, credit=tuple(credits))
    # the alerts the changed stopped cycles reached under the old level are theirs no more
    kept = tuple(a for a in seen if a not in gone)
    return Work(m, s, partial=True, seen=kept, credit=tuple(credits))


def _reached_ids(t: str, metric: str, started: datetime, thresholds: Any) -> list[str]:
    """The alert ids of a stored stopped cycle's reached thresholds (its JSON column)."""
    return [
        rules.alert_id(t, metric, started, th["kind"], th["percent"], th["before"])
        for th in thresholds or ()
        if th["reached"] and th["at"] is not None
    ]


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
