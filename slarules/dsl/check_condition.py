"""Checks of conditions (rule `when`s and pauses) → typed conditions (`model.Cond`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slarules.dsl import ast, codes
from slarules.dsl.checker import Context
from slarules.dsl.model import CAnd, CNot, Cond, COr, TypedField, TypedLeaf
from slarules.dsl.names import DAYS
from slarules.dsl.regex import RegexError, RegexTooComplex, compile_regex
from slarules.engine.policy import fold

_ORDERED = {"number", "date", "datetime", "priority", "weekday"}
_EQUALITY = {"text", "number", "bool", "date", "datetime", "priority", "weekday"}
_MEMBERSHIP = {"text", "number", "priority", "weekday"}
_LIT_TYPE = {
    ast.Str: "string",
    ast.Num: "number",
    ast.Bool: "bool",
    ast.DateLit: "date",
    ast.DateTimeLit: "datetime",
}
_POSITIVE = {"!=": "==", "not in": "in"}


def condition(ctx: Context, file: str, e: ast.Expr) -> Cond | None:
    """The typed condition, or None when it has an error (every error is reported)."""
    if isinstance(e, ast.Group):
        return condition(ctx, file, e.inner)
    if isinstance(e, ast.Not):
        inner = condition(ctx, file, e.operand)
        return None if inner is None else CNot(inner)
    if isinstance(e, ast.And | ast.Or):
        items = [condition(ctx, file, i) for i in e.items]
        if any(i is None for i in items):
            return None
        checked = tuple(i for i in items if i is not None)
        return CAnd(checked) if isinstance(e, ast.And) else COr(checked)
    return _leaf(ctx, file, e)


def known_value(ctx: Context, file: str, span: ast.Span, value: str, kind: str) -> bool:
    pool: Iterable[str]
    if kind == "priority":
        pool = ctx.model.priorities
    elif kind == "source":
        if ctx.model.sources is None:
            return True
        pool = ctx.model.sources
    elif kind == "status":
        pool = ctx.model.statuses
    else:
        pool = DAYS
    if fold(value) in {fold(p) for p in pool}:
        return True
    ctx.emit(file, span, codes.UNKNOWN_VALUE[kind](value, pool))
    return False


def field_type(ctx: Context, file: str, ref: ast.FieldRef) -> TypedField | None:
    base = ctx.model.fields.get(ref.name)
    if base is None:
        ctx.emit(file, ref.span, codes.unknown_field(ref.name, ctx.model.fields))
        return None
    if ref.part is None:
        return TypedField(ref.name, None, base, base)
    if ref.part == "weekday" and base in ("date", "datetime"):
        return TypedField(ref.name, "weekday", "weekday", base)
    if ref.part == "hour" and base == "datetime":
        return TypedField(ref.name, "hour", "number", base)
    if ref.part in ("weekday", "hour"):
        ctx.emit(file, ref.span, codes.part_needs(ref.text, ref.part, ref.name, base))
    else:
        ctx.emit(file, ref.span, codes.unknown_part(ref.text, ref.part))
    return None


def _leaf(ctx: Context, file: str, e: ast.Leaf) -> TypedLeaf | None:
    lt = field_type(ctx, file, e.left)
    if isinstance(e, ast.IsSet):
        return None if lt is None else TypedLeaf(e, lt, "is set", e.negated)
    if isinstance(e, ast.During):
        from slarules.dsl.check_level import calendar_ref

        calendar_ref(ctx, file, e.calendar)
        if lt is not None and lt.type != "datetime":
            ctx.emit(
                file, e.span, codes.needs_type("during", "a date-time field", e.left.text, lt.type)
            )
            return None
        if lt is None or not (
            e.calendar.value == "always" or e.calendar.value in ctx.model.calendars
        ):
            return None
        return TypedLeaf(e, lt, "during", calendar=e.calendar.value)
    if isinstance(e, ast.Bare):
        if lt is not None and lt.type != "bool":
            ctx.emit(file, e.span, codes.not_a_bool(e.left.text, lt.type))
            return None
        return None if lt is None else TypedLeaf(e, lt, "bare")
    if isinstance(e, ast.Matches):
        ok = _regex(ctx, file, e.regex)
        if lt is not None and lt.type != "text":
            ctx.emit(
                file, e.span, codes.needs_type("matches", "a text field", e.left.text, lt.type)
            )
            return None
        if lt is None or not ok:
            return None
        return TypedLeaf(e, lt, "matches", pattern=(e.regex.pattern, e.regex.ignore_case))
    return _compare(ctx, file, e, lt)


def _regex(ctx: Context, file: str, rx: ast.Regex) -> bool:
    try:
        compile_regex(rx.pattern, rx.ignore_case)
    except RegexTooComplex as err:
        ctx.emit(file, rx.span, codes.regex_too_complex(rx.raw, err.size, err.limit))
        return False
    except RegexError as err:
        ctx.emit(file, rx.span, codes.invalid_regex(rx.raw, str(err)))
        return False
    return True


def _compare(ctx: Context, file: str, e: ast.Compare, lt: TypedField | None) -> TypedLeaf | None:
    op, right = e.op, e.right
    rt: TypedField | None = None
    if isinstance(right, ast.FieldRef):
        rt = field_type(ctx, file, right)
        if rt is None:
            return None
    if lt is None:
        return None
    left, ltype = e.left.text, lt.type
    pos = _POSITIVE.get(op, op)
    negated = op in _POSITIVE

    def mismatch(msg: codes.Msg) -> None:
        ctx.emit(file, e.span, msg)

    if pos in ("==", "<", "<=", ">", ">="):
        allowed = _EQUALITY if pos == "==" else _ORDERED
        if ltype not in allowed:
            hint = None
            if ltype == "list" and isinstance(right, ast.Str):
                hint = f"to test membership, write `{left} contains {right.raw}`"
            elif ltype == "text" and pos != "==":
                hint = "text has no order; use `==`, `in`, `starts with` or `matches`"
            mismatch(codes.cannot_compare(op, left, ltype, hint))
            return None
        assert not isinstance(right, ast.ListLit)
        ok, value = _operand(ctx, file, e, lt, right, rt)
        return TypedLeaf(e, lt, pos, negated, value, rt) if ok else None
    if pos == "in":
        if ltype not in _MEMBERSHIP:
            hint = f"write `{left} contains any […]`" if ltype == "list" else None
            mismatch(codes.cannot_test(op, left, ltype, hint))
            return None
        assert isinstance(right, ast.ListLit)
        results = [_operand(ctx, file, e, lt, item, None) for item in right.items]
        if not all(ok for ok, _ in results):
            return None
        values = frozenset(v for _, v in results if v is not None and v != "")
        return TypedLeaf(e, lt, "in", negated, values)
    if pos in ("contains any", "contains all"):
        if ltype != "list":
            hint = f"write `{left} in […]`" if ltype in _MEMBERSHIP else None
            mismatch(codes.needs_type(op, "a list field", left, ltype, hint))
            return None
        assert isinstance(right, ast.ListLit)
        text = TypedField(lt.name, lt.part, "text", lt.base)
        results = [_operand(ctx, file, e, text, item, None) for item in right.items]
        if not all(ok for ok, _ in results):
            return None
        return TypedLeaf(e, lt, pos, False, frozenset(v for _, v in results))
    if pos == "contains":
        if ltype not in ("list", "text"):
            mismatch(codes.needs_type("contains", "a list or text field", left, ltype))
            return None
    elif ltype != "text":  # starts with / ends with
        mismatch(codes.needs_type(op, "a text field", left, ltype))
        return None
    assert not isinstance(right, ast.ListLit)
    ok, value = _operand(ctx, file, e, TypedField(lt.name, lt.part, "text", lt.base), right, rt)
    return TypedLeaf(e, lt, pos, False, value, rt) if ok else None


def _operand(
    ctx: Context,
    file: str,
    e: ast.Compare,
    lt: TypedField,
    right: ast.Operand,
    rt: TypedField | None,
) -> tuple[bool, Any]:
    """Whether one right-hand value fits the left side's type, and its comparable value."""
    left, ltype = e.left, lt.type
    if isinstance(right, ast.FieldRef):
        if rt is not None and rt.type != ltype:
            ctx.emit(file, e.span, codes.fields_differ(left.text, ltype, right.text, rt.type))
            return False, None
        return True, None
    kind = _LIT_TYPE[type(right)]
    want = {"text": "string", "priority": "string", "weekday": "string"}.get(ltype, ltype)
    if kind != want:
        hint = None
        if ltype == "date" and kind == "datetime":
            hint = f"`{left.text}` is a date: compare it with a date like 2026-03-01"
        elif ltype == "datetime" and kind == "date":
            hint = (
                f"`{left.text}` is a date-time: compare it with a date-time like "
                "2026-03-01T00:00:00Z"
            )
        elif ltype == "bool" and kind == "string":
            hint = f"write `{left.text}` for true and `not {left.text}` for false"
        elif want == "string":
            hint = "write the value as a string in double quotes"
        ctx.emit(file, right.span, codes.literal_differs(left.text, ltype, kind, hint))
        return False, None
    if isinstance(right, ast.DateLit | ast.DateTimeLit) and right.value is None:
        what = "date" if isinstance(right, ast.DateLit) else "date-time"
        ctx.emit(file, right.span, codes.invalid_date(right.raw, what))
        return False, None
    if not isinstance(right, ast.Str):
        return True, right.value
    value = fold(right.value)
    if ltype == "priority":
        ranks = {fold(p): i for i, p in enumerate(ctx.model.priorities)}
        return known_value(ctx, file, right.span, right.value, "priority"), ranks.get(value)
    if ltype == "weekday":
        ok = known_value(ctx, file, right.span, right.value, "weekday")
        return ok, DAYS.index(value) if value in DAYS else None
    if (
        left.part is None
        and e.op in ("==", "!=", "in", "not in")
        and left.name in ("status", "source")
    ):
        return known_value(ctx, file, right.span, right.value, left.name), value
    return True, value
