"""What the engine computes for one ticket at one instant: level, cycles, log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from slarules.engine.policy import Decision, Metric

CycleState = Literal["active", "paused", "met", "breached"]
CycleEventKind = Literal["started", "paused", "resumed", "warned", "breached", "stopped"]


@dataclass(frozen=True, slots=True)
class WarningMark:
    """A reached warning threshold: `percent` (`warn at`) or `before` seconds (`warn before`)."""

    metric: Metric
    at: datetime
    percent: float | None = None
    before: int | None = None


@dataclass(frozen=True, slots=True)
class Threshold:
    """An alert threshold of a cycle (semantics.md §Alerts), reached or still ahead.

    `at` is the instant it was reached (`reached`), or, while the cycle is
    active and counting, the projected instant by counting on through the
    calendar from `now`; None when it cannot be reached without a change
    (paused or stopped short of it). For `breach`, `at` is the instant the
    cycle *becomes* breached (E > T): `breached_at` if counting goes on, else
    the next counted moment.
    """

    kind: Literal["warning", "breach"]
    at: datetime | None
    reached: bool
    percent: float | None = None
    before: int | None = None


@dataclass(frozen=True, slots=True)
class CycleEvent:
    kind: CycleEventKind
    at: datetime


@dataclass(frozen=True, slots=True)
class Cycle:
    """One timer cycle of one metric (semantics.md §A cycle's state)."""

    metric: Metric
    index: int  # 1-based per metric
    state: CycleState
    started_at: datetime
    stopped_at: datetime | None
    due_at: datetime | None
    breached_at: datetime | None
    target: int  # seconds
    elapsed: int  # seconds
    remaining: int  # seconds, negative when overdue
    warnings: tuple[WarningMark, ...]
    timeline: tuple[CycleEvent, ...]
    ruleset_version: str
    thresholds: tuple[Threshold, ...] = ()


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One run of the rules: at creation or after an event."""

    at: datetime
    ruleset_version: str
    matched: tuple[str, ...]
    level_before: str | None
    level_after: str | None
    decided_by: str | None
    note: str | None = None  # e.g. "unknown status `foo` treated as open"


@dataclass(frozen=True, slots=True)
class Measurement:
    """A ticket's SLA state as of `now` under one policy version."""

    ticket_id: str
    now: datetime
    ruleset_version: str
    decision: Decision  # the latest run of the rules
    fields: Mapping[str, Any]  # the ticket's current fields (engine-maintained ones included)
    done: bool
    cycles: tuple[Cycle, ...]
    evaluations: tuple[Evaluation, ...]

    @property
    def level(self) -> str | None:
        return self.decision.level

    @property
    def warnings(self) -> tuple[WarningMark, ...]:
        return tuple(w for c in self.cycles for w in c.warnings)

    def cycles_of(self, metric: str) -> tuple[Cycle, ...]:
        return tuple(c for c in self.cycles if c.metric == metric)
