"""Rule source files as the DSL receives them (already read by the edge) and build results."""

from __future__ import annotations

from dataclasses import dataclass, field

from slarules.engine.policy import Policy
from slarules.errors import Diagnostic


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One `.sla` file: its display name (a path as the user gave it) and raw bytes."""

    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class BuildResult:
    """Parse → check → compile: a policy when there are no errors, plus every diagnostic."""

    policy: Policy | None
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if not d.is_error)
