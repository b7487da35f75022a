"""Rules through `build_source` and `format_source`: never anything but diagnostics.

Two sources of input: conditions generated from the grammar (nesting up to
twice the depth limit, long numbers and durations), and the example ruleset
mutated byte-wise and token-wise. Whatever the text, `build_source` returns a
result (policy or error diagnostics with positions) and `format_source` returns
text or raises `RulesError`; a ruleset that builds also formats, and its
formatted text builds to a policy again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slarules.dsl import build_source, format_source, limits
from slarules.errors import RulesError
from tests.fuzz.profile import fuzz_settings

pytestmark = pytest.mark.fuzz
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "".join(
    (ROOT / "examples" / "helpdesk" / n).read_text(encoding="utf-8")
    for n in ("00-setup.sla", "10-levels.sla", "20-rules.sla")
)
SETUP = "".join(
    (ROOT / "examples" / "helpdesk" / n).read_text(encoding="utf-8")
    for n in ("00-setup.sla", "10-levels.sla")
)

digits = st.text("0123456789", min_size=1, max_size=60)
leaves = st.one_of(
    st.sampled_from(
        [
            'priority == "high"',
            'tags contains "vip"',
            "seats is not set",
            'source not in ["chat", "phone"]',
            "subject matches /a+b/i",
            "created_at during business",
            "created_at.hour >= 9",
            "beta",
        ]
    ),
    st.builds(lambda d: f"seats >= {d}", digits),
    st.builds(lambda d, f: f"seats < {d}.{f}", digits, digits),
    st.builds(lambda d: f"renewal_date < 2026-{d[:2]}-01", digits),
)


def conditions(max_depth: int) -> st.SearchStrategy[str]:
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(lambda c: f"not {c}", inner),
            st.builds(lambda c: f"({c})", inner),
            st.builds(lambda a, b: f"{a} and {b}", inner, inner),
            st.builds(lambda a, b: f"({a} or {b})", inner, inner),
        ),
        max_leaves=max_depth,
    )


def deep(kind: str, n: int, inner: str) -> str:
    for _ in range(n):
        inner = {"not": f"not {inner}", "paren": f"({inner})", "or": f"(beta or {inner})"}[kind]
    return inner


def _build_and_format(text: str) -> None:
    result = build_source(text, "f.sla")
    if result.policy is None:
        assert result.errors, "no policy and no error"
        for d in result.errors:
            assert d.code and d.message and d.file == "f.sla"
    try:
        formatted = format_source(text, "f.sla")
    except RulesError as e:
        assert e.diagnostics
        assert result.policy is None
        return
    if result.policy is not None:
        again = build_source(formatted, "f.sla")
        assert again.policy is not None, [d.render() for d in again.errors]


@fuzz_settings(quick=60)
@given(conditions(80))
def test_generated_conditions(cond: str) -> None:
    _build_and_format(SETUP + f'\nrule "fuzz" {{\n  when {cond}\n  set level vip\n}}\n')


@fuzz_settings(quick=25, long=400)
@given(
    st.sampled_from(["not", "paren", "or"]),
    st.integers(1, 2 * limits.MAX_DEPTH + 500),
    leaves,
)
def test_deep_nesting(kind: str, n: int, leaf: str) -> None:
    text = SETUP + f'\nrule "deep" {{\n  when {deep(kind, n, leaf)}\n  set level vip\n}}\n'
    result = build_source(text, "f.sla")
    if n > limits.MAX_DEPTH:
        assert "nesting-too-deep" in {d.code for d in result.errors}
    _build_and_format(text)


TOKENS = [
    "(",
    ")",
    "not ",
    " and ",
    " or ",
    "{",
    "}",
    '"',
    "/",
    "#",
    "\n",
    "9" * 40,
    "-",
    ":",
    "3000000d",
    "99999999h",
    "100%",
    "2026-13-45",
    "T25:99",
    "\\",
    "\x00",
    "\ud800",
    "é",
]


@fuzz_settings(quick=80)
@given(st.data())
def test_mutated_example_rules(data: st.DataObject) -> None:
    text = EXAMPLE
    for _ in range(data.draw(st.integers(1, 6), label="mutations")):
        at = data.draw(st.integers(0, len(text)), label="at")
        how = data.draw(st.sampled_from(["insert", "delete", "repeat", "replace"]), label="how")
        if how == "insert":
            text = text[:at] + data.draw(st.sampled_from(TOKENS)) + text[at:]
        elif how == "delete":
            text = text[:at] + text[at + data.draw(st.integers(1, 40)) :]
        elif how == "repeat":
            piece = text[at : at + data.draw(st.integers(1, 30))]
            text = text[:at] + piece * data.draw(st.integers(2, 300)) + text[at:]
        else:
            text = text[:at] + data.draw(st.text(max_size=5)) + text[at + 1 :]
    _build_and_format(text)
