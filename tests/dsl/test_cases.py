"""Data-driven cases: diagnostics by position and code, and expected levels for tickets."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from slarules.dsl import build, build_source
from slarules.rulesets import read_sources

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases" / "dsl"
EXPECT = re.compile(r"#\s*expect:\s*(\d+):(\d+)\s+([a-z-]+)")


@pytest.mark.parametrize(
    "path", sorted((CASES / "diagnostics").glob("*.sla")), ids=lambda p: p.stem
)
def test_diagnostics(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    expected = sorted((int(a), int(b), c) for a, b, c in EXPECT.findall(text))
    result = build_source(text, path.name)
    got = sorted((d.line or 0, d.column or 0, d.code) for d in result.diagnostics)
    assert got == expected, "\n".join(d.render() for d in result.diagnostics)
    for d in result.diagnostics:
        assert d.message and "\n" not in d.message
    if not any(d.is_error for d in result.diagnostics):
        assert result.policy is not None


def _level_cases() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    out = []
    for path in sorted((CASES / "levels").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for case in data["case"]:
            out.append((f"{path.stem}: {case['name']}", data, case))
    return out


@pytest.mark.parametrize(
    ("name", "data", "case"), _level_cases(), ids=lambda x: x if isinstance(x, str) else ""
)
def test_levels(name: str, data: dict[str, Any], case: dict[str, Any]) -> None:
    ruleset = data["ruleset"]
    if "\n" in ruleset:
        result = build_source(ruleset, "case.sla")
    else:
        result = build(read_sources(ROOT / ruleset))
    assert result.policy is not None, [d.render() for d in result.errors]
    decision = result.policy.decide(case["fields"])
    want = None if case["level"] == "none" else case["level"]
    assert decision.level == want
    if "decided_by" in case:
        assert decision.decided_by == case["decided_by"]
    explained = result.policy.explain(case["fields"])
    assert (explained.level, explained.decided_by, explained.matched) == (
        decision.level,
        decision.decided_by,
        decision.matched,
    )
