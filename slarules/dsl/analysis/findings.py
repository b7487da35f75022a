"""The findings of `check --analyze`, computed with BDDs over the abstraction (domain.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import islice
from typing import Any

from slarules.dsl import ast, codes
from slarules.dsl.analysis import messages
from slarules.dsl.analysis.bdd import FALSE
from slarules.dsl.analysis.domain import Domain
from slarules.dsl.analysis.witness import concretize, describe
from slarules.dsl.model import Model, RuleModel, TypedLeaf, leaves
from slarules.dsl.unparse import leaf_text
from slarules.engine.policy import Decision, Fields, Policy

MAX_CLASSES = 5  # falls-through classes listed (then one "and more")
_TRIES = 4  # paths tried per existential claim before "not decided"


@dataclass(frozen=True, slots=True)
class Finding:
    msg: codes.Msg
    file: str | None
    span: ast.Span | None
    witness: dict[str, Any] | None = None  # ticket fields the compiled policy confirms
    decision: Decision | None = None  # the policy's decision for the witness


class _Run:
    def __init__(self, model: Model, policy: Policy) -> None:
        self.model, self.policy = model, policy
        self.dom = Domain(model, policy.calendars)
        b, u = self.dom.bdd, self.dom.universe
        self.b, self.u = b, u
        rules = model.rules
        self.cond = [u if r.when is None else b.and_(u, self.dom.cond(r.when)) for r in rules]
        self.matched: list[int] = []
        reach = u
        self.reach: list[int] = []
        for r, c in zip(rules, self.cond, strict=True):
            self.reach.append(reach)
            m = b.and_(reach, c)
            self.matched.append(m)
            if r.stop:
                reach = b.diff(reach, m)
        self.decided = [FALSE] * len(rules)
        later = FALSE
        for i in range(len(rules) - 1, -1, -1):
            if rules[i].sets_level:
                self.decided[i] = b.diff(self.matched[i], later)
                later = b.or_(later, self.decided[i])  # = later | matched, built cheaper
        self.fallthrough = b.diff(u, later)
        # each rule's condition, evaluated with the compiled leaves (no second compile)
        self.when_fn: list[Callable[[Fields], bool]] = [
            (lambda f: True) if r.when is None else partial(self.dom.holds, r.when) for r in rules
        ]
        self.out: list[Finding] = []

    def rule_vars(self) -> set[int]:
        """The BDD variables of the dimensions rule conditions read."""
        out: set[int] = set()
        for r in self.model.rules:
            if r.when is None:
                continue
            for leaf in leaves(r.when):
                for d in self.dom.dims_of(leaf):
                    out.update(d.vars)
        return out

    def witness(
        self, region: int, ok: Callable[[dict[str, Any], Decision], bool]
    ) -> tuple[dict[str, Any], Decision] | None:
        for i, path in enumerate(self.b.paths(region)):
            if i >= _TRIES:
                break
            fields = concretize(self.dom, path)
            if fields is None:
                continue
            d = self.policy.decide(fields)
            if ok(fields, d):
                return fields, d
        return None

    def add(self, msg: codes.Msg, file: str | None, span: ast.Span | None, w: Any = None) -> None:
        fields, decision = w if w is not None else (None, None)
        self.out.append(Finding(msg, file, span, fields, decision))


def _keyword(r: RuleModel) -> ast.Span:
    return ast.Span(r.span.line, r.span.column, r.span.line, r.span.column + 4)


def _overwritten(rules: list[RuleModel], i: int) -> bool:
    """The checker's `overwritten-level` lint (a later unconditional setter, no stop between)."""
    r = rules[i]
    if r.stop or not r.sets_level:
        return False
    for later in rules[i + 1 :]:
        if later.when is None and later.sets_level:
            return True
        if later.stop:
            return False
    return False


def analyze(model: Model, policy: Policy) -> list[Finding]:
    """Every finding of the analysis (see the package docstring)."""
    run = _Run(model, policy)
    _conditions(run)
    _rules(run)
    _falls_through(run)
    _missing_targets(run)
    _stops(run)
    return run.out


def _conditions(run: _Run) -> None:
    b, u, dom = run.b, run.u, run.dom
    items: list[tuple[str, ast.Span, Any, bool]] = [
        (r.file, r.when_span, r.when, True) for r in run.model.rules if r.when is not None
    ]
    for lm in run.model.levels.values():
        for p in lm.pauses:
            first = leaves(p.condition)[0].node.span
            items.append((lm.file, first, p.condition, False))
    for file, span, cond, is_rule in items:
        c = b.and_(u, dom.cond(cond))
        if c == FALSE:
            whole = _text(cond)
            run.add(messages.dead_condition(whole), file, span)
            continue
        if c == u and is_rule:
            run.add(messages.always_true(_text(cond)), file, span)
            continue
        for leaf in leaves(cond):
            if not b.meets(u, dom.leaf(leaf)):
                run.add(messages.dead_condition(leaf_text(leaf.node)), file, leaf.node.span)


def _text(cond: Any) -> str:
    from slarules.dsl.model import CAnd, CNot, COr

    if isinstance(cond, TypedLeaf):
        return leaf_text(cond.node)
    if isinstance(cond, CNot):
        return f"not {_text(cond.operand)}"
    word = " and " if isinstance(cond, CAnd) else " or "
    assert isinstance(cond, CAnd | COr)
    return "(" + word.join(_text(i) for i in cond.items) + ")" if len(cond.items) > 1 else ""


def _rules(run: _Run) -> None:
    b, rules = run.b, run.model.rules
    for i, r in enumerate(rules):
        if (
            not r.sets_level
            or run.cond[i] == FALSE
            or (run.reach[i] == FALSE and _after_stop(rules, i))
        ):
            continue
        if run.decided[i] == FALSE:
            shadows = list(
                islice(
                    (
                        q.title
                        for j, q in enumerate(rules)
                        if (j < i and q.stop and b.meets(run.matched[j], run.cond[i]))
                        or (j > i and q.sets_level and b.meets(run.matched[j], run.matched[i]))
                    ),
                    5,
                )
            )
            w = run.witness(run.cond[i], _shadowed(run.when_fn[i], r.title))
            if _overwritten(rules, i):
                later = next(q.title for q in rules[i + 1 :] if q.when is None and q.sets_level)
                run.add(codes.overwritten_level(r.title, later), r.file, _keyword(r), w)
            else:
                run.add(messages.shadowed_rule(r.title, shadows), r.file, _keyword(r), w)
            continue
        w = run.witness(run.decided[i], _decided_by(r.title))
        if w is None:
            why = "its conditions test free text or compare fields; no ticket could be built"
            run.add(
                messages.not_decided(f'rule "{r.title}" ever decides the level', why),
                r.file,
                _keyword(r),
            )


def _after_stop(rules: list[RuleModel], i: int) -> bool:
    return any(q.when is None and q.stop for q in rules[:i])


def _falls_through(run: _Run) -> None:
    model = run.model
    region = run.fallthrough
    if region == FALSE:
        return
    file = model.default_file or (model.rules[0].file if model.rules else None)
    span = model.default_span
    shown = 0
    rule_vars = run.rule_vars()
    hidden = frozenset(v for d in run.dom.dims for v in d.vars if v not in rule_vars)
    for coarse in run.b.paths(run.b.exists(region, hidden)):
        path = run.b.one(run.b.and_(region, run.b.cube(coarse)))
        assert path is not None
        if shown >= MAX_CLASSES:
            run.add(
                messages.falls_through(
                    "other values (more classes not listed)", model.default_level
                ),
                file,
                span,
            )
            return
        fields = concretize(run.dom, path)
        described = describe(run.dom, coarse)
        if fields is None:
            why = "the class depends on free-text tests or field comparisons"
            run.add(messages.not_decided(f"tickets with {described} fall through", why), file, span)
        else:
            d = run.policy.decide(fields)
            if d.decided_by not in ("default", None):
                continue
            run.add(messages.falls_through(described, model.default_level), file, span, (fields, d))
        shown += 1


def _missing_targets(run: _Run) -> None:
    b, dom, model = run.b, run.dom, run.model
    for lm in model.levels.values():
        # the tickets given this level, as parts (their union is never built: only the part
        # of each that misses a row is, which is small)
        region = [run.decided[i] for i, r in enumerate(model.rules) if r.level == lm.name]
        if model.default_level == lm.name:
            region.append(run.fallthrough)
        region = [p for p in region if p != FALSE]
        if not region:
            continue
        for metric, t in lm.targets.items():
            if t.seconds is not None or (t.table is not None and t.table.else_seconds is not None):
                continue
            missing = b.neg(dom.row_hit(t.table.by, t.table.rows)) if t.table else run.u
            if t.source_override is not None:
                missing = b.diff(missing, dom.row_hit(t.source_override.by, t.source_override.rows))
            gap = b.any_of([b.and_(p, missing) for p in region])
            if gap == FALSE:
                continue
            level = lm.name
            w = run.witness(gap, _no_target(run.policy, level, metric))
            path = next(run.b.paths(gap))
            by = {x.by for x in (t.table, t.source_override) if x is not None}
            described = describe(dom, path, by)
            span = lm.target_spans.get(metric)
            if w is None:
                why = "the tickets that reach it depend on free-text tests or field comparisons"
                what = f"level `{level}` is reached without a `{metric}` target"
                run.add(messages.not_decided(what, why), lm.file, span)
            else:
                run.add(messages.missing_target(level, metric, described), lm.file, span, w)


def _stops(run: _Run) -> None:
    b, rules = run.b, run.model.rules
    for i, r in enumerate(rules):
        if not r.stop or run.matched[i] == FALSE:
            continue
        if not any(q.sets_level for q in rules[i + 1 :]):
            continue  # nothing after it could set a level: the stop is a guard, not a finding
        region, changed = run.matched[i], False
        for j in range(i + 1, len(rules)):
            if not b.meets(region, run.cond[j]):  # (decided without building the meet)
                continue
            if rules[j].sets_level:
                changed = True
                break
            if rules[j].stop:
                region = b.diff(region, run.cond[j])
                if region == FALSE:
                    break
        if changed:
            continue
        w = run.witness(run.matched[i], _matched(r.title))
        span = r.stop_span if r.stop_span.line else _keyword(r)
        run.add(messages.stop_cuts_nothing(r.title), r.file, span, w)


Check = Callable[[dict[str, Any], Decision], bool]


def _decided_by(title: str) -> Check:
    return lambda f, d: d.decided_by == title


def _matched(title: str) -> Check:
    return lambda f, d: title in d.matched


def _no_target(policy: Policy, level: str, metric: str) -> Check:
    return lambda f, d: d.level == level and policy.levels[level].target_seconds(metric, f) is None


def _shadowed(when: Callable[[Fields], bool], title: str) -> Check:
    return lambda f, d: bool(when(f)) and d.decided_by != title
