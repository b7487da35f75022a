"""Checked model → `Policy`: conditions compiled once into plain Python functions.

The ordered rule list becomes ONE generated function (and each pause one
function). Generated source only ever contains: fixed code written here,
field names (identifiers, guaranteed by the grammar, emitted with `repr`),
and names of constants `_cN`; every user value (strings, numbers, dates,
regexes, calendars, titles, level names) is passed in through the exec
namespace as such a constant. So user text never becomes code, and
compiling with `exec` below is safe.

Evaluation reads each field once per call, folds text once per call, and
treats an unset or wrongly typed value as "does not match" (never raises).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slarules.dsl import ast
from slarules.dsl.checker import Model
from slarules.dsl.names import DAYS
from slarules.dsl.regex import compile_regex
from slarules.dsl.unparse import expr_text, leaf_text
from slarules.engine.calendar import Calendar, CalendarSpec
from slarules.engine.policy import (
    METRICS,
    ConditionTrace,
    Decision,
    Fields,
    Level,
    Pause,
    Policy,
    RuleInfo,
    RuleTrace,
    Table,
    Target,
    fold,
)

CalendarFactory = Callable[[CalendarSpec], Calendar]


class Codegen:
    """Turns conditions into Python expressions over prelude variables and constants."""

    def __init__(
        self,
        fields: Mapping[str, str],
        priorities: Sequence[str],
        tz: ZoneInfo,
        calendars: Mapping[str, Calendar],
    ) -> None:
        self.fields = fields
        self.ranks = {fold(p): i for i, p in enumerate(priorities)}
        self.calendars = calendars
        self.ns: dict[str, Any] = {
            "_date": date,
            "_datetime": datetime,
            "_EMPTY": frozenset(),
            "_TZ": tz,
            "_RANK": self.ranks,
        }
        self._consts: dict[tuple[type, Any], str] = {}
        self.prelude: dict[str, str] = {}

    # ---- constants and per-call variables -----------------------------------------

    def const(self, value: Any) -> str:
        try:
            key: tuple[type, Any] | None = (type(value), value)
            hash(key)
        except TypeError:
            key = None
        if key is not None and key in self._consts:
            return self._consts[key]
        name = f"_c{len(self.ns)}"
        self.ns[name] = value
        if key is not None:
            self._consts[key] = name
        return name

    def _var(self, name: str, code: str) -> str:
        if name not in self.prelude:
            self.prelude[name] = code
        return name

    def raw(self, field: str) -> str:
        return self._var(f"r_{field}", f"g({field!r})")

    def typed(self, ref: ast.FieldRef) -> str:
        """The variable holding the field (or part) as its comparable value, or None."""
        f = ref.name
        r = self.raw(f)
        ftype = self.fields[f]
        if ref.part == "weekday":
            base = self.typed(ast.FieldRef(f))
            conv = ".astimezone(_TZ).weekday()" if ftype == "datetime" else ".weekday()"
            return self._var(f"w_{f}", f"{base}{conv} if {base} is not None else None")
        if ref.part == "hour":
            base = self.typed(ast.FieldRef(f))
            return self._var(
                f"h_{f}", f"{base}.astimezone(_TZ).hour if {base} is not None else None"
            )
        if ftype == "text":
            return self._var(f"t_{f}", f"{r}.casefold() if {r}.__class__ is str and {r} else None")
        if ftype == "number":
            return self._var(
                f"n_{f}", f"{r} if ({r}.__class__ is int or {r}.__class__ is float) else None"
            )
        if ftype == "bool":
            return self._var(f"b_{f}", f"{r} if {r}.__class__ is bool else None")
        if ftype == "date":
            return self._var(f"d_{f}", f"{r} if {r}.__class__ is _date else None")
        if ftype == "datetime":
            return self._var(
                f"dt_{f}", f"{r} if isinstance({r}, _datetime) and {r}.tzinfo is not None else None"
            )
        if ftype == "priority":
            return self._var(
                f"p_{f}", f"_RANK.get({r}.casefold()) if {r}.__class__ is str else None"
            )
        return self._var(
            f"l_{f}",
            f"{{x.casefold() for x in {r} if x.__class__ is str}} "
            f"if ({r}.__class__ is tuple or {r}.__class__ is list) "
            "else _EMPTY",
        )  # list: a set of folded strings

    def text_raw(self, field: str) -> str:
        r = self.raw(field)
        return self._var(f"s_{field}", f"{r} if {r}.__class__ is str and {r} else None")

    def ltype(self, ref: ast.FieldRef) -> str:
        if ref.part == "weekday":
            return "weekday"
        if ref.part == "hour":
            return "number"
        return self.fields[ref.name]

    def value(self, lt: str, lit: ast.Literal) -> Any:
        """A literal as the comparable value for a left side of type `lt`."""
        if isinstance(lit, ast.Str):
            if lt == "priority":
                return self.ranks.get(fold(lit.value))
            if lt == "weekday":
                return DAYS.index(fold(lit.value)) if fold(lit.value) in DAYS else None
            return fold(lit.value)
        return lit.value

    # ---- expressions --------------------------------------------------------------

    def expr(self, e: ast.Expr, rec: bool = False) -> str:
        """Python source for `e`; with rec, every leaf is recorded via `_rec` (no short cut)."""
        if isinstance(e, ast.And | ast.Or):
            parts = [self.expr(i, rec) for i in e.items]
            if rec:
                fn = "all" if isinstance(e, ast.And) else "any"
                return f"{fn}(({', '.join(parts)},))"
            word = " and " if isinstance(e, ast.And) else " or "
            return "(" + word.join(parts) + ")"
        if isinstance(e, ast.Not):
            return f"(not {self.expr(e.operand, rec)})"
        if isinstance(e, ast.Group):
            return self.expr(e.inner, rec)
        code = self.leaf(e)
        if rec:
            k = self.const(leaf_text(e))
            return f"_rec({k}, {self.raw(e.left.name)}, {code})"
        return code

    def leaf(self, e: ast.Leaf) -> str:
        if isinstance(e, ast.IsSet):
            r = self.raw(e.left.name)
            p = f"({r} is not None and {r} != '' and {r} != () and {r} != [])"
            return f"(not {p})" if e.negated else p
        if isinstance(e, ast.Bare):
            return f"({self.typed(e.left)} is True)"
        if isinstance(e, ast.During):
            v = self.typed(e.left)
            cal = self.const(self.calendars[e.calendar.value])
            return f"({v} is not None and {cal}.is_open({v}))"
        if isinstance(e, ast.Matches):
            s = self.text_raw(e.left.name)
            rx = self.const(compile_regex(e.regex.pattern, e.regex.ignore_case))
            return f"({s} is not None and {rx}.search({s}) is not None)"
        negate = e.op in ("!=", "not in")
        op = {"!=": "==", "not in": "in"}.get(e.op, e.op)
        code = self._positive(e, op)
        return f"(not {code})" if negate else code

    def _positive(self, e: ast.Compare, op: str) -> str:
        lt = self.ltype(e.left)
        v = self.typed(e.left)
        right = e.right
        if isinstance(right, ast.FieldRef):
            w = self.typed(right)
            if op == "==":
                if lt == "bool":
                    return f"({v} is not None and {v} is {w})"
                return f"({v} is not None and {v} == {w})"
            if op in ("<", "<=", ">", ">="):
                return f"({v} is not None and {w} is not None and {v} {op} {w})"
            if op == "contains":
                if lt == "list":
                    return f"({w} is not None and {w} in {v})"
                return f"({v} is not None and {w} is not None and {w} in {v})"
            meth = "startswith" if op == "starts with" else "endswith"
            return f"({v} is not None and {w} is not None and {v}.{meth}({w}))"
        if isinstance(right, ast.ListLit):
            if op == "in":
                values = frozenset(
                    x for x in (self.value(lt, i) for i in right.items) if x is not None and x != ""
                )
                return f"({v} in {self.const(values)})"
            items = frozenset(fold(i.value) for i in right.items if isinstance(i, ast.Str))
            if op == "contains any":
                return f"(not {v}.isdisjoint({self.const(items)}))"
            return f"({self.const(items)} <= {v})"  # contains all
        value = self.value(lt, right)
        if op == "==":
            if value is None or value == "":
                return "False"
            if lt == "bool":
                return f"({v} is {bool(value)!r})"
            return f"({v} == {self.const(value)})"
        if op in ("<", "<=", ">", ">="):
            if value is None:
                return "False"
            return f"({v} is not None and {v} {op} {self.const(value)})"
        c = self.const(value)
        if op == "contains":
            if lt == "list":
                return f"({c} in {v})"
            return f"({v} is not None and {c} in {v})"
        meth = "startswith" if op == "starts with" else "endswith"
        return f"({v} is not None and {v}.{meth}({c}))"

    def prelude_code(self, indent: str = "    ") -> str:
        raws = sum(1 for name in self.prelude if name.startswith("r_"))
        lines = [f"{indent}g = f.get"] if raws > 2 else []
        for name, code in self.prelude.items():
            if raws <= 2 and name.startswith("r_"):
                code = "f.get" + code[1:]  # `g(...)` -> `f.get(...)`: no binding for 1-2 reads
            lines.append(f"{indent}{name} = {code}")
        return "\n".join(lines)

    def function(self, name: str, body: str, args: str = "f") -> Callable[..., Any]:
        """Compile `def name(args): <prelude> <body>` as a closure over the constants.

        The constants become closure cells (fast loads) of a factory `_make`
        whose parameters are the namespace's names. Safe: the generated text
        holds no user text (see the module docstring)."""
        params = ", ".join(self.ns)
        inner = f"def {name}({args}):\n{self.prelude_code()}\n{body}\n"
        src = f"def _make({params}):\n{textwrap.indent(inner, '    ')}    return {name}\n"
        code = compile(src, f"<slarules:{name}>", "exec")
        scope: dict[str, Any] = {}
        exec(code, scope)  # generated from fixed templates and identifiers only
        fn: Callable[..., Any] = scope["_make"](**self.ns)
        return fn


def compile_condition(
    e: ast.Expr,
    fields: Mapping[str, str],
    priorities: Sequence[str],
    tz: ZoneInfo,
    calendars: Mapping[str, Calendar],
) -> Callable[[Fields], bool]:
    """One checked condition as a function of a ticket's fields."""
    gen = Codegen(fields, priorities, tz, calendars)
    body = f"    return {gen.expr(e)}"
    fn: Callable[[Fields], bool] = gen.function("_holds", body)
    return fn


def _explainer(e: ast.Expr | None, gen_args: tuple[Any, ...]) -> Callable[..., bool]:
    if e is None:
        return lambda f, rec: True
    gen = Codegen(*gen_args)
    return gen.function("_explain", f"    return {gen.expr(e, rec=True)}", "f, _rec")


def compile_policy(
    model: Model,
    files: Sequence[str],
    version: str,
    calendar_factory: CalendarFactory | None = None,
) -> Policy:
    """The Policy for a checked model (call only when the checker found no errors)."""
    tz = ZoneInfo(model.timezone)
    factory = calendar_factory or Calendar
    calendars: dict[str, Calendar] = {"always": factory(_ALWAYS)}
    for name, spec in model.calendars.items():
        calendars[name] = factory(spec)
    gen_args = (model.fields, model.priorities, tz, calendars)

    levels: dict[str, Level] = {}
    for _file, d in model.levels:
        levels[d.name.value] = _level(d, calendars, gen_args)

    infos = tuple(
        RuleInfo(
            r.title.value,
            file,
            r.span.line,
            r.set_level.value if r.set_level is not None else None,
            r.stop,
        )
        for file, r in model.rules
    )
    decide = _decide_fn(model, infos, gen_args)
    explain = _explain_fn(model, infos, gen_args)
    return Policy(
        version=version,
        files=tuple(files),
        timezone=tz,
        levels=levels,
        calendars=calendars,
        rules=infos,
        default_level=model.default_level,
        statuses=dict(model.statuses),
        fields=dict(model.fields),
        priorities=tuple(model.priorities),
        decide_fn=decide,
        explain_fn=explain,
        sources=model.sources,
    )


# The built-in calendar `always` (same spec as `slarules.engine.calendar.always()`).
_ALWAYS = CalendarSpec("always", "UTC", {d: ((0, 1440),) for d in range(7)})


def _table(t: ast.Table) -> Table:
    rows = {fold(r.key.value): r.duration.seconds for r in t.rows}
    return Table(t.by.value, rows, t.else_duration.seconds if t.else_duration else None)


def _level(d: ast.LevelDecl, calendars: Mapping[str, Calendar], gen_args: tuple[Any, ...]) -> Level:
    title: str | None = None
    cal_name = "always"
    mains: dict[str, ast.TargetStmt] = {}
    overrides: dict[str, ast.Table] = {}
    pauses: list[Pause] = []
    percents: list[float] = []
    befores: list[int] = []
    for item in d.items:
        if isinstance(item, ast.TitleStmt):
            title = item.title.value
        elif isinstance(item, ast.LevelCalendar):
            cal_name = item.calendar.value
        elif isinstance(item, ast.TargetStmt):
            v = item.value
            if isinstance(v, ast.Table) and v.by.value == "source" and v.else_duration is None:
                overrides[item.metric.value] = v
            else:
                mains[item.metric.value] = item
        elif isinstance(item, ast.PauseStmt):
            gen = Codegen(*gen_args)
            holds = gen.function("_holds", f"    return {gen.expr(item.condition)}")
            metrics = frozenset(m.value for m in item.metrics) or None
            pauses.append(Pause(holds, metrics, expr_text(item.condition)))
        elif isinstance(item, ast.WarnAt):
            percents.extend(p.value for p in item.percents)
        elif isinstance(item, ast.WarnBefore):
            befores.extend(x.seconds for x in item.durations)
    targets: dict[str, Target] = {}
    for metric in METRICS:
        main = mains.get(metric)
        over = overrides.get(metric)
        if main is None and over is None:
            continue
        seconds = table = None
        if main is not None:
            if isinstance(main.value, ast.Duration):
                seconds = main.value.seconds
            else:
                table = _table(main.value)
        targets[metric] = Target(metric, seconds, table, _table(over) if over is not None else None)
    return Level(
        d.name.value,
        calendars[cal_name],
        cal_name,
        title,
        targets,
        tuple(pauses),
        tuple(sorted(percents)),
        tuple(sorted(befores)),
    )


def _decide_fn(
    model: Model, infos: tuple[RuleInfo, ...], gen_args: tuple[Any, ...]
) -> Callable[[Fields], Decision]:
    gen = Codegen(*gen_args)
    gen.ns["_Decision"] = Decision
    default = model.default_level
    body = [
        f"    level = {gen.const(default)}",
        f"    by = {gen.const('default' if default is not None else None)}",
        "    m = []",
    ]
    for (_file, r), info in zip(model.rules, infos, strict=True):
        cond = gen.expr(r.when) if r.when is not None else "True"
        title = gen.const(info.title)
        body.append(f"    if {cond}:")
        body.append(f"        m.append({title})")
        if r.set_level is not None:
            lvl = None if r.set_level.value == "none" else r.set_level.value
            body.append(f"        level = {gen.const(lvl)}")
            body.append(f"        by = {title}")
        if r.stop:
            body.append("        return _Decision(level, by, tuple(m))")
    body.append("    return _Decision(level, by, tuple(m))")
    fn: Callable[[Fields], Decision] = gen.function("_decide", "\n".join(body))
    return fn


def _explain_fn(
    model: Model, infos: tuple[RuleInfo, ...], gen_args: tuple[Any, ...]
) -> Callable[[Fields], Decision]:
    """Rule by rule with a trace; rules after the stopping one appear as not matched,
    with no conditions (they were not evaluated). Every leaf of an evaluated rule is
    evaluated and recorded, so the trace shows all of them."""
    checks = [_explainer(r.when, gen_args) for _file, r in model.rules]
    default = model.default_level
    rules = [r for _f, r in model.rules]

    def explain(fields: Fields) -> Decision:
        level = default
        by = "default" if default is not None else None
        matched: list[str] = []
        traces: list[RuleTrace] = []
        stopped = False
        for r, info, check in zip(rules, infos, checks, strict=True):
            if stopped:
                traces.append(RuleTrace(info, False, False, ()))
                continue
            recs: list[ConditionTrace] = []

            def rec(src: str, value: Any, result: bool, _recs: list[ConditionTrace] = recs) -> bool:
                _recs.append(ConditionTrace(src, value, bool(result)))
                return bool(result)

            ok = bool(check(fields, rec))
            if ok:
                matched.append(info.title)
                if r.set_level is not None:
                    level = None if r.set_level.value == "none" else r.set_level.value
                    by = info.title
                stopped = r.stop
            traces.append(RuleTrace(info, ok, ok and r.stop, tuple(recs)))
        return Decision(level, by, tuple(matched), tuple(traces))

    return explain
