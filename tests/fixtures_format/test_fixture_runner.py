"""Running many fixtures: worker processes give the same outcomes; generated fixtures pass."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from slarules.cli import main
from slarules.engine.policy import Policy
from slarules.fixtures import find_fixtures
from slarules.fixtures.runner import default_jobs, run_fixtures
from tests.fixtures_format.conftest import CASES, EXAMPLE, ROOT


def test_parallel_run_equals_serial(helpdesk: Policy) -> None:
    files = find_fixtures([EXAMPLE / "fixtures", CASES]) * 5
    assert len(files) > 300
    serial = run_fixtures(helpdesk, files, jobs=1)
    parallel = run_fixtures(helpdesk, files, jobs=2)
    strip = [(o.path, o.passed, o.lines, o.level, o.decided_by) for o in serial]
    assert strip == [(o.path, o.passed, o.lines, o.level, o.decided_by) for o in parallel]
    assert any(not o.passed for o in serial) and any(o.passed for o in serial)


def test_default_jobs() -> None:
    assert default_jobs(10) == 1
    assert default_jobs(5000) >= 1


def test_generated_benchmark_fixtures_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from generate_fixtures import generate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    rules, fixtures = generate(tmp_path, 25, seed=7, n_rules=200)
    assert main(["check", str(rules), "--strict"]) == 0
    assert capsys.readouterr().out.strip() == "ok: 3 files, 200 rules"
    assert main(["test", str(rules), str(fixtures)]) == 0
    assert capsys.readouterr().out.splitlines() == ["25 passed, 0 failed"]
