"""The compiled ruleset as the engine sees it: levels, targets, pauses, decisions.

`slarules.dsl` builds a `Policy` from rule files; the engine, the fixtures
runner and the service only read it. Ticket fields are a plain mapping from
field name to value (text `str`, number `int|float`, `bool`, `date`, aware
`datetime`, list `tuple[str, ...]`, priority `str`); an absent key, `None`,
`""` or `()` all mean *unset*.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from slarules.engine.calendar import Calendar

Fields = Mapping[str, Any]
Metric = Literal[
    "first_response",
    "next_response",
    "periodic_response",
    "requester_wait",
    "agent_work",
    "resolution",
]
METRICS: tuple[Metric, ...] = (
    "first_response",
    "next_response",
    "periodic_response",
    "requester_wait",
    "agent_work",
    "resolution",
)
_METRIC_ORDER: dict[str, int] = {m: i for i, m in enumerate(METRICS)}


def cycle_order(metric: str, index: int) -> tuple[int, int]:
    """Where a cycle stands among a measurement's cycles: by metric (`METRICS` order),
    then by index. Readers of stored cycles sort by it (rows are kept in place, so their
    write order is not this one)."""
    return _METRIC_ORDER.get(metric, len(METRICS)), index


RESPONSE_METRICS: frozenset[str] = frozenset(
    {"first_response", "next_response", "periodic_response"}
)
Category = Literal["open", "waiting", "hold", "done"]
DEFAULT_STATUSES: Mapping[str, Category] = {
    "new": "open",
    "open": "open",
    "pending": "waiting",
    "on hold": "hold",
    "on_hold": "hold",
    "solved": "done",
    "closed": "done",
}


def fold(text: str) -> str:
    """The one case-insensitive normal form used everywhere (Unicode case folding)."""
    return text.casefold()


def is_unset(value: object) -> bool:
    return value is None or value == "" or value == () or value == []


@dataclass(frozen=True, slots=True)
class Table:
    """`by FIELD { KEY DURATION, …, else DURATION }`; keys are stored folded."""

    by: str
    rows: Mapping[str, int]  # folded key -> seconds
    else_seconds: int | None = None

    def lookup(self, fields: Fields) -> int | None:
        value = fields.get(self.by)
        if isinstance(value, str) and value != "":
            hit = self.rows.get(fold(value))
            if hit is not None:
                return hit
        return self.else_seconds


@dataclass(frozen=True, slots=True)
class Target:
    """A metric's target: a plain duration or a table, optionally overridden by source."""

    metric: Metric
    seconds: int | None = None
    table: Table | None = None
    source_override: Table | None = None  # `by source` without `else`; wins where it has a row

    def seconds_for(self, fields: Fields) -> int | None:
        """The target for a ticket with these (current) fields, or None: no target."""
        if self.source_override is not None:
            hit = self.source_override.lookup(fields)
            if hit is not None:
                return hit
        if self.table is not None:
            return self.table.lookup(fields)
        return self.seconds


@dataclass(frozen=True, slots=True)
class Pause:
    """`pause [METRIC, …] when COND`; `metrics` None means every metric of the level."""

    holds: Callable[[Fields], bool]
    metrics: frozenset[str] | None = None
    source: str = ""

    def covers(self, metric: str) -> bool:
        return self.metrics is None or metric in self.metrics


@dataclass(frozen=True, slots=True)
class Level:
    name: str
    calendar: Calendar
    calendar_name: str = "always"
    title: str | None = None
    targets: Mapping[str, Target] = field(default_factory=dict)  # metric -> Target
    pauses: tuple[Pause, ...] = ()
    warn_percents: tuple[float, ...] = ()  # 0 < p < 100
    warn_befores: tuple[int, ...] = ()  # seconds

    def target_seconds(self, metric: str, fields: Fields) -> int | None:
        t = self.targets.get(metric)
        return None if t is None else t.seconds_for(fields)


@dataclass(frozen=True, slots=True)
class ConditionTrace:
    """One comparison of a rule's condition: its source text, the field's actual value, result."""

    source: str
    value: Any
    result: bool


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule as declared (for listings): `set_level` is a level name, "none", or None."""

    title: str
    file: str
    line: int
    set_level: str | None
    stop: bool


@dataclass(frozen=True, slots=True)
class RuleTrace:
    rule: RuleInfo
    matched: bool
    stopped_here: bool
    conditions: tuple[ConditionTrace, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """The result of running the rules on one set of fields.

    `level` is a level name or None (no SLA). `decided_by` is the deciding
    rule's title, "default" when the default level applied, or None when no
    rule set a level and there is no default. `trace` is filled only by
    `Policy.explain`.
    """

    level: str | None
    decided_by: str | None
    matched: tuple[str, ...] = ()
    trace: tuple[RuleTrace, ...] = ()


@dataclass(frozen=True, slots=True)
class Prints:
    """Structural fingerprints of a policy's parts (the compiler makes them from the
    checked model; `engine.impact` compares two policies by them).

    `fold` covers what the replay reads whatever the level, but the rules: the schema,
    timezone, statuses, the levels in order and every level's pause conditions (the
    replay records them all); `rules` the rules in order (titles, conditions, levels
    set, stops) and the default level: what decides the level and the evaluation log.
    `levels` covers, per level, what measuring any of its cycles reads: calendar (zone,
    hours, holidays, closed days), pauses, warnings; `targets`, per level, each metric's
    target (only that metric's cycles read it). `rule_fields`: the fields the rules'
    conditions read (None: unknown), so a re-decide after a change of rules needs only
    the events that can change them (`engine.redecide`).
    """

    fold: str
    levels: Mapping[str, str]
    targets: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    rules: str = ""
    rule_fields: frozenset[str] | None = None
    shapes: Mapping[str, str] = field(default_factory=dict)  # `levels` but the calendar


@dataclass(frozen=True, slots=True)
class Policy:
    """A checked and compiled ruleset, ready to evaluate tickets."""

    version: str  # first 12 hex digits of SHA-256 over file names and bytes
    files: tuple[str, ...]
    timezone: ZoneInfo  # the ruleset's `timezone` (UTC by default)
    levels: Mapping[str, Level]
    calendars: Mapping[str, Calendar]
    rules: tuple[RuleInfo, ...]
    default_level: str | None
    statuses: Mapping[str, Category]  # folded status name -> category
    fields: Mapping[str, str]  # every known field (built-in + custom) -> type name
    priorities: tuple[str, ...]  # low to high, as declared
    decide_fn: Callable[[Fields], Decision]
    explain_fn: Callable[[Fields], Decision]
    sources: tuple[str, ...] | None = None  # `schema` sources as declared; None: any text
    prints: Prints | None = None  # None: unknown (every change may affect every ticket)

    def decide(self, fields: Fields) -> Decision:
        """Run the ordered rules (compiled once) on a ticket's current fields."""
        return self.decide_fn(fields)

    def explain(self, fields: Fields) -> Decision:
        """Like `decide`, with a trace of every rule and condition."""
        return self.explain_fn(fields)

    def category(self, status: object) -> Category:
        """The lifecycle category of a status; unknown or unset statuses count as open."""
        if isinstance(status, str):
            return self.statuses.get(fold(status), "open")
        return "open"

    def knows_status(self, status: str) -> bool:
        return fold(status) in self.statuses
