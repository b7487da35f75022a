"""What restamping a ticket after a reload computes (`service.restamp`): whose decisions the
new rules make alike, which stopped cycles a change of calendar reaches, and a ticket
measured again from its checkpoint and its stored cycle rows, without a replay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from slarules.engine import alerts as rules
from slarules.engine import calendar_diff, redecide
from slarules.engine.fold import Fold
from slarules.engine.impact import Impact
from slarules.engine.policy import METRICS, RESPONSE_METRICS, Level, Policy
from slarules.engine.timers import measurement_of, posix
from slarules.service.recording import Recorder, Work
from slarules.store import codec, runs
from slarules.store.rows import TicketHead
from slarules.store.runs import Span

__all__ = ["agreeing", "meeting", "needs_rows", "reprojected"]


def agreeing(
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


def meeting(
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


def needs_rows(old: Policy, new: Policy, change: Impact, s: Fold) -> bool:
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


def reprojected(
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
    for metric, i, start, stop, who in stored:
        if stop is not None and metric in scope and (only is None or (metric, i) in only):
            credit[(metric, i)] = who
            if seen and not whole:
                gone.update(_alert_ids(was, t, metric, start))  # theirs no more
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


def _alert_ids(level: Level, t: str, metric: str, started: datetime) -> list[str]:
    """The ids of every alert a cycle of `level` may raise (a stopped cycle's reached
    thresholds are among them: its alerts among the checkpoint's `seen` are these)."""
    out = [rules.alert_id(t, metric, started, "breach")]
    out += [rules.alert_id(t, metric, started, "warning", p, None) for p in level.warn_percents]
    out += [rules.alert_id(t, metric, started, "warning", None, d) for d in level.warn_befores]
    return out
