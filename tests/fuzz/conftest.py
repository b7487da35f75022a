"""Fuzz suite: quick by default (CI, well under a minute); `pytest -m fuzz` runs it long.

Every module here sets `pytestmark = pytest.mark.fuzz`. Selecting that marker
alone (`-m fuzz`) switches `profile.LONG` on before the test modules are
imported, so their `@settings` ask hypothesis for many more examples.
"""

from __future__ import annotations

import pytest

from tests.fuzz import profile


def pytest_configure(config: pytest.Config) -> None:
    profile.LONG = str(config.getoption("markexpr", "") or "").strip() == "fuzz"
