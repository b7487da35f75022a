"""Shared objects for the fixture-format tests: the bundled example ruleset and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from slarules.engine.policy import Policy
from slarules.rulesets import load_policy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "helpdesk"
CASES = ROOT / "tests" / "cases" / "fixtures"


@pytest.fixture(scope="session")
def helpdesk() -> Policy:
    return load_policy(EXAMPLE)
