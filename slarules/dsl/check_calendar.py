"""Checks of `calendar` declarations → `CalendarSpec`s in the model."""

from __future__ import annotations

import functools
from datetime import date

from slarules.dsl import ast, codes
from slarules.dsl.check_schema import zone
from slarules.dsl.checker import Context
from slarules.dsl.names import DAYS, RESERVED, did_you_mean
from slarules.engine.calendar import CalendarSpec

Seen = dict[str, tuple[str, ast.Span]]


@functools.cache
def _countries() -> dict[str, list[str]]:
    import holidays

    return dict(holidays.list_supported_countries())


@functools.cache
def _country_names() -> dict[str, str]:
    """Folded English country name (and 3-letter code) -> the 2-letter code holidays uses."""
    from holidays import registry

    out: dict[str, str] = {}
    for module, (cls, code, *rest) in registry.COUNTRIES.items():
        out[module.replace("_", " ")] = code
        out[_spaced(cls).casefold()] = code
        for alt in rest[:1]:
            out[alt.casefold()] = code
    return out


def _spaced(camel: str) -> str:
    return "".join(" " + c if c.isupper() and i else c for i, c in enumerate(camel))


@functools.cache
def _subdivision_aliases(country: str) -> dict[str, str]:
    import holidays

    try:
        return dict(holidays.country_holidays(country).subdivisions_aliases)
    except Exception:  # an odd country class: no aliases
        return {}


def new_name(ctx: Context, file: str, name: ast.Name, seen: Seen, kind: str) -> bool:
    if name.value in RESERVED:
        ctx.emit(file, name.span, codes.reserved_name(name.value, kind))
        return False
    if name.value in seen:
        f0, s0 = seen[name.value]
        ctx.emit(file, name.span, codes.duplicate_name(f"{kind} `{name.value}`", f"{f0}:{s0.line}"))
        return False
    seen[name.value] = (file, name.span)
    return True


def calendars(ctx: Context) -> Seen:
    seen: Seen = {}
    for file, d in ctx.declared.get(ast.CalendarDecl, []):
        if new_name(ctx, file, d.name, seen, "calendar"):
            spec = _calendar(ctx, file, d)
            if spec is not None:
                ctx.model.calendars[d.name.value] = spec
    return seen


def _calendar(ctx: Context, file: str, d: ast.CalendarDecl) -> CalendarSpec | None:
    tz: str | None = None
    zone_seen = False
    ok = True
    hours: dict[int, list[tuple[int, int]]] = {}
    hols: list[tuple[str, str | None]] = []
    closed: set[date] = set()
    for item in d.items:
        if isinstance(item, ast.CalTimezone):
            if zone_seen:
                what = f"`timezone` in calendar `{d.name.value}`"
                ctx.emit(file, item.span, codes.duplicate_declaration(what))
                continue
            zone_seen = True
            if zone(ctx, file, item.zone):
                tz = item.zone.value
            else:
                ok = False
        elif isinstance(item, ast.HoursStmt):
            ok = _hours(ctx, file, item, hours) and ok
        elif isinstance(item, ast.HolidaysStmt):
            pair = _holidays(ctx, file, item)
            if pair is None:
                ok = False
            elif pair not in hols:
                hols.append(pair)
        elif isinstance(item, ast.ClosedStmt):
            if item.day.value is None:
                ctx.emit(file, item.day.span, codes.invalid_date(item.day.raw))
                ok = False
            else:
                closed.add(item.day.value)
    if not zone_seen:
        ctx.emit(file, d.name.span, codes.missing_timezone(d.name.value))
        return None
    if not ok or tz is None:
        return None
    merged = {day: _merge(ranges) for day, ranges in hours.items() if ranges}
    return CalendarSpec(d.name.value, tz, merged, tuple(hols), frozenset(closed))


def _hours(
    ctx: Context, file: str, item: ast.HoursStmt, hours: dict[int, list[tuple[int, int]]]
) -> bool:
    ok = True
    days: list[int] = []
    for di in item.days:
        a = DAYS.index(di.start.value)
        b = DAYS.index(di.end.value) if di.end is not None else a
        if b < a:
            assert di.end is not None
            ctx.emit(file, di.span, codes.backwards_days(di.start.value, di.end.value))
            ok = False
            continue
        days.extend(range(a, b + 1))
    for r in item.ranges:
        bad = False
        for t in (r.start, r.end):
            if t.minutes is None:
                ctx.emit(file, t.span, codes.not_a_clock_time(t.raw))
                bad = True
        if bad:
            ok = False
            continue
        assert r.start.minutes is not None and r.end.minutes is not None
        s, e = r.start.minutes, r.end.minutes
        if s >= e:
            ctx.emit(file, r.span, codes.range_ends_before_start(r.start.raw, r.end.raw))
            ok = False
            continue
        clash = False
        for day in days:
            existing = hours.setdefault(day, [])
            if any(s < e2 and s2 < e for s2, e2 in existing):
                clash = True
            existing.append((s, e))
        if clash:
            ctx.emit(file, r.span, codes.overlapping_hours(r.start.raw, r.end.raw))
            ok = False
    return ok


def _holidays(ctx: Context, file: str, item: ast.HolidaysStmt) -> tuple[str, str | None] | None:
    countries = _countries()
    code = item.country.value
    if code not in countries:
        by_name = _country_names().get(code.casefold())
        hint = f"did you mean `{by_name}`?" if by_name else did_you_mean(code, sorted(countries))
        ctx.emit(file, item.country.span, codes.unknown_country(code, hint))
        return None
    if item.subdivision is None:
        return (code, None)
    sub = item.subdivision.value
    subs = list(countries[code])
    if sub in subs:
        return (code, sub)
    aliases = _subdivision_aliases(code)
    if sub in aliases:
        return (code, aliases[sub])
    hint = did_you_mean(sub, subs + list(aliases)) or (
        f"subdivisions of `{code}`: " + ", ".join(subs[:20])
        if subs
        else f"`{code}` has no subdivisions"
    )
    ctx.emit(file, item.subdivision.span, codes.unknown_subdivision(sub, code, hint))
    return None


def _merge(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return tuple(out)


def is_always_open(spec: CalendarSpec) -> bool:
    return all(spec.hours.get(d) == ((0, 1440),) for d in range(7))
