"""`check --analyze` beyond finite domains: numbers, dates, hours, free text, calendars, fields.

Every witness is confirmed by the compiled policy, and the "no ticket …" claims (a shadowed
rule, a rule overwritten) hold on a sample of concrete tickets built from the literals the
rules use and values around them.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slarules.dsl import analyze_source

HEAD = """timezone "America/Sao_Paulo"
schema {
  priorities low < high
  sources email, chat
  field seats: number
  field max_seats: number
  field renewal: date
  field tier: text
}
calendar business {
  timezone "America/Sao_Paulo"
  hours mon-fri 09:00-18:00
}
level a { first_response 1h }
level b { first_response by priority { high 1h } }
"""
LEAVES = [
    'source == "chat"',
    'priority >= "high"',
    "seats > 10",
    "seats < 5",
    "seats >= max_seats",
    "renewal < 2026-06-01",
    'tier == "gold"',
    'tier starts with "go"',
    'subject contains "down"',
    "subject matches /outage|broken/",
    'created_at.weekday in ["sat", "sun"]',
    "created_at.hour >= 18",
    "created_at during business",
    'tags contains "x"',
]
TZ = ZoneInfo("America/Sao_Paulo")


def _sample(n: int, seed: int) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    monday = datetime(2026, 3, 2, 0, 0, tzinfo=TZ)
    values: dict[str, list[Any]] = {
        "source": [None, "email", "chat"],
        "priority": [None, "low", "high"],
        "seats": [None, 0, 4, 5, 10, 11, 30],
        "max_seats": [None, 4, 11],
        "renewal": [None, date(2026, 5, 31), date(2026, 6, 1), date(2026, 7, 1)],
        "tier": [None, "gold", "golden", "silver"],
        "subject": [None, "down", "outage", "all good", "broken and down"],
        "tags": [(), ("x",), ("y",)],
    }
    out = []
    for _ in range(n):
        f = {k: rnd.choice(v) for k, v in values.items()}
        f["created_at"] = monday + timedelta(hours=rnd.randrange(24 * 7))
        out.append({k: v for k, v in f.items() if v not in (None, ())})
    return out


SAMPLE = _sample(400, 3)

cond = st.recursive(
    st.sampled_from(LEAVES),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda p: f"({p[0]} and {p[1]})"),
        st.tuples(inner, inner).map(lambda p: f"({p[0]} or {p[1]})"),
        inner.map(lambda c: f"not ({c})"),
    ),
    max_leaves=3,
)
rule = st.tuples(cond, st.sampled_from(["a", "b", None]), st.booleans())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rule, min_size=1, max_size=6), st.booleans())
def test_witnesses_confirmed_and_claims_hold_on_samples(
    rules: list[tuple[str, str | None, bool]], default: bool
) -> None:
    body = [HEAD, "default level a" if default else ""]
    for i, (c, level, stop) in enumerate(rules):
        parts = [f"when {c}"] + ([f"set level {level}"] if level else [])
        parts += ["stop"] if stop or level is None else []
        body.append(f'rule "r{i}" {{ {" ".join(parts)} }}')
    text = "\n".join(body)
    result, findings = analyze_source(text)
    policy = result.policy
    assert policy is not None, [d.render() for d in result.errors]
    decisions = [policy.decide(t) for t in SAMPLE]
    first_line = text.count("\n") - len(rules) + 2
    for f in findings:
        if f.witness is not None:  # every witness is confirmed by the compiled policy
            assert policy.decide(f.witness) == f.decision, (text, f)
        if f.msg.code in ("shadowed-rule", "overwritten-level"):
            assert f.span is not None
            title = f"r{f.span.line - first_line}"
            assert not any(d.decided_by == title for d in decisions), (text, f)
        if f.msg.code == "falls-through" and f.witness is not None:
            assert f.decision is not None and f.decision.decided_by in ("default", None)
    for i, (_c, level, _stop) in enumerate(rules):  # a rule seen deciding is never flagged
        if level is not None and any(d.decided_by == f"r{i}" for d in decisions):
            line = first_line + i
            codes = {f.msg.code for f in findings if f.span and f.span.line == line}
            assert not codes & {"shadowed-rule", "overwritten-level"}, (text, i)


def test_sample_covers_every_leaf_both_ways() -> None:
    """The sample is a fair check: each leaf is true of some sampled ticket and false of another."""
    for leaf in LEAVES:
        text = HEAD + f'default level a\nrule "x" {{ when {leaf} set level b }}'
        result, _ = analyze_source(text)
        assert result.policy is not None
        got = {result.policy.decide(t).decided_by for t in SAMPLE}
        assert got == {"x", "default"}, leaf


def test_rules_that_shadow_through_numbers_dates_and_text() -> None:
    text = HEAD + "\n".join(
        [
            "default level a",
            'rule "big" { when seats > 10 set level b stop }',
            'rule "bigger" { when seats > 20 set level a }',  # every seats > 20 has seats > 10
            'rule "old" { when renewal < 2026-06-01 stop }',
            'rule "older" { when renewal < 2026-01-01 set level b }',  # cut by "old"
            'rule "text" { when tier starts with "go" set level b }',  # not decided: a witness
        ]
    )
    _, findings = analyze_source(text)
    got = {(f.msg.code, f.span.line) for f in findings if f.span is not None}
    base = HEAD.count("\n") + 1
    assert ("shadowed-rule", base + 2) in got
    assert ("shadowed-rule", base + 4) in got
    assert not any(line == base + 5 for _, line in got), got
