"""Semantic checks over every parsed file of a ruleset: all problems in one run.

`check(files)` returns the diagnostics and the resolved `Model` (model.py)
that the compiler and the analysis read. The checks are split by
declaration kind: `check_schema` (timezone, schema, statuses),
`check_calendar`, `check_level`, `check_rules` (rules, default level, unused
names) and `check_condition` (typed conditions); every wording is in
`codes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slarules.dsl import ast
from slarules.dsl.codes import Msg
from slarules.dsl.model import Model
from slarules.engine.cancel import NEVER, Cancel
from slarules.errors import Diagnostic


@dataclass(frozen=True, slots=True)
class ParsedFile:
    name: str
    module: ast.Module
    lines: tuple[str, ...]


@dataclass
class Context:
    """What the checks share: the files, the model being resolved, the diagnostics."""

    files: Sequence[ParsedFile]
    diags: list[Diagnostic] = field(default_factory=list)
    model: Model = field(default_factory=Model)
    used_calendars: set[str] = field(default_factory=set)
    declared: dict[type, list[tuple[str, Any]]] = field(default_factory=dict)
    cancel: Cancel = NEVER  # polled per phase and per rule

    def __post_init__(self) -> None:
        self._lines = {f.name: f.lines for f in self.files}
        for f in self.files:
            for d in f.module.decls:
                self.declared.setdefault(type(d), []).append((f.name, d))

    def emit(self, file: str | None, span: ast.Span | None, msg: Msg) -> None:
        """Record one diagnostic at `span` (None or an unpositioned span: the whole file)."""
        line = col = end_line = end_col = None
        src = None
        if span is not None and span.line > 0:
            line, col = span.line, span.column
            end_line, end_col = span.end_line or None, span.end_column or None
            lines = self._lines.get(file or "", ())
            if span.line - 1 < len(lines):
                src = lines[span.line - 1]
        self.diags.append(
            Diagnostic(
                msg.severity,
                msg.code,
                msg.message,
                file,
                line,
                col,
                msg.hint,
                src,
                end_line,
                end_col,
            )
        )

    def names_declared(self, kind: type, name: str) -> bool:
        """Whether some file declares `kind` `name` (valid or not)."""
        return any(d.name.value == name for _f, d in self.declared.get(kind, []))


def check(files: Sequence[ParsedFile], cancel: Cancel = NEVER) -> tuple[list[Diagnostic], Model]:
    """Every semantic problem of the ruleset (sorted) and the resolved model."""
    from slarules.dsl import check_calendar, check_level, check_rules, check_schema

    ctx = Context(files, cancel=cancel)
    check_schema.singletons(ctx)
    check_schema.timezone(ctx)
    check_schema.schema(ctx)
    check_schema.statuses(ctx)
    calendars = check_calendar.calendars(ctx)
    levels = check_level.levels(ctx)
    cancel.check()
    check_rules.default_level(ctx)
    check_rules.rules(ctx)
    check_rules.unused(ctx, levels, calendars)
    ctx.diags.sort(key=Diagnostic.sort_key)
    return ctx.diags, ctx.model
