"""Fingerprints of a checked model's parts (`engine.policy.Prints`), for `engine.impact`.

Structural and deterministic: canonical condition text (`unparse`), sorted tables,
calendar specs by content (zone, hours, holidays, closed days; not by name), hashed
with SHA-256. The same ruleset text gives the same prints in every process; a change
that cannot alter a measurement (a level's title, a rule's file or line, the order of
a table's rows) leaves them as they are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from slarules.dsl.model import CAnd, CNot, Cond, LevelModel, Model, PauseModel, TypedLeaf
from slarules.dsl.unparse import leaf_text
from slarules.engine.calendar import CalendarSpec
from slarules.engine.policy import Prints, Table, Target

__all__ = ["prints_of"]

# The built-in calendar `always`: every day open all day, UTC.
_ALWAYS = ("UTC", tuple((d, ((0, 1440),)) for d in range(7)), (), ())


def _digest(value: Any) -> str:
    return hashlib.sha256(repr(value).encode("utf-8")).hexdigest()


def _calendar(specs: Mapping[str, CalendarSpec], name: str) -> Any:
    spec = specs.get(name)
    if spec is None:
        return _ALWAYS
    return (
        spec.timezone,
        tuple(sorted((d, tuple(r)) for d, r in spec.hours.items())),
        tuple(spec.holidays),
        tuple(sorted(d.isoformat() for d in spec.closed)),
    )


def _cond(c: Cond | None, specs: Mapping[str, CalendarSpec]) -> Any:
    """A condition as nested tuples of canonical leaf texts (a `during` leaf with its
    calendar's content)."""
    if c is None:
        return None
    if isinstance(c, TypedLeaf):
        cal = _calendar(specs, c.calendar) if c.calendar is not None else None
        return ("leaf", leaf_text(c.node), cal)
    if isinstance(c, CNot):
        return ("not", _cond(c.operand, specs))
    word = "and" if isinstance(c, CAnd) else "or"
    return (word, tuple(_cond(i, specs) for i in c.items))


def _table(t: Table | None) -> Any:
    if t is None:
        return None
    return (t.by, tuple(sorted(t.rows.items())), t.else_seconds)


def _target(t: Target) -> Any:
    return (t.metric, t.seconds, _table(t.table), _table(t.source_override))


def _pause(p: PauseModel, specs: Mapping[str, CalendarSpec]) -> Any:
    metrics = None if p.metrics is None else tuple(sorted(p.metrics))
    return (metrics, _cond(p.condition, specs))


def _level(lm: LevelModel, specs: Mapping[str, CalendarSpec]) -> str:
    """What every cycle of the level reads (its targets are printed apart)."""
    return _digest(
        (
            _calendar(specs, lm.calendar),
            tuple(_pause(p, specs) for p in lm.pauses),
            tuple(lm.warn_percents),
            tuple(lm.warn_befores),
        )
    )


def _reads(c: Cond | None, out: set[str]) -> None:
    """The fields a condition reads (both sides of every leaf)."""
    if c is None:
        return
    if isinstance(c, TypedLeaf):
        out.add(c.left.name)
        if c.right is not None:
            out.add(c.right.name)
    elif isinstance(c, CNot):
        _reads(c.operand, out)
    else:
        for i in c.items:
            _reads(i, out)


def _shape(lm: LevelModel, specs: Mapping[str, CalendarSpec]) -> str:
    """What `_level` covers but the calendar (a change of calendar alone leaves it)."""
    return _digest(
        (
            tuple(_pause(p, specs) for p in lm.pauses),
            tuple(lm.warn_percents),
            tuple(lm.warn_befores),
        )
    )


def prints_of(model: Model) -> Prints:
    """The fingerprints of a checked model (see `engine.policy.Prints`)."""
    specs = model.calendars
    fold = (
        model.timezone,
        tuple(model.priorities),
        None if model.sources is None else tuple(model.sources),
        tuple(sorted(model.fields.items())),
        tuple(sorted(model.statuses.items())),
        tuple(
            (name, tuple(_cond(p.condition, specs) for p in lm.pauses))
            for name, lm in model.levels.items()
        ),
    )
    rules = (
        model.default_level,
        tuple((r.title, _cond(r.when, specs), r.set_level, r.stop) for r in model.rules),
    )
    levels = {name: _level(lm, specs) for name, lm in model.levels.items()}
    targets = {
        name: {m: _digest(_target(t)) for m, t in sorted(lm.targets.items())}
        for name, lm in model.levels.items()
    }
    read: set[str] = set()
    for r in model.rules:
        _reads(r.when, read)
    shapes = {name: _shape(lm, specs) for name, lm in model.levels.items()}
    return Prints(_digest(fold), levels, targets, _digest(rules), frozenset(read), shapes)
