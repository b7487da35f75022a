"""The checked, resolved ruleset: what `check` returns and what the compiler and the analysis read.

Nothing downstream re-derives a type or re-applies a rule of the language:
every field reference carries its type, every literal is already the value
it is compared as (folded text, priority rank, weekday index, a frozen set
for lists), `by source` overrides are already split from the main target,
and parentheses are gone (the `ast` node of each leaf is kept for its text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slarules.dsl import ast
from slarules.dsl.names import BUILTIN_FIELDS, DEFAULT_PRIORITIES
from slarules.engine.calendar import CalendarSpec
from slarules.engine.policy import DEFAULT_STATUSES, Category, Target

# Leaf operators after normalisation (`!=` is `==` negated, `not in` is `in` negated).
ORDER_OPS = frozenset({"<", "<=", ">", ">="})


@dataclass(frozen=True, slots=True)
class TypedField:
    """A field or field part with its resolved type (`weekday`, `number` for `.hour`)."""

    name: str
    part: str | None
    type: str
    base: str = ""  # the field's own type (differs from `type` for parts)

    @property
    def whole(self) -> TypedField:
        """The field itself (for a part: the date or date-time it is a part of)."""
        base = self.base or self.type
        return TypedField(self.name, None, base, base)

    @property
    def text(self) -> str:
        return self.name if self.part is None else f"{self.name}.{self.part}"


@dataclass(frozen=True, slots=True)
class TypedLeaf:
    """One comparison, typed and with its constant resolved.

    `op` is one of `== < <= > >= in contains` `contains any` `contains all`
    `starts with` `ends with` `matches` `is set` `during` `bare`; `negated`
    covers `!=`, `not in` and `is not set`. `value` is the comparable
    constant (None when a literal can never compare equal, e.g. an empty
    string), `right` the other field of a field-to-field comparison,
    `pattern` the RE2 source of `matches`, `calendar` the name for `during`.
    """

    node: ast.Leaf
    left: TypedField
    op: str
    negated: bool = False
    value: Any = None
    right: TypedField | None = None
    pattern: tuple[str, bool] | None = None  # (pattern, ignore_case)
    calendar: str | None = None


@dataclass(frozen=True, slots=True)
class CNot:
    operand: Cond


@dataclass(frozen=True, slots=True)
class CAnd:
    items: tuple[Cond, ...]


@dataclass(frozen=True, slots=True)
class COr:
    items: tuple[Cond, ...]


Cond = TypedLeaf | CNot | CAnd | COr


def leaves(c: Cond) -> list[TypedLeaf]:
    """Every leaf of a condition, left to right."""
    out: list[TypedLeaf] = []
    stack: list[Cond] = [c]
    while stack:
        node = stack.pop()
        if isinstance(node, TypedLeaf):
            out.append(node)
        elif isinstance(node, CNot):
            stack.append(node.operand)
        else:
            stack.extend(reversed(node.items))
    return out


@dataclass(frozen=True, slots=True)
class PauseModel:
    metrics: frozenset[str] | None  # None: every metric of the level
    condition: Cond
    text: str  # the condition as written (canonical text)


@dataclass(frozen=True, slots=True)
class LevelModel:
    name: str
    file: str
    span: ast.Span
    title: str | None
    calendar: str  # a declared calendar or "always"
    targets: Mapping[str, Target]
    target_spans: Mapping[str, ast.Span]  # metric -> the first target statement's span
    pauses: tuple[PauseModel, ...] = ()
    warn_percents: tuple[float, ...] = ()
    warn_befores: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleModel:
    title: str
    file: str
    span: ast.Span
    when: Cond | None
    set_level: str | None  # a level name, "none" (`set level none`), or None
    stop: bool
    when_span: ast.Span = ast.NOSPAN
    stop_span: ast.Span = ast.NOSPAN

    @property
    def sets_level(self) -> bool:
        return self.set_level is not None

    @property
    def level(self) -> str | None:
        """The level the rule sets (None for `set level none` or no `set level`)."""
        return None if self.set_level in (None, "none") else self.set_level


@dataclass
class Model:
    """The resolved ruleset (complete only when the check found no errors)."""

    timezone: str = "UTC"
    priorities: tuple[str, ...] = DEFAULT_PRIORITIES
    sources: tuple[str, ...] | None = None
    fields: dict[str, str] = field(default_factory=lambda: dict(BUILTIN_FIELDS))
    statuses: dict[str, Category] = field(default_factory=lambda: dict(DEFAULT_STATUSES))
    calendars: dict[str, CalendarSpec] = field(default_factory=dict)
    levels: dict[str, LevelModel] = field(default_factory=dict)
    default_level: str | None = None
    default_span: ast.Span | None = None
    default_file: str | None = None
    rules: list[RuleModel] = field(default_factory=list)
