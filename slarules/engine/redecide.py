"""Does a change of rules change a ticket's decisions? (`agree`), without replaying its timers.

A ticket's level decisions are the rules run on its fields at creation and after every
event; its evaluation log is made of them (with the instants, which the rules do not
change, and the notes, which only the statuses do). When the old and the new rules
decide alike at every one of those moments, the new run is the old one under the new
version and the final level is the same: the ticket measures as before (`service.restamp`).

The rules read only `Prints.rule_fields`. Events other than updates change only
`_OTHERS`, so when neither ruleset reads those, only the update events that touch a
field the rules read can move a decision: the others need not even be read
(`updates_only`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from slarules.engine.fold import _apply, _dt
from slarules.engine.policy import Decision, Policy, is_unset
from slarules.engine.ticket import Event

__all__ = ["agree", "reads_of", "updates_only"]

# The fields an event that is not an update changes (engine.fold._apply).
_OTHERS = frozenset({"status", "last_message_by", "last_message", "updated_at"})


def reads_of(old: Policy, new: Policy) -> frozenset[str] | None:
    """The fields either ruleset's rules read (None: unknown)."""
    a, b = old.prints, new.prints
    if a is None or b is None or a.rule_fields is None or b.rule_fields is None:
        return None
    return a.rule_fields | b.rule_fields


def updates_only(reads: frozenset[str] | None) -> bool:
    """May the decisions be checked from the update events alone?"""
    return reads is not None and reads.isdisjoint(_OTHERS)


def _same(a: Decision, b: Decision) -> bool:
    return a.level == b.level and a.decided_by == b.decided_by and a.matched == b.matched


def agree(
    old: Policy,
    new: Policy,
    created: int,
    initial: Mapping[str, Any],
    created_by: str,
    events: Iterable[tuple[int, Event]],
    reads: frozenset[str] | None,
) -> bool:
    """Do `old` and `new` decide alike at creation (POSIX `created`, `initial` fields, by
    `created_by`) and after each of `events` (POSIX instant, event; in replay order, up
    to the measuring instant)? `events` may be the update events alone when
    `updates_only(reads)`; `reads`: `reads_of(old, new)`."""
    at = _dt(created)
    fields: dict[str, Any] = {k: v for k, v in initial.items() if not is_unset(v)}
    fields["created_at"] = at
    fields["updated_at"] = at
    fields["last_message_by"] = created_by
    if not _same(old.decide(fields), new.decide(fields)):
        return False
    skip = updates_only(reads)
    for u, e in events:
        if skip:
            if e.type != "update":
                continue  # it changes nothing the rules read
            assert reads is not None
            if reads.isdisjoint(e.set) and reads.isdisjoint(e.unset):
                continue
        w = _dt(u)
        _apply(fields, e, e.at if e.at == w else w)
        if not _same(old.decide(fields), new.decide(fields)):
            return False
    return True
