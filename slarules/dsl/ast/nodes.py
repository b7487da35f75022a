"""The nodes of a `.sla` file's syntax tree: the base class, spans, literals, conditions.

See `slarules.dsl.ast` for how the classes behave."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import date, datetime
from operator import attrgetter
from typing import Any, ClassVar

_set = object.__setattr__
_SPANS = ("span", "when_span", "stop_span")


class Node:
    """Base of every node: `_eq` fields are compared, hashed and (with `_repr`) shown.

    By default `_eq` and `_repr` are the slots without the spans; a class
    names them itself when they differ (`Module` compares only `decls`)."""

    __match_args__: tuple[str, ...] = ()
    __slots__ = __match_args__
    _eq: ClassVar[tuple[str, ...]]
    _repr: ClassVar[tuple[str, ...]]
    _key: ClassVar[Any]

    def __init_subclass__(cls) -> None:
        names: tuple[str, ...] = cls.__match_args__  # also the slots and `__init__`'s order
        if "_eq" not in cls.__dict__:
            cls._eq = tuple(n for n in names if n not in _SPANS)
        if "_repr" not in cls.__dict__:
            cls._repr = tuple(n for n in names if n not in _SPANS)
        cls._key = attrgetter(*cls._eq) if cls._eq else (lambda _self: ())

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._key(self) == self._key(other))

    def __hash__(self) -> int:
        return hash((self.__class__, self._key(self)))

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._repr)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return (self.__class__, tuple(getattr(self, n) for n in self.__match_args__))


class Span(Node):
    """1-based start line/column and end line/column (code points, end exclusive)."""

    __match_args__ = ("line", "column", "end_line", "end_column")
    __slots__ = __match_args__
    line: int
    column: int
    end_line: int
    end_column: int

    def __init__(self, line: int, column: int, end_line: int, end_column: int) -> None:
        _set(self, "line", line)
        _set(self, "column", column)
        _set(self, "end_line", end_line)
        _set(self, "end_column", end_column)


NOSPAN = Span(0, 0, 0, 0)


# ---- literals -------------------------------------------------------------


class Str(Node):
    __match_args__ = ("value", "raw", "span")
    __slots__ = __match_args__
    value: str
    raw: str
    span: Span

    def __init__(self, value: str, raw: str, span: Span = NOSPAN) -> None:
        _set(self, "value", value)
        _set(self, "raw", raw)
        _set(self, "span", span)


class Num(Node):
    __match_args__ = ("value", "raw", "span")
    __slots__ = __match_args__
    value: int | float
    raw: str
    span: Span

    def __init__(self, value: int | float, raw: str, span: Span = NOSPAN) -> None:
        _set(self, "value", value)
        _set(self, "raw", raw)
        _set(self, "span", span)


class Bool(Node):
    __match_args__ = ("value", "span")
    __slots__ = __match_args__
    value: bool
    span: Span

    def __init__(self, value: bool, span: Span = NOSPAN) -> None:
        _set(self, "value", value)
        _set(self, "span", span)


class DateLit(Node):
    __match_args__ = ("value", "raw", "span")
    __slots__ = __match_args__
    value: date | None  # None: not a real date (reported as `invalid-date`)
    raw: str
    span: Span

    def __init__(self, value: date | None, raw: str, span: Span = NOSPAN) -> None:
        _set(self, "value", value)
        _set(self, "raw", raw)
        _set(self, "span", span)


class DateTimeLit(Node):
    __match_args__ = ("value", "raw", "span")
    __slots__ = __match_args__
    value: datetime | None
    raw: str
    span: Span

    def __init__(self, value: datetime | None, raw: str, span: Span = NOSPAN) -> None:
        _set(self, "value", value)
        _set(self, "raw", raw)
        _set(self, "span", span)


Literal = Str | Num | Bool | DateLit | DateTimeLit


class ListLit(Node):
    __match_args__ = ("items", "span")
    __slots__ = __match_args__
    items: tuple[Literal, ...]
    span: Span

    def __init__(self, items: tuple[Literal, ...], span: Span = NOSPAN) -> None:
        _set(self, "items", items)
        _set(self, "span", span)


class Regex(Node):
    __match_args__ = ("pattern", "ignore_case", "raw", "span")
    __slots__ = __match_args__
    pattern: str  # `\/` already turned into `/`
    ignore_case: bool
    raw: str
    span: Span

    def __init__(self, pattern: str, ignore_case: bool, raw: str, span: Span = NOSPAN) -> None:
        _set(self, "pattern", pattern)
        _set(self, "ignore_case", ignore_case)
        _set(self, "raw", raw)
        _set(self, "span", span)


class Name(Node):
    """An identifier (field, level, calendar, metric, day, …)."""

    __match_args__ = ("value", "span")
    __slots__ = __match_args__
    value: str
    span: Span

    def __init__(self, value: str, span: Span = NOSPAN) -> None:
        _set(self, "value", value)
        _set(self, "span", span)


class Key(Node):
    """A `by` table key, priority or source name: an identifier or a string."""

    __match_args__ = ("value", "raw", "span")
    __slots__ = __match_args__
    value: str
    raw: str
    span: Span

    def __init__(self, value: str, raw: str, span: Span = NOSPAN) -> None:
        _set(self, "value", value)
        _set(self, "raw", raw)
        _set(self, "span", span)


class Duration(Node):
    __match_args__ = ("seconds", "raw", "span")
    __slots__ = __match_args__
    seconds: int
    raw: str
    span: Span

    def __init__(self, seconds: int, raw: str, span: Span = NOSPAN) -> None:
        _set(self, "seconds", seconds)
        _set(self, "raw", raw)
        _set(self, "span", span)


class Percent(Node):
    __match_args__ = ("value", "raw", "span")
    __slots__ = __match_args__
    value: float
    raw: str
    span: Span

    def __init__(self, value: float, raw: str, span: Span = NOSPAN) -> None:
        _set(self, "value", value)
        _set(self, "raw", raw)
        _set(self, "span", span)


class ClockTime(Node):
    __match_args__ = ("minutes", "raw", "span")
    __slots__ = __match_args__
    minutes: int | None  # None: not a clock time (e.g. 25:00)
    raw: str
    span: Span

    def __init__(self, minutes: int | None, raw: str, span: Span = NOSPAN) -> None:
        _set(self, "minutes", minutes)
        _set(self, "raw", raw)
        _set(self, "span", span)


# ---- conditions -----------------------------------------------------------


class FieldRef(Node):
    __match_args__ = ("name", "part", "span")
    __slots__ = __match_args__
    name: str
    part: str | None  # "weekday" / "hour" / anything (checked)
    span: Span

    def __init__(self, name: str, part: str | None = None, span: Span = NOSPAN) -> None:
        _set(self, "name", name)
        _set(self, "part", part)
        _set(self, "span", span)

    @property
    def text(self) -> str:
        return self.name if self.part is None else f"{self.name}.{self.part}"


Operand = Literal | FieldRef


class Compare(Node):
    """`left OP right`; op is one of == != < <= > >= in `not in` contains
    `contains any` `contains all` `starts with` `ends with`."""

    __match_args__ = ("left", "op", "right", "span")
    __slots__ = __match_args__
    left: FieldRef
    op: str
    right: Operand | ListLit
    span: Span

    def __init__(
        self, left: FieldRef, op: str, right: Operand | ListLit, span: Span = NOSPAN
    ) -> None:
        _set(self, "left", left)
        _set(self, "op", op)
        _set(self, "right", right)
        _set(self, "span", span)


class Matches(Node):
    __match_args__ = ("left", "regex", "span")
    __slots__ = __match_args__
    left: FieldRef
    regex: Regex
    span: Span

    def __init__(self, left: FieldRef, regex: Regex, span: Span = NOSPAN) -> None:
        _set(self, "left", left)
        _set(self, "regex", regex)
        _set(self, "span", span)


class IsSet(Node):
    __match_args__ = ("left", "negated", "span")
    __slots__ = __match_args__
    left: FieldRef
    negated: bool
    span: Span

    def __init__(self, left: FieldRef, negated: bool, span: Span = NOSPAN) -> None:
        _set(self, "left", left)
        _set(self, "negated", negated)
        _set(self, "span", span)


class During(Node):
    __match_args__ = ("left", "calendar", "span")
    __slots__ = __match_args__
    left: FieldRef
    calendar: Name
    span: Span

    def __init__(self, left: FieldRef, calendar: Name, span: Span = NOSPAN) -> None:
        _set(self, "left", left)
        _set(self, "calendar", calendar)
        _set(self, "span", span)


class Bare(Node):
    __match_args__ = ("left", "span")
    __slots__ = __match_args__
    left: FieldRef
    span: Span

    def __init__(self, left: FieldRef, span: Span = NOSPAN) -> None:
        _set(self, "left", left)
        _set(self, "span", span)


class Not(Node):
    __match_args__ = ("operand", "span")
    __slots__ = __match_args__
    operand: Expr
    span: Span

    def __init__(self, operand: Expr, span: Span = NOSPAN) -> None:
        _set(self, "operand", operand)
        _set(self, "span", span)


class And(Node):
    __match_args__ = ("items", "span")
    __slots__ = __match_args__
    items: tuple[Expr, ...]
    span: Span

    def __init__(self, items: tuple[Expr, ...], span: Span = NOSPAN) -> None:
        _set(self, "items", items)
        _set(self, "span", span)


class Or(Node):
    __match_args__ = ("items", "span")
    __slots__ = __match_args__
    items: tuple[Expr, ...]
    span: Span

    def __init__(self, items: tuple[Expr, ...], span: Span = NOSPAN) -> None:
        _set(self, "items", items)
        _set(self, "span", span)


class Group(Node):
    """Parentheses as written (kept so `fmt` prints them back)."""

    __match_args__ = ("inner", "span")
    __slots__ = __match_args__
    inner: Expr
    span: Span

    def __init__(self, inner: Expr, span: Span = NOSPAN) -> None:
        _set(self, "inner", inner)
        _set(self, "span", span)


Leaf = Compare | Matches | IsSet | During | Bare
Expr = Leaf | Not | And | Or | Group
