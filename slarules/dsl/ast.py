"""The typed syntax tree of a `.sla` file: immutable, slotted classes with source spans.

Spans are excluded from equality and hashing, so two trees are equal when
they say the same thing, wherever it was written; the formatter's round-trip
property relies on that. Literals keep their `raw` text because the formatter
prints literals as written.

The classes behave like frozen dataclasses (keyword or positional
construction, `==`, `hash`, `repr` without spans, `__match_args__`, no
assignment after construction, pickling) but are written out by hand: creating
about fifty dataclasses cost a third of `slarules check`'s start-up.
"""

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


# ---- declarations ---------------------------------------------------------


class TimezoneDecl(Node):
    __match_args__ = ("zone", "span")
    __slots__ = __match_args__
    zone: Str
    span: Span

    def __init__(self, zone: Str, span: Span = NOSPAN) -> None:
        _set(self, "zone", zone)
        _set(self, "span", span)


class PrioritiesStmt(Node):
    __match_args__ = ("names", "span")
    __slots__ = __match_args__
    names: tuple[Key, ...]
    span: Span

    def __init__(self, names: tuple[Key, ...], span: Span = NOSPAN) -> None:
        _set(self, "names", names)
        _set(self, "span", span)


class SourcesStmt(Node):
    __match_args__ = ("names", "span")
    __slots__ = __match_args__
    names: tuple[Key, ...]
    span: Span

    def __init__(self, names: tuple[Key, ...], span: Span = NOSPAN) -> None:
        _set(self, "names", names)
        _set(self, "span", span)


class FieldStmt(Node):
    __match_args__ = ("name", "type", "span")
    __slots__ = __match_args__
    name: Name
    type: str
    span: Span

    def __init__(self, name: Name, type: str, span: Span = NOSPAN) -> None:
        _set(self, "name", name)
        _set(self, "type", type)
        _set(self, "span", span)


SchemaItem = PrioritiesStmt | SourcesStmt | FieldStmt


class SchemaDecl(Node):
    __match_args__ = ("items", "span")
    __slots__ = __match_args__
    items: tuple[SchemaItem, ...]
    span: Span

    def __init__(self, items: tuple[SchemaItem, ...], span: Span = NOSPAN) -> None:
        _set(self, "items", items)
        _set(self, "span", span)


class CategoryStmt(Node):
    __match_args__ = ("category", "names", "span")
    __slots__ = __match_args__
    category: str
    names: tuple[Str, ...]
    span: Span

    def __init__(self, category: str, names: tuple[Str, ...], span: Span = NOSPAN) -> None:
        _set(self, "category", category)
        _set(self, "names", names)
        _set(self, "span", span)


class StatusesDecl(Node):
    __match_args__ = ("items", "span")
    __slots__ = __match_args__
    items: tuple[CategoryStmt, ...]
    span: Span

    def __init__(self, items: tuple[CategoryStmt, ...], span: Span = NOSPAN) -> None:
        _set(self, "items", items)
        _set(self, "span", span)


class DayItem(Node):
    __match_args__ = ("start", "end", "span")
    __slots__ = __match_args__
    start: Name
    end: Name | None
    span: Span

    def __init__(self, start: Name, end: Name | None = None, span: Span = NOSPAN) -> None:
        _set(self, "start", start)
        _set(self, "end", end)
        _set(self, "span", span)


class TimeRange(Node):
    __match_args__ = ("start", "end", "span")
    __slots__ = __match_args__
    start: ClockTime
    end: ClockTime
    span: Span

    def __init__(self, start: ClockTime, end: ClockTime, span: Span = NOSPAN) -> None:
        _set(self, "start", start)
        _set(self, "end", end)
        _set(self, "span", span)


class CalTimezone(Node):
    __match_args__ = ("zone", "span")
    __slots__ = __match_args__
    zone: Str
    span: Span

    def __init__(self, zone: Str, span: Span = NOSPAN) -> None:
        _set(self, "zone", zone)
        _set(self, "span", span)


class HoursStmt(Node):
    __match_args__ = ("days", "ranges", "span")
    __slots__ = __match_args__
    days: tuple[DayItem, ...]
    ranges: tuple[TimeRange, ...]
    span: Span

    def __init__(
        self, days: tuple[DayItem, ...], ranges: tuple[TimeRange, ...], span: Span = NOSPAN
    ) -> None:
        _set(self, "days", days)
        _set(self, "ranges", ranges)
        _set(self, "span", span)


class HolidaysStmt(Node):
    __match_args__ = ("country", "subdivision", "span")
    __slots__ = __match_args__
    country: Str
    subdivision: Str | None
    span: Span

    def __init__(self, country: Str, subdivision: Str | None = None, span: Span = NOSPAN) -> None:
        _set(self, "country", country)
        _set(self, "subdivision", subdivision)
        _set(self, "span", span)


class ClosedStmt(Node):
    __match_args__ = ("day", "label", "span")
    __slots__ = __match_args__
    day: DateLit
    label: Str | None
    span: Span

    def __init__(self, day: DateLit, label: Str | None = None, span: Span = NOSPAN) -> None:
        _set(self, "day", day)
        _set(self, "label", label)
        _set(self, "span", span)


CalendarItem = CalTimezone | HoursStmt | HolidaysStmt | ClosedStmt


class CalendarDecl(Node):
    __match_args__ = ("name", "items", "span")
    __slots__ = __match_args__
    name: Name
    items: tuple[CalendarItem, ...]
    span: Span

    def __init__(self, name: Name, items: tuple[CalendarItem, ...], span: Span = NOSPAN) -> None:
        _set(self, "name", name)
        _set(self, "items", items)
        _set(self, "span", span)


class TitleStmt(Node):
    __match_args__ = ("title", "span")
    __slots__ = __match_args__
    title: Str
    span: Span

    def __init__(self, title: Str, span: Span = NOSPAN) -> None:
        _set(self, "title", title)
        _set(self, "span", span)


class LevelCalendar(Node):
    __match_args__ = ("calendar", "span")
    __slots__ = __match_args__
    calendar: Name
    span: Span

    def __init__(self, calendar: Name, span: Span = NOSPAN) -> None:
        _set(self, "calendar", calendar)
        _set(self, "span", span)


class Row(Node):
    __match_args__ = ("key", "duration", "span")
    __slots__ = __match_args__
    key: Key
    duration: Duration
    span: Span

    def __init__(self, key: Key, duration: Duration, span: Span = NOSPAN) -> None:
        _set(self, "key", key)
        _set(self, "duration", duration)
        _set(self, "span", span)


class Table(Node):
    __match_args__ = ("by", "rows", "else_duration", "span")
    __slots__ = __match_args__
    by: Name
    rows: tuple[Row, ...]
    else_duration: Duration | None
    span: Span

    def __init__(
        self,
        by: Name,
        rows: tuple[Row, ...],
        else_duration: Duration | None = None,
        span: Span = NOSPAN,
    ) -> None:
        _set(self, "by", by)
        _set(self, "rows", rows)
        _set(self, "else_duration", else_duration)
        _set(self, "span", span)


class TargetStmt(Node):
    __match_args__ = ("metric", "value", "span")
    __slots__ = __match_args__
    metric: Name
    value: Duration | Table
    span: Span

    def __init__(self, metric: Name, value: Duration | Table, span: Span = NOSPAN) -> None:
        _set(self, "metric", metric)
        _set(self, "value", value)
        _set(self, "span", span)


class PauseStmt(Node):
    __match_args__ = ("metrics", "condition", "span")
    __slots__ = __match_args__
    metrics: tuple[Name, ...]
    condition: Expr
    span: Span

    def __init__(self, metrics: tuple[Name, ...], condition: Expr, span: Span = NOSPAN) -> None:
        _set(self, "metrics", metrics)
        _set(self, "condition", condition)
        _set(self, "span", span)


class WarnAt(Node):
    __match_args__ = ("percents", "span")
    __slots__ = __match_args__
    percents: tuple[Percent, ...]
    span: Span

    def __init__(self, percents: tuple[Percent, ...], span: Span = NOSPAN) -> None:
        _set(self, "percents", percents)
        _set(self, "span", span)


class WarnBefore(Node):
    __match_args__ = ("durations", "span")
    __slots__ = __match_args__
    durations: tuple[Duration, ...]
    span: Span

    def __init__(self, durations: tuple[Duration, ...], span: Span = NOSPAN) -> None:
        _set(self, "durations", durations)
        _set(self, "span", span)


LevelItem = TitleStmt | LevelCalendar | TargetStmt | PauseStmt | WarnAt | WarnBefore


class LevelDecl(Node):
    __match_args__ = ("name", "items", "span")
    __slots__ = __match_args__
    name: Name
    items: tuple[LevelItem, ...]
    span: Span

    def __init__(self, name: Name, items: tuple[LevelItem, ...], span: Span = NOSPAN) -> None:
        _set(self, "name", name)
        _set(self, "items", items)
        _set(self, "span", span)


class DefaultDecl(Node):
    __match_args__ = ("level", "span")
    __slots__ = __match_args__
    level: Name  # may be "none" (an error)
    span: Span

    def __init__(self, level: Name, span: Span = NOSPAN) -> None:
        _set(self, "level", level)
        _set(self, "span", span)


class RuleDecl(Node):
    __match_args__ = ("title", "when", "set_level", "stop", "span", "when_span", "stop_span")
    __slots__ = __match_args__
    title: Str
    when: Expr | None
    set_level: Name | None  # value "none" means `set level none`
    stop: bool
    span: Span
    when_span: Span  # `when` … condition
    stop_span: Span

    def __init__(
        self,
        title: Str,
        when: Expr | None,
        set_level: Name | None,
        stop: bool,
        span: Span = NOSPAN,
        when_span: Span = NOSPAN,
        stop_span: Span = NOSPAN,
    ) -> None:
        _set(self, "title", title)
        _set(self, "when", when)
        _set(self, "set_level", set_level)
        _set(self, "stop", stop)
        _set(self, "span", span)
        _set(self, "when_span", when_span)
        _set(self, "stop_span", stop_span)


Decl = TimezoneDecl | SchemaDecl | StatusesDecl | CalendarDecl | LevelDecl | DefaultDecl | RuleDecl


class Comment(Node):
    __match_args__ = ("text", "line", "column")
    __slots__ = __match_args__
    text: str  # including the leading `#`
    line: int
    column: int

    def __init__(self, text: str, line: int, column: int) -> None:
        _set(self, "text", text)
        _set(self, "line", line)
        _set(self, "column", column)


class Module(Node):
    """One parsed file: its declarations and (for the formatter) its comments."""

    __match_args__ = ("decls", "comments", "span")
    __slots__ = __match_args__
    _eq = ("decls",)
    decls: tuple[Decl, ...]
    comments: tuple[Comment, ...]
    span: Span

    def __init__(
        self, decls: tuple[Decl, ...], comments: tuple[Comment, ...] = (), span: Span = NOSPAN
    ) -> None:
        _set(self, "decls", decls)
        _set(self, "comments", comments)
        _set(self, "span", span)
