"""What a change of ruleset can change about a ticket's measurement (`impact`).

A reload re-measures the open tickets under the new policy. Most of them measure
the same under both: a ticket's replay (fields, status categories, decisions, the
evaluation log, the runs of every level's pause conditions) reads only the parts
`Prints.fold` covers, and its cycles read only its final level (`Prints.levels`).
When neither changed, the new measurement is the old one under the new version
(the service then restamps the stored rows instead of replaying the history).

`impact(old, new)` compares the fingerprints the compiler made (structural, from
the checked model: the same ruleset text gives the same prints in any process);
a policy without prints (built by hand) impacts everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from slarules.engine.policy import Policy

__all__ = ["EVERYTHING", "NOTHING", "Impact", "impact"]


@dataclass(frozen=True, slots=True)
class Impact:
    """`replay`: every ticket's replay may differ (each is measured again from its events);
    else `levels`: the levels whose cycles may differ (only the tickets whose final level
    is one of them are measured again), and for each of them `metrics`: the metrics whose
    cycles may differ, or None: every metric (a change of calendar, pause or warning).
    `decisions`: the rules changed (and nothing else the replay reads): every ticket's
    level decisions and evaluation log may differ, not the runs its cycles are cut by, so
    a ticket that ends on the same unchanged level keeps its cycles.
    `calendars`: the levels among `levels` whose calendar alone changed (not their
    pauses, warnings or targets): only the cycles whose span meets a day whose open
    hours changed may differ (`engine.calendar_diff`).
    `reasons` says what changed, for logs."""

    replay: bool
    levels: frozenset[str] = frozenset()
    reasons: tuple[str, ...] = ()
    metrics: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    decisions: bool = False  # only the rules changed: levels and logs may, runs do not
    calendars: frozenset[str] = frozenset()  # of `levels`: only their calendar changed

    def affects(self, level: str | None) -> bool:
        """May a ticket whose final level (under both policies) is `level` measure otherwise?"""
        return self.replay or (level is not None and level in self.levels)

    def metrics_of(self, level: str) -> frozenset[str] | None:
        """The metrics whose cycles may differ on an affected `level` (None: all of them)."""
        return None if self.replay else self.metrics.get(level)

    @property
    def nothing(self) -> bool:
        return not self.replay and not self.levels


EVERYTHING = Impact(True, reasons=("unknown",))
NOTHING = Impact(False)


def impact(old: Policy, new: Policy) -> Impact:
    """What may measure differently under `new` than under `old` (see the module doc)."""
    a, b = old.prints, new.prints
    if a is None or b is None:
        return EVERYTHING
    if a.fold != b.fold:
        return Impact(True, reasons=("schema, statuses, pauses or the levels",))
    metrics: dict[str, frozenset[str] | None] = {}
    calendars: set[str] = set()
    for name in sorted(a.levels.keys() | b.levels.keys()):
        ta, tb = a.targets.get(name, {}), b.targets.get(name, {})
        if a.levels.get(name) != b.levels.get(name):
            metrics[name] = None
            shape = a.shapes.get(name)
            if shape is not None and shape == b.shapes.get(name) and ta == tb:
                calendars.add(name)
            continue
        moved = frozenset(m for m in ta.keys() | tb.keys() if ta.get(m) != tb.get(m))
        if moved:
            metrics[name] = moved
    reasons = tuple(
        f"level {n}" if ms is None else f"level {n}: {', '.join(sorted(ms))}"
        for n, ms in metrics.items()
    )
    if a.rules != b.rules:  # every ticket replayed; its cycles kept if its level stands
        cal = frozenset(calendars)
        return Impact(True, frozenset(metrics), ("rules", *reasons), metrics, True, cal)
    if not metrics:
        return NOTHING
    return Impact(False, frozenset(metrics), reasons, metrics, calendars=frozenset(calendars))
