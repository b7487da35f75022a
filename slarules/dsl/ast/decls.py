"""The declarations of a `.sla` file (timezone, schema, statuses, calendars, levels, the
default level, rules) and the module that holds them; built on `nodes`."""

from __future__ import annotations

from slarules.dsl.ast.nodes import (
    NOSPAN,
    ClockTime,
    DateLit,
    Duration,
    Expr,
    Key,
    Name,
    Node,
    Percent,
    Span,
    Str,
    _set,
)


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
