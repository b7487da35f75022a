"""Checks of `timezone`, `schema` and `statuses`, and of declarations that may appear once."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from slarules.dsl import ast, codes
from slarules.dsl.checker import Context
from slarules.dsl.names import BUILTIN_FIELDS, RESERVED
from slarules.engine.policy import Category, fold

_ONCE = {
    ast.TimezoneDecl: "`timezone` declaration",
    ast.SchemaDecl: "`schema` declaration",
    ast.StatusesDecl: "`statuses` declaration",
    ast.DefaultDecl: "`default level` declaration",
}


@functools.cache
def timezones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def singletons(ctx: Context) -> None:
    for kind, word in _ONCE.items():
        items = ctx.declared.get(kind, [])
        for file, d in items[1:]:
            f0, first = items[0]
            ctx.emit(file, d.span, codes.duplicate_declaration(word, f"{f0}:{first.span.line}"))


def zone(ctx: Context, file: str, z: ast.Str) -> bool:
    if z.value in timezones():
        return True
    ctx.emit(file, z.span, codes.unknown_timezone(z.value, sorted(timezones())))
    return False


def timezone(ctx: Context) -> None:
    for file, d in ctx.declared.get(ast.TimezoneDecl, [])[:1]:
        if zone(ctx, file, d.zone):
            ctx.model.timezone = d.zone.value


def schema(ctx: Context) -> None:
    for file, d in ctx.declared.get(ast.SchemaDecl, [])[:1]:
        firsts: dict[type, ast.SchemaItem] = {}
        for item in d.items:
            if isinstance(item, ast.FieldStmt):
                _custom_field(ctx, file, item)
                continue
            if type(item) in firsts:
                word = "priorities" if isinstance(item, ast.PrioritiesStmt) else "sources"
                where = f"line {firsts[type(item)].span.line}"
                ctx.emit(
                    file,
                    item.span,
                    codes.duplicate_declaration(f"`{word}` line in `schema`", where),
                )
                continue
            firsts[type(item)] = item
            names = _unique_keys(ctx, file, item.names)
            if isinstance(item, ast.PrioritiesStmt):
                ctx.model.priorities = names
            else:
                ctx.model.sources = names


def _unique_keys(ctx: Context, file: str, keys: Sequence[ast.Key]) -> tuple[str, ...]:
    out: dict[str, str] = {}
    for k in keys:
        if fold(k.value) in out:
            ctx.emit(file, k.span, codes.listed_twice(k.value))
        else:
            out[fold(k.value)] = k.value
    return tuple(out.values())


def _custom_field(ctx: Context, file: str, item: ast.FieldStmt) -> None:
    name = item.name.value
    if name in RESERVED:
        ctx.emit(file, item.name.span, codes.reserved_name(name, "field"))
    elif name in BUILTIN_FIELDS:
        ctx.emit(file, item.name.span, codes.builtin_field(name))
    elif name in ctx.model.fields:
        ctx.emit(file, item.name.span, codes.duplicate_name(f"field `{name}`"))
    else:
        ctx.model.fields[name] = item.type


def statuses(ctx: Context) -> None:
    for file, d in ctx.declared.get(ast.StatusesDecl, [])[:1]:
        found: dict[str, Category] = {}
        for item in d.items:
            category: Category = item.category
            for s in item.names:
                key = fold(s.value)
                if key in found:
                    ctx.emit(file, s.span, codes.status_twice(s.value, found[key]))
                else:
                    found[key] = category
        present = {i.category for i in d.items}
        for needed in ("open", "done"):
            if needed not in present:
                ctx.emit(file, d.span, codes.missing_category(needed))
        ctx.model.statuses = found
