"""The typed syntax tree of a `.sla` file: frozen dataclasses with source spans.

Spans are excluded from equality (`compare=False`), so two trees are equal
when they say the same thing, wherever it was written; the formatter's
round-trip property relies on that. Literals keep their `raw` text because
the formatter prints literals as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Span:
    """1-based start line/column and end line/column (code points, end exclusive)."""

    line: int
    column: int
    end_line: int
    end_column: int


NOSPAN = Span(0, 0, 0, 0)


# ---- literals -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Str:
    value: str
    raw: str
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Num:
    value: int | float
    raw: str
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class DateLit:
    value: date | None  # None: not a real date (reported as `invalid-date`)
    raw: str
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class DateTimeLit:
    value: datetime | None
    raw: str
    span: Span = field(default=NOSPAN, compare=False, repr=False)


Literal = Str | Num | Bool | DateLit | DateTimeLit


@dataclass(frozen=True, slots=True)
class ListLit:
    items: tuple[Literal, ...]
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Regex:
    pattern: str  # `\/` already turned into `/`
    ignore_case: bool
    raw: str
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Name:
    """An identifier (field, level, calendar, metric, day, …)."""

    value: str
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Key:
    """A `by` table key, priority or source name: an identifier or a string."""

    value: str
    raw: str
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Duration:
    seconds: int
    raw: str
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Percent:
    value: float
    raw: str
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ClockTime:
    minutes: int | None  # None: not a clock time (e.g. 25:00)
    raw: str
    span: Span = field(default=NOSPAN, compare=False, repr=False)


# ---- conditions -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldRef:
    name: str
    part: str | None = None  # "weekday" / "hour" / anything (checked)
    span: Span = field(default=NOSPAN, compare=False, repr=False)

    @property
    def text(self) -> str:
        return self.name if self.part is None else f"{self.name}.{self.part}"


Operand = Literal | FieldRef


@dataclass(frozen=True, slots=True)
class Compare:
    """`left OP right`; op is one of == != < <= > >= in `not in` contains
    `contains any` `contains all` `starts with` `ends with`."""

    left: FieldRef
    op: str
    right: Operand | ListLit
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Matches:
    left: FieldRef
    regex: Regex
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class IsSet:
    left: FieldRef
    negated: bool
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class During:
    left: FieldRef
    calendar: Name
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Bare:
    left: FieldRef
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Group:
    """Parentheses as written (kept so `fmt` prints them back)."""

    inner: Expr
    span: Span = field(default=NOSPAN, compare=False, repr=False)


Leaf = Compare | Matches | IsSet | During | Bare
Expr = Leaf | Not | And | Or | Group


# ---- declarations ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimezoneDecl:
    zone: Str
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class PrioritiesStmt:
    names: tuple[Key, ...]
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class SourcesStmt:
    names: tuple[Key, ...]
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class FieldStmt:
    name: Name
    type: str
    span: Span = field(default=NOSPAN, compare=False, repr=False)


SchemaItem = PrioritiesStmt | SourcesStmt | FieldStmt


@dataclass(frozen=True, slots=True)
class SchemaDecl:
    items: tuple[SchemaItem, ...]
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CategoryStmt:
    category: str
    names: tuple[Str, ...]
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class StatusesDecl:
    items: tuple[CategoryStmt, ...]
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class DayItem:
    start: Name
    end: Name | None = None
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class TimeRange:
    start: ClockTime
    end: ClockTime
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CalTimezone:
    zone: Str
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class HoursStmt:
    days: tuple[DayItem, ...]
    ranges: tuple[TimeRange, ...]
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class HolidaysStmt:
    country: Str
    subdivision: Str | None = None
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ClosedStmt:
    day: DateLit
    label: Str | None = None
    span: Span = field(default=NOSPAN, compare=False, repr=False)


CalendarItem = CalTimezone | HoursStmt | HolidaysStmt | ClosedStmt


@dataclass(frozen=True, slots=True)
class CalendarDecl:
    name: Name
    items: tuple[CalendarItem, ...]
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class TitleStmt:
    title: Str
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class LevelCalendar:
    calendar: Name
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Row:
    key: Key
    duration: Duration
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Table:
    by: Name
    rows: tuple[Row, ...]
    else_duration: Duration | None = None
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class TargetStmt:
    metric: Name
    value: Duration | Table
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class PauseStmt:
    metrics: tuple[Name, ...]
    condition: Expr
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class WarnAt:
    percents: tuple[Percent, ...]
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class WarnBefore:
    durations: tuple[Duration, ...]
    span: Span = field(default=NOSPAN, compare=False, repr=False)


LevelItem = TitleStmt | LevelCalendar | TargetStmt | PauseStmt | WarnAt | WarnBefore


@dataclass(frozen=True, slots=True)
class LevelDecl:
    name: Name
    items: tuple[LevelItem, ...]
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class DefaultDecl:
    level: Name  # may be "none" (an error)
    span: Span = field(default=NOSPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class RuleDecl:
    title: Str
    when: Expr | None
    set_level: Name | None  # value "none" means `set level none`
    stop: bool
    span: Span = field(default=NOSPAN, compare=False, repr=False)
    when_span: Span = field(default=NOSPAN, compare=False, repr=False)  # `when` … condition
    stop_span: Span = field(default=NOSPAN, compare=False, repr=False)


Decl = TimezoneDecl | SchemaDecl | StatusesDecl | CalendarDecl | LevelDecl | DefaultDecl | RuleDecl


@dataclass(frozen=True, slots=True)
class Comment:
    text: str  # including the leading `#`
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Module:
    """One parsed file: its declarations and (for the formatter) its comments."""

    decls: tuple[Decl, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False)
    span: Span = field(default=NOSPAN, compare=False, repr=False)
