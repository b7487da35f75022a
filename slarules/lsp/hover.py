"""Hover texts (Markdown): a field's type and meaning, a level's targets in one table, a
calendar's hours and next days off, a duration in business terms."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slarules.dsl import ast
from slarules.lsp import vocab
from slarules.lsp.complete import field_type, values
from slarules.lsp.index import Index

_DAY_INDEX = {d: i for i, d in enumerate(vocab.DAYS)}


def source_of(ix: Index, file: str, span: ast.Span) -> str:
    lines = ix.texts.get(file, [])
    if not lines or span.line < 1:
        return ""
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1 : span.end_column - 1]
    part = [lines[span.line - 1][span.column - 1 :]]
    part += lines[span.line : span.end_line - 1]
    part.append(lines[span.end_line - 1][: span.end_column - 1])
    return " ".join(p.strip() for p in part)


def field_hover(ix: Index, name: str) -> str | None:
    base, _, part = name.partition(".")
    kind = field_type(ix, name)
    if kind is None:
        return None
    if part:
        meaning = vocab.PARTS[part][1]
    elif base in vocab.BUILTIN_FIELDS:
        meaning = vocab.BUILTIN_FIELDS[base][1]
    else:
        meaning = "custom field of the schema"
    out = f"**field** `{name}`: {kind}\n\n{meaning}"
    shown = values(ix, name)
    if shown:
        sep = " < " if base == "priority" and not part else ", "
        out += "\n\nvalues: " + sep.join(f"`{v}`" for v in shown[:12])
    return out


def open_minutes(cal: ast.CalendarDecl) -> dict[int, int]:
    """Open minutes per weekday (0 = mon) of a calendar."""
    per_day: dict[int, int] = {}
    for item in cal.items:
        if not isinstance(item, ast.HoursStmt):
            continue
        minutes = sum(max((r.end.minutes or 0) - (r.start.minutes or 0), 0) for r in item.ranges)
        for d in item.days:
            a = _DAY_INDEX.get(d.start.value, 0)
            b = _DAY_INDEX.get(d.end.value, a) if d.end else a
            for i in range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]:
                per_day[i] = per_day.get(i, 0) + minutes
    return per_day


def day_hours(ix: Index, calendar: str) -> float | None:
    """Average open hours of an open day; 24 for `always`; None for an unknown calendar."""
    if calendar == "always":
        return 24.0
    cal = ix.calendars.get(calendar)
    if cal is None:
        return None
    days = [m for m in open_minutes(cal).values() if m > 0]
    return sum(days) / len(days) / 60 if days else None


def _num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def duration_hover(ix: Index, raw: str, seconds: int, calendar: str) -> str:
    hours = day_hours(ix, calendar)
    head = f"`{raw}` = {_num(seconds / 3600)} hours counted on `{calendar}`"
    if hours is None:
        return head
    days = seconds / 3600 / hours
    unit = "working day" if abs(days - 1) < 1e-9 else "working days"
    out = f"`{raw}` on `{calendar}` ≈ {_num(days)} {unit} ({_num(hours)}h open a day)"
    if "d" in raw and hours < 24:
        out += (
            f"\n\n`d` is 24 hours, not a working day: `1d` here is {_num(24 / hours)} working days"
        )
    return out


def _target(ix: Index, t: ast.TargetStmt) -> str:
    if isinstance(t.value, ast.Duration):
        return t.value.raw
    rows = ", ".join(f"{r.key.raw} {r.duration.raw}" for r in t.value.rows)
    if t.value.else_duration is not None:
        rows += (", " if rows else "") + f"else {t.value.else_duration.raw}"
    return f"by {t.value.by.value} {{ {rows} }}"


def level_hover(ix: Index, name: str) -> str | None:
    lv = ix.levels.get(name)
    if lv is None:
        return None
    file = ix.definitions[("level", name)][0].file
    title = next((i.title.value for i in lv.items if isinstance(i, ast.TitleStmt)), None)
    cal = next((i.calendar.value for i in lv.items if isinstance(i, ast.LevelCalendar)), "always")
    out = [f"**level** `{name}`" + (f" — {title}" if title else "")]
    out.append(f"\ncalendar `{cal}`\n\n| metric | target |\n|---|---|")
    for item in lv.items:
        if isinstance(item, ast.TargetStmt):
            out.append(f"| {item.metric.value} | {_target(ix, item)} |")
    pauses = [i for i in lv.items if isinstance(i, ast.PauseStmt)]
    warns = [i for i in lv.items if isinstance(i, ast.WarnAt | ast.WarnBefore)]
    for p in pauses:
        which = ", ".join(m.value for m in p.metrics) or "all metrics"
        out.append(f"| pause ({which}) | when {source_of(ix, file, p.condition.span)} |")
    for w in warns:
        if isinstance(w, ast.WarnAt):
            out.append("| warn at | " + ", ".join(x.raw for x in w.percents) + " |")
        else:
            out.append("| warn before | " + ", ".join(x.raw for x in w.durations) + " |")
    return "\n".join(out)


def _days_off(cal: ast.CalendarDecl, today: date, limit: int = 5) -> list[str]:
    import holidays

    found: list[tuple[date, str]] = []
    for item in cal.items:
        if isinstance(item, ast.HolidaysStmt):
            sub = item.subdivision.value if item.subdivision else None
            try:
                days = holidays.country_holidays(
                    item.country.value, subdiv=sub, years=(today.year, today.year + 1)
                )
            except (NotImplementedError, KeyError, ValueError):
                continue
            found += [(d, str(n)) for d, n in days.items() if d >= today]
        elif isinstance(item, ast.ClosedStmt) and item.day.value and item.day.value >= today:
            found.append((item.day.value, item.label.value if item.label else "closed"))
    found.sort()
    return [f"{d.isoformat()} {d.strftime('%a')} — {n}" for d, n in found[:limit]]


def calendar_hover(ix: Index, name: str, now: datetime) -> str | None:
    if name == "always":
        return "**calendar** `always` (built in): open 24 hours, 7 days, UTC, no holidays"
    cal = ix.calendars.get(name)
    if cal is None:
        return None
    zone = next((i.zone.value for i in cal.items if isinstance(i, ast.CalTimezone)), "?")
    per_day = open_minutes(cal)
    out = [f"**calendar** `{name}` — time zone `{zone}`", ""]
    file = ix.definitions[("calendar", name)][0].file
    for item in cal.items:
        if isinstance(item, ast.HoursStmt):
            out.append(f"- {source_of(ix, file, item.span)}")
    out.append(f"\n{_num(sum(per_day.values()) / 60)} open hours a week")
    try:
        today = now.astimezone(ZoneInfo(zone)).date()
    except (ValueError, ZoneInfoNotFoundError):
        today = now.date()
    off = _days_off(cal, today)
    if off:
        out.append("\nnext days off:\n" + "\n".join(f"- {x}" for x in off))
    return "\n".join(out)
