"""`check --analyze`: data-driven cases, witnesses confirmed, and brute force on a small schema."""

from __future__ import annotations

import functools
import itertools
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slarules.dsl import analyze_source, build_source
from slarules.dsl.analysis import Finding

CASES = Path(__file__).resolve().parents[1] / "cases" / "analysis"


def _positions(findings: list[Finding]) -> set[tuple[str, int, int]]:
    return {(f.msg.code, f.span.line, f.span.column) for f in findings if f.span is not None}


def test_cases() -> None:
    for case in sorted(CASES.glob("*.toml")):
        spec = tomllib.loads(case.read_text(encoding="utf-8"))
        text = (CASES / spec["ruleset"]).read_text(encoding="utf-8")
        result, findings = analyze_source(text, spec["ruleset"])
        assert result.policy is not None
        want = {(f["code"], *f["at"]) for f in spec["finding"]}
        assert _positions(findings) == want, case.name
        for f in spec["finding"]:
            if "witness" not in f:
                continue
            hit = [
                g
                for g in findings
                if (g.msg.code, g.span.line, g.span.column) == (f["code"], *f["at"])
            ]
            assert hit[0].witness == f["witness"]


def test_example_is_analyzed_with_confirmed_witnesses() -> None:
    from slarules.dsl import analyze as analyze_files
    from slarules.rulesets import read_sources

    root = Path(__file__).resolve().parents[2] / "examples" / "helpdesk"
    result, findings = analyze_files(read_sources(root))
    assert result.policy is not None
    assert {f.msg.code for f in findings} == {"falls-through"}
    for f in findings:
        if f.witness is not None:
            assert result.policy.decide(f.witness).decided_by == "default"


def test_free_text_is_not_decided_rather_than_guessed() -> None:
    text = """
level a { first_response 1h }
level b { first_response 1h }
default level a
rule "x" { when subject starts with "ab" and subject == "zz" set level b }
rule "y" { when subject contains "q" set level b }
"""
    _, findings = analyze_source(text)
    codes = {(f.msg.code, f.span.line if f.span else 0) for f in findings}
    # `starts with "ab"` and `== "zz"` contradict, but the abstraction treats prefix tests
    # as free: no ticket can be built, so the analysis says "not decided", never "shadowed"
    assert ("shadowed-rule", 5) not in codes
    assert ("not-decided", 5) in codes
    assert ("not-decided", 6) not in codes  # `contains "q"`: a witness is built and confirmed


# ---- brute force over a small finite schema -------------------------------------------

SCHEMA = """
schema {
  priorities low < high
  sources email, chat
  field vip: bool
}
level one { first_response by priority { high 1h } }
level two { first_response 2h }
"""
LEAVES = [
    'source == "email"',
    'source == "chat"',
    'source != "chat"',
    'priority >= "high"',
    'priority < "high"',
    "priority is set",
    "vip",
    "not vip",
    'tags contains "a"',
    'tags contains any ["a", "b"]',
    "tags is set",
]


def _tickets() -> list[dict[str, Any]]:
    out = []
    for src, pri, vip, tags in itertools.product(
        [None, "email", "chat"],
        [None, "low", "high"],
        [None, True, False],
        [(), ("a",), ("b",), ("z",), ("a", "b")],
    ):
        f: dict[str, Any] = {"source": src, "priority": pri, "vip": vip, "tags": tags}
        out.append({k: v for k, v in f.items() if v not in (None, ())})
    return out


TICKETS = _tickets()

cond = st.recursive(
    st.sampled_from(LEAVES),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda p: f"({p[0]} and {p[1]})"),
        st.tuples(inner, inner).map(lambda p: f"({p[0]} or {p[1]})"),
    ),
    max_leaves=3,
)
rule = st.tuples(cond, st.sampled_from(["one", "two", "none", None]), st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rule, min_size=1, max_size=5), st.booleans())
def test_matches_brute_force(rules: list[tuple[str, str | None, bool]], default: bool) -> None:
    body = [SCHEMA, "default level two" if default else ""]
    for i, (c, lvl, stop) in enumerate(rules):
        if lvl is None and not stop:
            stop = True
        parts = [f"when {c}"] + ([f"set level {lvl}"] if lvl else []) + (["stop"] if stop else [])
        body.append(f'rule "r{i}" {{ {" ".join(parts)} }}')
    text = "\n".join(body)
    result, findings = analyze_source(text)
    policy = result.policy
    assert policy is not None, [d.render() for d in result.errors]
    decisions = [policy.decide(t) for t in TICKETS]
    got = {(f.msg.code, f.span.line) for f in findings if f.span is not None}
    for f in findings:  # every witness is confirmed by the compiled policy
        if f.witness is not None:
            assert policy.decide(f.witness) == f.decision
    assert not any(f.msg.code == "not-decided" for f in findings)  # finite: always decided
    first_line = len(body) - len(rules) + SCHEMA.count("\n")
    for i, (c, lvl, _stop) in enumerate(rules):
        line = first_line + i + 1
        dead = not any(_alone(c).decide(t).matched for t in TICKETS)
        assert (("dead-condition", line) in got) == dead, (text, i)
        if lvl is None or dead:
            continue
        decides = any(d.decided_by == f"r{i}" for d in decisions)
        flagged = ("shadowed-rule", line) in got or ("overwritten-level", line) in got
        assert flagged == (not decides), (text, i)
    falls = any(d.decided_by in ("default", None) for d in decisions)
    assert any(f.msg.code == "falls-through" for f in findings) == falls, text
    gap = any(
        d.level == "one" and policy.levels["one"].target_seconds("first_response", t) is None
        for d, t in zip(decisions, TICKETS, strict=True)
    )
    assert any(f.msg.code == "missing-target" for f in findings) == gap, text


@functools.cache
def _alone(c: str) -> Any:
    """A policy whose only rule has condition c (its truth even where an earlier stop cuts)."""
    result = build_source(SCHEMA + f'default level two\nrule "x" {{ when {c} stop }}')
    assert result.policy is not None
    return result.policy
