"""Checks of `rule` and `default level` declarations, and of names nothing uses."""

from __future__ import annotations

from slarules.dsl import ast, codes
from slarules.dsl.check_calendar import Seen
from slarules.dsl.check_condition import condition
from slarules.dsl.checker import Context
from slarules.dsl.model import RuleModel


def level_ref(ctx: Context, file: str, name: ast.Name) -> bool:
    if name.value in ctx.model.levels:
        return True
    if not ctx.names_declared(ast.LevelDecl, name.value):
        ctx.emit(file, name.span, codes.unknown_level(name.value, sorted(ctx.model.levels)))
    return False


def default_level(ctx: Context) -> None:
    for file, d in ctx.declared.get(ast.DefaultDecl, [])[:1]:
        if d.level.value == "none":
            ctx.emit(file, d.level.span, codes.default_level_none())
        elif level_ref(ctx, file, d.level):
            ctx.model.default_level = d.level.value
            ctx.model.default_span = d.span
            ctx.model.default_file = file


def rules(ctx: Context) -> None:
    decls: list[tuple[str, ast.RuleDecl]] = ctx.declared.get(ast.RuleDecl, [])
    titles: dict[str, tuple[str, int]] = {}
    stopper: tuple[str, ast.RuleDecl] | None = None
    for file, r in decls:
        ctx.cancel.check()
        title = r.title.value
        if title == "default":
            ctx.emit(file, r.title.span, codes.rule_titled_default())
        elif title in titles:
            f0, line0 = titles[title]
            ctx.emit(file, r.title.span, codes.duplicate_name(f'rule "{title}"', f"{f0}:{line0}"))
        else:
            titles[title] = (file, r.span.line)
        when = condition(ctx, file, r.when) if r.when is not None else None
        if r.set_level is not None and r.set_level.value != "none":
            level_ref(ctx, file, r.set_level)
        if stopper is not None:
            sf, sr = stopper
            where = f"{sf}:{sr.span.line}"
            ctx.emit(file, _keyword(r), codes.unreachable_rule(title, sr.title.value, where))
        elif r.when is None and r.stop:
            stopper = (file, r)
        ctx.model.rules.append(
            RuleModel(
                title,
                file,
                r.span,
                when,
                r.set_level.value if r.set_level is not None else None,
                r.stop,
                r.when_span,
                r.stop_span,
            )
        )
    _overwritten(ctx, decls)


def _keyword(r: ast.RuleDecl) -> ast.Span:
    """The `rule` keyword (unreachable rules are marked there)."""
    s = r.span
    return ast.Span(s.line, s.column, s.line, s.column + 4)


def _overwritten(ctx: Context, decls: list[tuple[str, ast.RuleDecl]]) -> None:
    for i, (file, r) in enumerate(decls):
        ctx.cancel.check()
        if r.stop or r.set_level is None:
            continue
        for _f2, later in decls[i + 1 :]:
            if later.when is None and later.set_level is not None:
                msg = codes.overwritten_level(r.title.value, later.title.value)
                ctx.emit(file, _keyword(r), msg)
                break
            if later.stop:
                break


def unused(ctx: Context, levels: Seen, calendars: Seen) -> None:
    used = {r.set_level for r in ctx.model.rules if r.set_level is not None}
    used.update(d.level.value for _f, d in ctx.declared.get(ast.DefaultDecl, []))
    for name, (file, span) in levels.items():
        if name not in used:
            ctx.emit(file, span, codes.unused_level(name))
    for name, (file, span) in calendars.items():
        if name not in ctx.used_calendars:
            ctx.emit(file, span, codes.unused_calendar(name))
