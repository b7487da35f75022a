"""Checked model → `Policy`: every condition of a ruleset compiled as ONE Python module.

The compiler reads the resolved model (model.py) and re-derives nothing:
field types, comparable constants and targets come from `check`. The
ordered rule list becomes one generated function and each pause one
function, all compiled by a single `compile()` call per ruleset (start-up:
one call instead of one per condition). Each rule's tracing function for
`explain` is generated too, but only on the first `explain` (again one
`compile()` for all of them): `check` and `decide` never pay for them, and
they were half of a large ruleset's compile time.

Generated source only ever contains: fixed code written here, field names
(identifiers, guaranteed by the grammar, emitted with `repr`), and names of
constants `_cN`; every user value (strings, numbers, dates, regexes,
calendars, titles, level names) is passed in through the namespace as such
a constant. So user text never becomes code, and `exec` below is safe.

Evaluation reads each field once per call, folds and encodes text once per
call, and treats an unset or wrongly typed value as "does not match" (never
raises).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slarules.dsl.model import CAnd, CNot, Cond, COr, Model, RuleModel, TypedField, TypedLeaf
from slarules.dsl.prints import prints_of
from slarules.dsl.regex import MAX_MATCH_CHARS, compile_regex, unanchored
from slarules.dsl.unparse import leaf_text
from slarules.engine.calendar import Calendar, CalendarSpec
from slarules.engine.cancel import NEVER, Cancel
from slarules.engine.policy import (
    ConditionTrace,
    Decision,
    Fields,
    Level,
    Pause,
    Policy,
    RuleInfo,
    RuleTrace,
)

CalendarFactory = Callable[[CalendarSpec], Calendar]


class Consts:
    """The namespace shared by every function of one generated module."""

    def __init__(
        self, priorities: Sequence[str], tz: ZoneInfo, calendars: Mapping[str, Calendar]
    ) -> None:
        self.calendars = calendars
        self.ns: dict[str, Any] = {
            "_date": date,
            "_datetime": datetime,
            "_EMPTY": frozenset(),
            "_TZ": tz,
            "_RANK": {p.casefold(): i for i, p in enumerate(priorities)},
            "_Decision": Decision,
        }
        self._keys: dict[tuple[type, Any], str] = {}

    def const(self, value: Any) -> str:
        try:
            key: tuple[type, Any] | None = (type(value), value)
            hash(key)
        except TypeError:
            key = None
        if key is not None and key in self._keys:
            return self._keys[key]
        name = f"_c{len(self.ns)}"
        self.ns[name] = value
        if key is not None:
            self._keys[key] = name
        return name


class Codegen:
    """One generated function: conditions as Python expressions over prelude variables."""

    def __init__(self, consts: Consts) -> None:
        self.c = consts
        self.prelude: dict[str, str] = {}

    def const(self, value: Any) -> str:
        return self.c.const(value)

    def _var(self, name: str, code: str) -> str:
        if name not in self.prelude:
            self.prelude[name] = code
        return name

    def raw(self, field: str) -> str:
        return self._var(f"r_{field}", f"g({field!r})")

    def typed(self, ref: TypedField) -> str:
        """The variable holding the field (or part) as its comparable value, or None."""
        f = ref.name
        r = self.raw(f)
        if ref.part is not None:
            ftype = ref.whole.type
            whole = self.typed(ref.whole)
            if ref.part == "weekday":
                conv = ".astimezone(_TZ).weekday()" if ftype == "datetime" else ".weekday()"
                return self._var(f"w_{f}", f"{whole}{conv} if {whole} is not None else None")
            return self._var(
                f"h_{f}", f"{whole}.astimezone(_TZ).hour if {whole} is not None else None"
            )
        t = ref.type
        if t == "text":
            return self._var(f"t_{f}", f"{r}.casefold() if {r}.__class__ is str and {r} else None")
        if t == "number":
            return self._var(
                f"n_{f}", f"{r} if ({r}.__class__ is int or {r}.__class__ is float) else None"
            )
        if t == "bool":
            return self._var(f"b_{f}", f"{r} if {r}.__class__ is bool else None")
        if t == "date":
            return self._var(f"d_{f}", f"{r} if {r}.__class__ is _date else None")
        if t == "datetime":
            return self._var(
                f"dt_{f}", f"{r} if isinstance({r}, _datetime) and {r}.tzinfo is not None else None"
            )
        if t == "priority":
            return self._var(
                f"p_{f}", f"_RANK.get({r}.casefold()) if {r}.__class__ is str else None"
            )
        return self._var(
            f"l_{f}",
            f"{{x.casefold() for x in {r} if x.__class__ is str}} "
            f"if ({r}.__class__ is tuple or {r}.__class__ is list) else _EMPTY",
        )  # list: a set of folded strings

    def encoded(self, field: str) -> str:
        """The field's text as capped UTF-8 bytes (once per call), or None."""
        r = self.raw(field)
        return self._var(
            f"e_{field}",
            f"{r}[:{MAX_MATCH_CHARS}].encode('utf-8', 'surrogatepass') "
            f"if {r}.__class__ is str and {r} else None",
        )

    # ---- expressions --------------------------------------------------------------

    def expr(self, e: Cond, rec: bool = False) -> str:
        """Python source for `e`; with rec, every leaf is recorded via `_rec` (no short cut)."""
        if isinstance(e, CAnd | COr):
            parts = [self.expr(i, rec) for i in e.items]
            if rec:
                fn = "all" if isinstance(e, CAnd) else "any"
                return f"{fn}(({', '.join(parts)},))"
            word = " and " if isinstance(e, CAnd) else " or "
            return "(" + word.join(parts) + ")"
        if isinstance(e, CNot):
            return f"(not {self.expr(e.operand, rec)})"
        code = self.leaf(e)
        if e.negated:
            code = f"(not {code})"
        if rec:
            k = self.const(leaf_text(e.node))
            return f"_rec({k}, {self.raw(e.left.name)}, {code})"
        return code

    def leaf(self, e: TypedLeaf) -> str:
        """The positive test (negation is applied by `expr`)."""
        op = e.op
        if op == "is set":
            r = self.raw(e.left.name)
            return f"({r} is not None and {r} != '' and {r} != () and {r} != [])"
        v = self.typed(e.left)
        if op == "bare":
            return f"({v} is True)"
        if op == "during":
            assert e.calendar is not None
            cal = self.const(self.c.calendars[e.calendar])
            return f"({v} is not None and {cal}.is_open({v}))"
        if op == "matches":
            assert e.pattern is not None
            b = self.encoded(e.left.name)
            m = self.const(compile_regex(*e.pattern)._regexp.Match)
            if "_U" not in self.c.ns:
                self.c.ns["_U"] = unanchored()
            return f"({b} is not None and {m}(_U, {b}, 0, len({b}))[0][0] >= 0)"
        if e.right is not None:
            return self._fields(e, v, self.typed(e.right))
        lt, value = e.left.type, e.value
        if op == "in":
            return f"({v} in {self.const(value)})"
        if op == "contains any":
            return f"(not {v}.isdisjoint({self.const(value)}))"
        if op == "contains all":
            return f"({self.const(value)} <= {v})"
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

    def _fields(self, e: TypedLeaf, v: str, w: str) -> str:
        op = e.op
        if op == "==":
            if e.left.type == "bool":
                return f"({v} is not None and {v} is {w})"
            return f"({v} is not None and {v} == {w})"
        if op in ("<", "<=", ">", ">="):
            return f"({v} is not None and {w} is not None and {v} {op} {w})"
        if op == "contains":
            if e.left.type == "list":
                return f"({w} is not None and {w} in {v})"
            return f"({v} is not None and {w} is not None and {w} in {v})"
        meth = "startswith" if op == "starts with" else "endswith"
        return f"({v} is not None and {w} is not None and {v}.{meth}({w}))"

    def source(self, name: str, body: str, args: str = "f") -> str:
        raws = sum(1 for n in self.prelude if n.startswith("r_"))
        lines = ["    g = f.get"] if raws > 2 else []
        for n, code in self.prelude.items():
            if raws <= 2 and n.startswith("r_"):
                code = "f.get" + code[1:]  # `g(...)` -> `f.get(...)`: no binding for 1-2 reads
            lines.append(f"    {n} = {code}")
        return f"def {name}({args}):\n" + "\n".join([*lines, body]) + "\n"


class ModuleBuilder:
    """Collects generated functions and compiles them all with one `compile()` call."""

    def __init__(self, consts: Consts, fields: Mapping[str, str]) -> None:
        self.consts = consts
        self.fields = fields
        self.sources: list[str] = []
        self.names: list[str] = []

    def gen(self) -> Codegen:
        return Codegen(self.consts)

    def add(self, gen: Codegen, name: str, body: str, args: str = "f") -> int:
        self.sources.append(gen.source(name, body, args))
        self.names.append(name)
        return len(self.names) - 1

    def build(self) -> list[Callable[..., Any]]:
        """Compile: the constants become closure cells (fast loads) of a factory `_make`."""
        params = ", ".join(self.consts.ns)
        inner = "".join(self.sources)
        returns = "".join(f"{n}, " for n in self.names)
        src = f"def _make({params}):\n{textwrap.indent(inner, '    ')}    return ({returns})\n"
        code = compile(src, "<slarules:rules>", "exec")
        scope: dict[str, Any] = {}
        exec(code, scope)  # generated from fixed templates and identifiers only
        return list(scope["_make"](**self.consts.ns))


def compile_conditions(
    conds: Sequence[Cond],
    fields: Mapping[str, str],
    priorities: Sequence[str],
    tz: ZoneInfo,
    calendars: Mapping[str, Calendar],
) -> list[Callable[[Fields], bool]]:
    """Several checked conditions (e.g. every leaf, for the analysis) in one module."""
    mb = ModuleBuilder(Consts(priorities, tz, calendars), fields)
    for i, c in enumerate(conds):
        gen = mb.gen()
        mb.add(gen, f"_c_{i}", f"    return {gen.expr(c)}")
    return mb.build() if conds else []


# The built-in calendar `always` (same spec as `slarules.engine.calendar.always()`).
_ALWAYS = CalendarSpec("always", "UTC", {d: ((0, 1440),) for d in range(7)})


def compile_policy(
    model: Model,
    files: Sequence[str],
    version: str,
    calendar_factory: CalendarFactory | None = None,
    cancel: Cancel = NEVER,
) -> Policy:
    """The Policy for a checked model (call only when the checker found no errors).

    `cancel.check()` is polled per rule and before the generated module is compiled."""
    tz = ZoneInfo(model.timezone)
    factory = calendar_factory or Calendar
    calendars: dict[str, Calendar] = {"always": factory(_ALWAYS)}
    for name, spec in model.calendars.items():
        calendars[name] = factory(spec)
    mb = ModuleBuilder(Consts(model.priorities, tz, calendars), model.fields)
    infos = tuple(RuleInfo(r.title, r.file, r.span.line, r.set_level, r.stop) for r in model.rules)

    decide_at = _decide_source(mb, model, infos, cancel)
    pause_at: dict[tuple[str, int], int] = {}
    for lm in model.levels.values():
        for j, p in enumerate(lm.pauses):
            gen = mb.gen()
            pause_at[(lm.name, j)] = mb.add(
                gen, f"_pause_{len(pause_at)}", f"    return {gen.expr(p.condition)}"
            )
    prints = prints_of(model)  # before the last poll: a cancelled build stops after it
    cancel.check()
    fns = mb.build()

    levels: dict[str, Level] = {}
    for lm in model.levels.values():
        pauses = tuple(
            Pause(fns[pause_at[(lm.name, j)]], p.metrics, p.text) for j, p in enumerate(lm.pauses)
        )
        levels[lm.name] = Level(
            lm.name,
            calendars[lm.calendar],
            lm.calendar,
            lm.title,
            dict(lm.targets),
            pauses,
            lm.warn_percents,
            lm.warn_befores,
        )
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
        decide_fn=fns[decide_at],
        explain_fn=_explain_fn(model, infos, lambda: _explain_checks(model, tz, calendars)),
        sources=model.sources,
        prints=prints,
    )


def _always(f: Fields, rec: Any) -> bool:
    return True


def _explain_checks(
    model: Model, tz: ZoneInfo, calendars: Mapping[str, Calendar]
) -> list[Callable[..., bool]]:
    """Each rule's condition recording every leaf via `_rec` (one module for all rules)."""
    mb = ModuleBuilder(Consts(model.priorities, tz, calendars), model.fields)
    at = []
    for i, r in enumerate(model.rules):
        if r.when is None:
            at.append(-1)
            continue
        gen = mb.gen()
        at.append(
            mb.add(gen, f"_explain_{i}", f"    return {gen.expr(r.when, rec=True)}", "f, _rec")
        )
    fns = mb.build() if mb.names else []
    return [fns[k] if k >= 0 else _always for k in at]


def _decide_source(
    mb: ModuleBuilder, model: Model, infos: tuple[RuleInfo, ...], cancel: Cancel = NEVER
) -> int:
    gen = mb.gen()
    default = model.default_level
    body = [
        f"    level = {gen.const(default)}",
        f"    by = {gen.const('default' if default is not None else None)}",
        "    m = []",
    ]
    for r, info in zip(model.rules, infos, strict=True):
        cancel.check()
        cond = gen.expr(r.when) if r.when is not None else "True"
        title = gen.const(info.title)
        body.append(f"    if {cond}:")
        body.append(f"        m.append({title})")
        if r.set_level is not None:
            body.append(f"        level = {gen.const(r.level)}")
            body.append(f"        by = {title}")
        if r.stop:
            body.append("        return _Decision(level, by, tuple(m))")
    body.append("    return _Decision(level, by, tuple(m))")
    return mb.add(gen, "_decide", "\n".join(body))


def _explain_fn(
    model: Model,
    infos: tuple[RuleInfo, ...],
    make_checks: Callable[[], list[Callable[..., bool]]],
) -> Callable[[Fields], Decision]:
    """Rule by rule with a trace; rules after the stopping one appear as not matched,
    with no conditions (they were not evaluated). Every leaf of an evaluated rule is
    evaluated and recorded, so the trace shows all of them. The tracing functions
    are compiled on the first call (two threads racing both build the same ones)."""
    default = model.default_level
    rules: list[RuleModel] = list(model.rules)
    compiled: list[list[Callable[..., bool]]] = []

    def explain(fields: Fields) -> Decision:
        if not compiled:
            compiled.append(make_checks())
        checks = compiled[0]
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
                    level = r.level
                    by = info.title
                stopped = r.stop
            traces.append(RuleTrace(info, ok, ok and r.stop, tuple(recs)))
        return Decision(level, by, tuple(matched), tuple(traces))

    return explain
