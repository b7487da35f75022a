"""Example counts of the fuzz tests: quick (default) or long (`pytest -m fuzz`)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings

LONG = False


def fuzz_settings(quick: int, long: int = 3000) -> Any:
    """`@settings` for one fuzz test: `quick` examples by default, `long` under `-m fuzz`."""
    return settings(
        max_examples=long if LONG else quick,
        deadline=None,
        derandomize=not LONG,  # CI: the same examples every run; long runs explore
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
