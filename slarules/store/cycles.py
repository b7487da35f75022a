"""Cycle rows ⇄ engine `Cycle` values (the JSON columns: warnings, timeline, thresholds)."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from slarules.engine.measurement import Cycle, CycleEvent, Threshold, WarningMark
from slarules.instants import rfc3339
from slarules.store import codec
from slarules.store.sql import Sql
from slarules.store.times import from_db, opt_from_db

CYCLE_COLUMNS = (
    "ticket_id",
    "metric",
    "idx",
    "state",
    "started_at",
    "stopped_at",
    "due_at",
    "breached_at",
    "breach_at",
    "target",
    "elapsed",
    "remaining",
    "measured_at",
    "ruleset_version",
    "next_at",
    "warnings",
    "timeline",
    "thresholds",
    "credited_assignee",
    "credited_assignee_key",
)
CYCLE_INSERT = (
    'INSERT INTO "cycle" ('
    + ", ".join(f'"{c}"' for c in CYCLE_COLUMNS)
    + ") VALUES ("
    + ",".join("?" * len(CYCLE_COLUMNS))
    + ")"
)
CYCLE_SELECT = "SELECT " + ", ".join(f'"{c}"' for c in CYCLE_COLUMNS) + ' FROM "cycle" '
_IX = {c: i for i, c in enumerate(CYCLE_COLUMNS)}
_METRIC, _IDX, _STATE = _IX["metric"], _IX["idx"], _IX["state"]
_STARTED, _STOPPED, _DUE, _BREACHED = (
    _IX[c] for c in ("started_at", "stopped_at", "due_at", "breached_at")
)
_TARGET, _ELAPSED, _REMAINING = _IX["target"], _IX["elapsed"], _IX["remaining"]
_VERSION, _WARNINGS, _TIMELINE, _THRESHOLDS = (
    _IX[c] for c in ("ruleset_version", "warnings", "timeline", "thresholds")
)
_EMPTY: tuple[Any, ...] = ()
# the columns of a cycle's figures (no JSON columns): what a reader that shows no
# warnings, timeline or thresholds reads (`cycle_of_figures`)
FIGURE_COLUMNS = (
    "ticket_id",
    "metric",
    "idx",
    "state",
    "started_at",
    "stopped_at",
    "due_at",
    "breached_at",
    "target",
    "elapsed",
    "remaining",
    "ruleset_version",
)
FIGURE_SELECT = "SELECT " + ", ".join(f'"{c}"' for c in FIGURE_COLUMNS) + ' FROM "cycle" '
_decode = json.JSONDecoder().decode  # the columns are compact JSON that `cycle_json` wrote


_instant = codec.stored_instant  # an instant of the JSON columns


# An instant's text, memoized: a ticket's cycles repeat the same instants (the engine's
# datetimes are memoized too), and equal instants have one text whatever their offset.
_text = lru_cache(maxsize=1 << 16)(rfc3339)


def cycle_json(c: Cycle) -> tuple[str, str, str]:
    """The warnings, timeline and thresholds columns of a cycle."""
    rfc3339 = _text
    warnings = [
        {"metric": w.metric, "at": rfc3339(w.at), "percent": w.percent, "before": w.before}
        for w in c.warnings
    ]
    timeline = [{"kind": e.kind, "at": rfc3339(e.at)} for e in c.timeline]
    thresholds = [
        {
            "kind": th.kind,
            "at": rfc3339(th.at) if th.at else None,
            "reached": th.reached,
            "percent": th.percent,
            "before": th.before,
        }
        for th in c.thresholds
    ]
    return Sql.j(warnings), Sql.j(timeline), Sql.j(thresholds)


def cycle_row(
    sql: Sql,
    ticket_id: str,
    c: Cycle,
    breach_at: datetime | None,
    next_at: datetime | None,
    credited: str | None,
    measured: Any,
) -> tuple[Any, ...]:
    """A cycle as the parameters of `CYCLE_INSERT` (`measured`: the instant, as `sql.t`)."""
    w, tl, th = cycle_json(c)
    return (
        ticket_id,
        c.metric,
        c.index,
        c.state,
        sql.t(c.started_at),
        sql.t(c.stopped_at),
        sql.t(c.due_at),
        sql.t(c.breached_at),
        sql.t(breach_at),
        c.target,
        c.elapsed,
        c.remaining,
        measured,
        c.ruleset_version,
        sql.t(next_at),
        w,
        tl,
        th,
        credited,
        credited.casefold() if credited else None,
    )


def _loads(value: Any) -> Any:
    return _decode(value) if isinstance(value, str) else Sql.unj(value)


def _warnings(items: Any) -> tuple[WarningMark, ...]:
    return tuple(
        WarningMark(
            metric=w["metric"], at=_instant(w["at"]), percent=w["percent"], before=w["before"]
        )
        for w in items
    )


def _timeline(items: Any) -> tuple[CycleEvent, ...]:
    return tuple(CycleEvent(kind=e["kind"], at=_instant(e["at"])) for e in items)


def _thresholds(items: Any) -> tuple[Threshold, ...]:
    return tuple(
        Threshold(
            kind=th["kind"],
            at=None if th["at"] is None else _instant(th["at"]),
            reached=th["reached"],
            percent=th["percent"],
            before=th["before"],
        )
        for th in items
    )


# The JSON columns' values are immutable tuples of frozen values, so one decoding of a text
# serves every row that holds the same text: most thresholds and warnings columns repeat
# (a policy has few alert settings; most cycles reach none), timelines mostly do not.
@lru_cache(maxsize=1 << 12)
def _warnings_text(text: str) -> tuple[WarningMark, ...]:
    return _warnings(_decode(text))


@lru_cache(maxsize=1 << 12)
def _thresholds_text(text: str) -> tuple[Threshold, ...]:
    return _thresholds(_decode(text))


def _cached(value: Any, cached: Any, decode: Any) -> Any:
    return cached(value) if isinstance(value, str) else decode(Sql.unj(value))


def cycle_from_row(r: Any, detail: bool = True) -> Cycle:
    """A row of `CYCLE_SELECT` → engine Cycle. `detail=False`: without its warnings, timeline
    and thresholds (the JSON columns, not decoded), for a reader that shows none of them."""
    if detail:
        raw = r[_TIMELINE]
        warnings = _cached(r[_WARNINGS], _warnings_text, _warnings)
        thresholds = _cached(r[_THRESHOLDS], _thresholds_text, _thresholds)
        timeline = _EMPTY if raw == "[]" else _timeline(_loads(raw))
    else:
        warnings = timeline = thresholds = _EMPTY
    return Cycle(
        metric=r[_METRIC],
        index=r[_IDX],
        state=r[_STATE],
        started_at=from_db(r[_STARTED]),
        stopped_at=opt_from_db(r[_STOPPED]),
        due_at=opt_from_db(r[_DUE]),
        breached_at=opt_from_db(r[_BREACHED]),
        target=r[_TARGET],
        elapsed=r[_ELAPSED],
        remaining=r[_REMAINING],
        warnings=warnings,
        timeline=timeline,
        ruleset_version=r[_VERSION],
        thresholds=thresholds,
    )


def cycle_of_figures(r: Any) -> Cycle:
    """A row of `FIGURE_SELECT` → engine Cycle without its warnings, timeline and
    thresholds (what `cycle_from_row(r, detail=False)` gives for the same cycle)."""
    stopped, due, breached = r[5], r[6], r[7]
    return Cycle(
        r[1],
        r[2],
        r[3],
        from_db(r[4]),
        None if stopped is None else from_db(stopped),
        None if due is None else from_db(due),
        None if breached is None else from_db(breached),
        r[8],
        r[9],
        r[10],
        _EMPTY,
        _EMPTY,
        r[11],
        _EMPTY,
    )


# A list page reads the same stopped cycles again and again (they change only when their
# ticket is measured again): one Cycle per row value, shared (it is immutable; the row
# tuple, every column of the figures, is the key).
figures_of_row = lru_cache(maxsize=1 << 14)(cycle_of_figures)
