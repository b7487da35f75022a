"""What a GraphQL output object resolves its costly fields from, only when a query selects
them (a cycle's business clock, its warnings and timeline; a level's targets)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slarules.engine import counting
from slarules.engine import measurement as m
from slarules.engine import policy as p


class CycleSource:
    """An engine cycle with what its clock at `now` depends on (the ticket's level and
    current fields); the clock is computed once, the first time a field asks for it."""

    __slots__ = ("_clock", "cycle", "fields", "level", "now", "policy")

    def __init__(
        self,
        cycle: m.Cycle,
        policy: p.Policy,
        level: str | None,
        fields: Mapping[str, Any],
        now: datetime,
    ) -> None:
        self.cycle = cycle
        self.policy = policy
        self.level = level
        self.fields = fields
        self.now = now
        self._clock: counting.Clock | None = None

    def clock(self) -> counting.Clock:
        if self._clock is None:
            self._clock = counting.clock(self.policy, self.level, self.cycle, self.fields, self.now)
        return self._clock
