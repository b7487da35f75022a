"""Checks of `level` declarations → `LevelModel`s with resolved targets and typed pauses."""

from __future__ import annotations

from collections.abc import Iterable

from slarules.dsl import ast, codes
from slarules.dsl.check_calendar import Seen, is_always_open, new_name
from slarules.dsl.check_condition import condition, known_value
from slarules.dsl.checker import Context
from slarules.dsl.model import LevelModel, PauseModel
from slarules.dsl.unparse import expr_text
from slarules.engine.calendar import CalendarSpec
from slarules.engine.policy import METRICS, Table, Target, fold


def levels(ctx: Context) -> Seen:
    seen: Seen = {}
    decls = ctx.declared.get(ast.LevelDecl, [])
    valid = {id(d) for f, d in decls if new_name(ctx, f, d.name, seen, "level")}
    for file, d in decls:
        level = _level(ctx, file, d)
        if id(d) in valid:
            ctx.model.levels[d.name.value] = level
    if not decls:
        first = ctx.files[0].name if ctx.files else None
        ctx.emit(first, None, codes.no_level())
    return seen


def calendar_ref(ctx: Context, file: str, name: ast.Name) -> None:
    ctx.used_calendars.add(name.value)
    if name.value != "always" and not ctx.names_declared(ast.CalendarDecl, name.value):
        ctx.emit(
            file, name.span, codes.unknown_calendar(name.value, [*ctx.model.calendars, "always"])
        )


def _is_source_override(t: ast.TargetStmt) -> bool:
    v = t.value
    return isinstance(v, ast.Table) and v.by.value == "source" and v.else_duration is None


def _level(ctx: Context, file: str, d: ast.LevelDecl) -> LevelModel:
    singles: dict[type, ast.LevelItem] = {}
    title: str | None = None
    cal_name = "always"
    calendar: CalendarSpec | None = None
    cal_known = True
    targets: dict[str, list[ast.TargetStmt]] = {}
    pauses: list[PauseModel] = []
    percents: list[float] = []
    befores: list[ast.Duration] = []
    durations: list[ast.Duration] = []
    for item in d.items:
        if isinstance(item, ast.TitleStmt | ast.LevelCalendar):
            if type(item) in singles:
                word = "title" if isinstance(item, ast.TitleStmt) else "calendar"
                ctx.emit(
                    file,
                    item.span,
                    codes.duplicate_declaration(f"`{word}` in level `{d.name.value}`"),
                )
                continue
            singles[type(item)] = item
            if isinstance(item, ast.TitleStmt):
                title = item.title.value
                continue
            cal_name = item.calendar.value
            calendar_ref(ctx, file, item.calendar)
            if cal_name in ctx.model.calendars:
                calendar = ctx.model.calendars[cal_name]
            elif cal_name != "always":
                cal_known = False
        elif isinstance(item, ast.TargetStmt):
            _target(ctx, file, d, item, targets)
            durations.extend(_durations(item))
        elif isinstance(item, ast.PauseStmt):
            cond = condition(ctx, file, item.condition)
            if cond is not None:
                metrics = frozenset(m.value for m in item.metrics) or None
                pauses.append(PauseModel(metrics, cond, expr_text(item.condition)))
        elif isinstance(item, ast.WarnAt):
            for p in item.percents:
                if not 0 < p.value < 100:
                    ctx.emit(file, p.span, codes.percent_out_of_range(p.raw))
                elif p.value in percents:
                    ctx.emit(file, p.span, codes.percent_repeated(p.raw))
                else:
                    percents.append(p.value)
        elif isinstance(item, ast.WarnBefore):
            for dur in item.durations:
                durations.append(dur)
                if positive(ctx, file, dur):
                    if any(b.seconds == dur.seconds for b in befores):
                        ctx.emit(file, dur.span, codes.warn_before_repeated(dur.raw))
                    else:
                        befores.append(dur)
    if cal_known and calendar is not None and not is_always_open(calendar):
        for dur in durations:
            if "d" in dur.raw:
                ctx.emit(file, dur.span, codes.day_duration(dur.raw, calendar.name))
    _warn_befores(ctx, file, befores, targets)
    resolved, spans = _resolve_targets(targets)
    return LevelModel(
        d.name.value,
        file,
        d.name.span,
        title,
        cal_name,
        resolved,
        spans,
        tuple(pauses),
        tuple(sorted(percents)),
        tuple(sorted(b.seconds for b in befores)),
    )


def _durations(item: ast.TargetStmt) -> list[ast.Duration]:
    if isinstance(item.value, ast.Duration):
        return [item.value]
    out = [r.duration for r in item.value.rows]
    if item.value.else_duration is not None:
        out.append(item.value.else_duration)
    return out


def _warn_befores(
    ctx: Context,
    file: str,
    befores: Iterable[ast.Duration],
    targets: dict[str, list[ast.TargetStmt]],
) -> None:
    for dur in befores:
        for metric, stmts in targets.items():
            values = [d.seconds for t in stmts for d in _durations(t)]
            if any(0 < v <= dur.seconds for v in values):
                ctx.emit(file, dur.span, codes.warn_before_exceeds(dur.raw, metric))
                break


def _table(t: ast.Table) -> Table:
    rows = {fold(r.key.value): r.duration.seconds for r in t.rows}
    return Table(t.by.value, rows, t.else_duration.seconds if t.else_duration else None)


def _resolve_targets(
    targets: dict[str, list[ast.TargetStmt]],
) -> tuple[dict[str, Target], dict[str, ast.Span]]:
    """One `Target` per metric: the main target plus a `by source` override (language.md)."""
    out: dict[str, Target] = {}
    spans: dict[str, ast.Span] = {}
    for metric in METRICS:
        stmts = targets.get(metric)
        if not stmts:
            continue
        spans[metric] = stmts[0].span
        over = next((t for t in stmts if _is_source_override(t)), None)
        main = next((t for t in stmts if not _is_source_override(t)), None)
        seconds = table = None
        if main is not None:
            if isinstance(main.value, ast.Duration):
                seconds = main.value.seconds
            else:
                table = _table(main.value)
        override = (
            _table(over.value) if over is not None and isinstance(over.value, ast.Table) else None
        )
        out[metric] = Target(metric, seconds, table, override)
    return out, spans


def positive(ctx: Context, file: str, dur: ast.Duration) -> bool:
    if dur.seconds <= 0:
        ctx.emit(file, dur.span, codes.not_positive(dur.raw))
        return False
    return True


def _target(
    ctx: Context,
    file: str,
    d: ast.LevelDecl,
    item: ast.TargetStmt,
    targets: dict[str, list[ast.TargetStmt]],
) -> None:
    metric = item.metric.value
    if isinstance(item.value, ast.Duration):
        positive(ctx, file, item.value)
    else:
        _check_table(ctx, file, item.value)
    prior = targets.setdefault(metric, [])
    kinds = [_is_source_override(t) for t in prior]
    mine = _is_source_override(item)
    if (mine and True in kinds) or (not mine and False in kinds):
        ctx.emit(file, item.span, codes.duplicate_target(d.name.value, metric))
        return
    prior.append(item)


def _check_table(ctx: Context, file: str, t: ast.Table) -> None:
    name = t.by.value
    ftype = ctx.model.fields.get(name)
    if ftype is None:
        ctx.emit(file, t.by.span, codes.unknown_field(name, ctx.model.fields))
    elif ftype not in ("text", "priority"):
        ctx.emit(file, t.by.span, codes.table_key_type(name, ftype))
    keys: set[str] = set()
    for row in t.rows:
        positive(ctx, file, row.duration)
        k = fold(row.key.value)
        if k in keys:
            ctx.emit(file, row.key.span, codes.duplicate_key(row.key.value))
        keys.add(k)
        if ftype == "priority":
            known_value(ctx, file, row.key.span, row.key.value, "priority")
        elif name in ("source", "status"):
            known_value(ctx, file, row.key.span, row.key.value, name)
    if t.else_duration is not None:
        positive(ctx, file, t.else_duration)
