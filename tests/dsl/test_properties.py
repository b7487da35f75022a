"""Hypothesis properties: parser errors, fmt round trip, compiled == reference evaluator."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slarules.dsl import ast, build_source, format_source, parse
from slarules.dsl.parser import RulesSyntaxError

SCHEMA = """
timezone "Asia/Kolkata"
schema {
  priorities low < normal < high < urgent
  field seats: number
  field renewal: date
  field beta: bool
  field labels: list
  field tier: text
}
level yes { }
"""
TZ = ZoneInfo("Asia/Kolkata")
PRIORITIES = ["low", "normal", "high", "urgent"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WORDS = ["a", "A", "ab", "aB", "b", "straße", "STRASSE", "x y", ""]
OPS = ["==", "!=", "<", "<=", ">", ">="]

settings.register_profile(
    "dsl", deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("dsl")


def q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lst(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


words = st.sampled_from(WORDS)
some_words = st.lists(words, min_size=1, max_size=3)

leaf = st.one_of(
    st.builds(lambda op, w: f"tier {op} {q(w)}", st.sampled_from(["==", "!="]), words),
    st.builds(
        lambda op, ws: f"tier {op} {lst([q(w) for w in ws])}",
        st.sampled_from(["in", "not in"]),
        some_words,
    ),
    st.builds(
        lambda op, w: f"tier {op} {q(w)}",
        st.sampled_from(["contains", "starts with", "ends with"]),
        words,
    ),
    st.builds(
        lambda w, i: f"tier matches /{re.escape(w) or 'a'}/{'i' if i else ''}",
        st.sampled_from(["a", "B", "ab"]),
        st.booleans(),
    ),
    st.builds(
        lambda f, n: f"{f} is {'not ' if n else ''}set",
        st.sampled_from(["tier", "seats", "labels", "beta", "renewal", "created_at"]),
        st.booleans(),
    ),
    st.builds(lambda op: f"tier {op} requester", st.sampled_from(["==", "!="])),
    st.builds(
        lambda op, n: f"seats {op} {n}",
        st.sampled_from(OPS),
        st.sampled_from(["0", "1", "-2", "2.5", "10"]),
    ),
    st.builds(
        lambda op, ns: f"seats {op} {lst(ns)}",
        st.sampled_from(["in", "not in"]),
        st.lists(st.sampled_from(["1", "2.5", "-2"]), min_size=1, max_size=3),
    ),
    st.sampled_from(["beta", "beta == true", "beta == false", "beta != true", "beta != false"]),
    st.builds(lambda w: f"labels contains {q(w)}", words),
    st.builds(
        lambda op, ws: f"labels {op} {lst([q(w) for w in ws])}",
        st.sampled_from(["contains any", "contains all"]),
        some_words,
    ),
    st.builds(
        lambda op, p: f"priority {op} {q(p)}",
        st.sampled_from(OPS),
        st.sampled_from([*PRIORITIES, "HIGH"]),
    ),
    st.builds(
        lambda op, ps: f"priority {op} {lst([q(p) for p in ps])}",
        st.sampled_from(["in", "not in"]),
        st.lists(st.sampled_from(PRIORITIES), min_size=1, max_size=3),
    ),
    st.builds(
        lambda op, d: f"renewal {op} 2026-03-{d:02d}", st.sampled_from(OPS), st.integers(1, 5)
    ),
    st.builds(
        lambda op, h: f"created_at {op} 2026-03-01T{h:02d}:00:00Z",
        st.sampled_from(OPS),
        st.integers(0, 23),
    ),
    st.builds(lambda op, h: f"created_at.hour {op} {h}", st.sampled_from(OPS), st.integers(0, 23)),
    st.builds(
        lambda op, d: f"created_at.weekday {op} {q(d)}", st.sampled_from(OPS), st.sampled_from(DAYS)
    ),
    st.builds(
        lambda op, d: f"renewal.weekday {op} {lst([q(x) for x in d])}",
        st.sampled_from(["in", "not in"]),
        st.lists(st.sampled_from(DAYS), min_size=1, max_size=3),
    ),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda a, b: f"{a} and {b}", children, children),
        st.builds(lambda a, b: f"{a} or {b}", children, children),
        st.builds(lambda a: f"not {a}", children),
        st.builds(lambda a: f"({a})", children),
    )


conditions = st.recursive(leaf, _combine, max_leaves=6)

UTC = UTC
tickets = st.fixed_dictionaries(
    {},
    optional={
        "tier": st.one_of(words, st.none(), st.integers(0, 3)),
        "requester": st.one_of(words, st.none()),
        "seats": st.one_of(
            st.sampled_from([0, 1, -2, 2.5, 10, 11]), st.none(), st.just("1"), st.just(True)
        ),
        "beta": st.one_of(st.booleans(), st.none(), st.just("true")),
        "labels": st.one_of(st.lists(words, max_size=3), st.none(), st.just("a")),
        "priority": st.one_of(st.sampled_from([*PRIORITIES, "Urgent", "bogus", ""]), st.none()),
        "renewal": st.one_of(
            st.builds(lambda d: date(2026, 3, d), st.integers(1, 8)),
            st.none(),
            st.just(datetime(2026, 3, 2, tzinfo=UTC)),
        ),
        "created_at": st.one_of(
            st.builds(
                lambda h: datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=h),
                st.integers(-30, 200),
            ),
            st.none(),
            st.just(datetime(2026, 3, 1, 5)),
            st.just(date(2026, 3, 1)),
        ),
    },
)


# ---- the reference evaluator: a direct reading of language.md over the AST ----------


def _unset(v: object) -> bool:
    return v is None or v == "" or v == () or v == []


def _value(ref: ast.FieldRef, f: dict[str, Any]) -> tuple[str, Any]:
    """(kind, comparable value or None) of a field reference on a ticket."""
    v = f.get(ref.name)
    if ref.name in ("tier", "requester"):
        return "text", v.casefold() if isinstance(v, str) and v else None
    if ref.name == "seats":
        return "number", v if type(v) in (int, float) else None
    if ref.name == "beta":
        return "bool", v if type(v) is bool else None
    if ref.name == "labels":
        ok = isinstance(v, list | tuple)
        return "list", {x.casefold() for x in v if isinstance(x, str)} if ok else set()
    if ref.name == "priority":
        folded = v.casefold() if isinstance(v, str) else None
        return "priority", PRIORITIES.index(folded) if folded in PRIORITIES else None
    if ref.name == "renewal":
        d = v if type(v) is date else None
        if ref.part == "weekday":
            return "weekday", d.weekday() if d else None
        return "date", d
    t = v if isinstance(v, datetime) and v.tzinfo is not None else None
    if ref.part == "weekday":
        return "weekday", t.astimezone(TZ).weekday() if t else None
    if ref.part == "hour":
        return "number", t.astimezone(TZ).hour if t else None
    return "datetime", t


def _lit(kind: str, lit: Any) -> Any:
    if isinstance(lit, ast.Str):
        if kind == "priority":
            return PRIORITIES.index(lit.value.casefold())
        if kind == "weekday":
            return DAYS.index(lit.value)
        return lit.value.casefold()
    return lit.value


def ref_eval(e: ast.Expr, f: dict[str, Any]) -> bool:
    if isinstance(e, ast.And):
        return all(ref_eval(i, f) for i in e.items)
    if isinstance(e, ast.Or):
        return any(ref_eval(i, f) for i in e.items)
    if isinstance(e, ast.Not):
        return not ref_eval(e.operand, f)
    if isinstance(e, ast.Group):
        return ref_eval(e.inner, f)
    if isinstance(e, ast.IsSet):
        return _unset(f.get(e.left.name)) if e.negated else not _unset(f.get(e.left.name))
    if isinstance(e, ast.Bare):
        return f.get(e.left.name) is True
    if isinstance(e, ast.Matches):
        v = f.get(e.left.name)
        flags = re.IGNORECASE if e.regex.ignore_case else 0
        return isinstance(v, str) and v != "" and re.search(e.regex.pattern, v, flags) is not None
    assert isinstance(e, ast.Compare)
    if e.op == "!=":
        return not ref_eval(ast.Compare(e.left, "==", e.right), f)
    if e.op == "not in":
        return not ref_eval(ast.Compare(e.left, "in", e.right), f)
    kind, v = _value(e.left, f)
    if isinstance(e.right, ast.FieldRef):
        _k, w = _value(e.right, f)
        return v is not None and w is not None and v == w
    if e.op in ("in",):
        assert isinstance(e.right, ast.ListLit)
        return v is not None and any(
            v == _lit(kind, x)
            for x in e.right.items
            if not (isinstance(x, ast.Str) and x.value == "")
        )
    if kind == "list":
        assert isinstance(e.right, ast.ListLit | ast.Str)
        items = [
            x.value.casefold()
            for x in (e.right.items if isinstance(e.right, ast.ListLit) else [e.right])
            if isinstance(x, ast.Str)
        ]
        if e.op == "contains any":
            return any(i in v for i in items)
        return all(i in v for i in items)
    if v is None:
        return False
    assert not isinstance(e.right, ast.ListLit)
    lit = _lit(kind, e.right)
    if e.op == "==":
        return lit != "" and v == lit
    if e.op == "contains":
        return lit in v
    if e.op == "starts with":
        return bool(v.startswith(lit))
    if e.op == "ends with":
        return bool(v.endswith(lit))
    return bool({"<": v < lit, "<=": v <= lit, ">": v > lit, ">=": v >= lit}[e.op])


@given(st.lists(conditions, min_size=1, max_size=4), st.lists(tickets, min_size=1, max_size=5))
def test_compiled_conditions_match_reference(conds: list[str], ts: list[dict[str, Any]]) -> None:
    rules = "\n".join(f'rule "r{i}" {{ when {c} set level yes }}' for i, c in enumerate(conds))
    result = build_source(SCHEMA + rules)
    assert result.policy is not None, [d.render() for d in result.errors]
    module = parse(SCHEMA + rules)
    exprs = [d.when for d in module.decls if isinstance(d, ast.RuleDecl)]
    for t in ts:
        expected = tuple(f"r{i}" for i, e in enumerate(exprs) if e is not None and ref_eval(e, t))
        assert result.policy.decide(t).matched == expected
        explained = result.policy.explain(t)
        assert explained.matched == expected
        for trace, e in zip(explained.trace, exprs, strict=True):
            assert trace.matched == (e is not None and ref_eval(e, t))


@given(conditions, tickets)
def test_negation_is_exact(cond: str, t: dict[str, Any]) -> None:
    neg = re.sub(r" == ", " != ", cond) if " == " in cond else None
    if neg is None or "(" in cond or " and " in cond or " or " in cond or "not " in cond:
        return
    a = build_source(SCHEMA + f'rule "a" {{ when {cond} set level yes }}').policy
    b = build_source(SCHEMA + f'rule "a" {{ when {neg} set level yes }}').policy
    assert a is not None and b is not None
    assert (a.decide(t).level == "yes") != (b.decide(t).level == "yes")


# ---- parser and formatter -----------------------------------------------------------

TOKENS = [
    "rule",
    "level",
    "when",
    "and",
    "or",
    "not",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    "==",
    "!=",
    "<",
    "set",
    "stop",
    "none",
    '"x"',
    '"',
    "1h",
    "50%",
    "12",
    "2026-03-01",
    "/a/",
    "#c\n",
    "\n",
    "x",
    "calendar",
    "hours",
    "mon-fri",
    "09:00-17:00",
    "by",
    "else",
    ":",
    "\\",
    "é",
    "\t",
    "default",
    "schema",
    "field",
    "in",
    "is",
    "contains",
    "any",
]


@given(
    st.one_of(st.text(max_size=80), st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join))
)
def test_parser_raises_only_own_error(text: str) -> None:
    try:
        parse(text)
    except RulesSyntaxError as e:
        d = e.diagnostic
        assert d.code == "syntax-error" and d.line is not None and d.line >= 1
        assert d.column is not None and d.column >= 1
    result = build_source(text)  # never raises either
    assert result.policy is None or not result.errors


SEPARATORS = st.sampled_from([" ", "  ", "\n", "\n\n", "\n\n\n", " # note\n", "\t", "\n  # c\n  "])


def _layout(tokens: list[str], seps: list[str]) -> str:
    out = [tokens[0]]
    for tok, sep in zip(tokens[1:], seps, strict=False):
        out.append(sep)
        out.append(tok)
    for tok in tokens[1 + len(seps) :]:
        out.append(" " + tok)
    return "".join(out) + "\n"


def _tokens(cond: str) -> list[str]:
    return re.findall(r'"[^"]*"|/[^/]*/i?|\[|\]|\(|\)|,|[^\s\[\](),]+', cond)


@given(conditions, st.lists(SEPARATORS, max_size=60), st.booleans())
def test_fmt_idempotent_and_preserves_meaning(cond: str, seps: list[str], pause: bool) -> None:
    head = (
        ["level", "yes", "{", "pause", "resolution", ",", "agent_work", "when"]
        if pause
        else ["rule", '"r"', "{", "when"]
    )
    tail = ["resolution", "8h", "}"] if pause else ["set", "level", "yes", "stop", "}"]
    text = SCHEMA + _layout(head + _tokens(cond) + tail, seps)
    once = format_source(text)
    assert format_source(once) == once
    assert parse(once) == parse(text)
    assert [c.text for c in parse(once).comments] == [c.text for c in parse(text).comments]


ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
EXAMPLES = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("**/*.sla"))]
TOKEN = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|/(?:\\.|[^/\\\n])+/i?|#[^\n]*|[{}\[\](),]|[^\s{}\[\](),"#]+'
)


def relayout(text: str, seps: list[str]) -> str:
    """The same tokens with other whitespace, blank lines and extra comments between them."""
    out: list[str] = []
    for i, tok in enumerate(TOKEN.findall(text)):
        sep = seps[i % len(seps)] if seps else " "
        out.append(tok)
        out.append("\n" + sep if tok.startswith("#") else sep)
    return "".join(out)


@given(st.sampled_from(EXAMPLES), st.lists(SEPARATORS, min_size=1, max_size=40))
def test_fmt_round_trip_on_whole_rulesets(text: str, seps: list[str]) -> None:
    messy = relayout(text, seps)
    once = format_source(messy)
    assert format_source(once) == once
    assert parse(once) == parse(text)
    assert [c.text for c in parse(once).comments] == [c.text for c in parse(messy).comments]
