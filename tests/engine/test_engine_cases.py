"""Engine conformance: hand-computed fixtures replayed through the `slarules test` machinery.

`tests/cases/engine/<case>/` holds a small ruleset (`*.sla`) and fixture tickets (`*.toml`)
whose expectations were computed by hand from semantics.md, each explained in the file's
leading comment. Directories starting with `_` (e.g. `_disputed/`) are not run.
`examples/helpdesk/fixtures/` does the same for the bundled example ruleset.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from functools import cache
from pathlib import Path

import pytest

from slarules.cli import main
from slarules.engine.policy import Policy
from slarules.engine.timers import measure
from slarules.fixtures import parse_fixture, read_data, run_fixture
from slarules.rulesets import load_policy

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases" / "engine"
EXAMPLE = ROOT / "examples" / "helpdesk"
EXAMPLE_FIXTURES = EXAMPLE / "fixtures"

CASE_DIRS = sorted(d for d in CASES.iterdir() if d.is_dir() and not d.name.startswith("_"))
CASE_FILES = [f for d in CASE_DIRS for f in sorted(d.glob("*.toml"))]
EXAMPLE_FILES = sorted(EXAMPLE_FIXTURES.glob("*.toml"))


@cache
def _policy(rules: Path) -> Policy:
    return load_policy(rules)


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("path", CASE_FILES, ids=_id)
def test_engine_case(path: Path) -> None:
    outcome = run_fixture(_policy(path.parent), path)
    assert outcome.passed, "\n".join([outcome.title, *outcome.lines])


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=_id)
def test_example_fixture(path: Path) -> None:
    outcome = run_fixture(_policy(EXAMPLE), path)
    assert outcome.passed, "\n".join([outcome.title, *outcome.lines])


def test_cases_are_laid_out_and_explained() -> None:
    assert len(CASE_DIRS) >= 15
    assert len(EXAMPLE_FILES) >= 20
    for d in CASE_DIRS:
        assert list(d.glob("*.sla")), f"{d} has no ruleset"
        assert list(d.glob("*.toml")), f"{d} has no fixture"
    for f in [*CASE_FILES, *EXAMPLE_FILES]:
        assert f.read_text(encoding="utf-8").startswith("#"), (
            f"{f} must start with a comment explaining the hand computation"
        )


def test_cli_passes_on_the_bundled_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(EXAMPLE), str(EXAMPLE_FIXTURES)]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == f"{len(EXAMPLE_FILES)} passed, 0 failed"


def test_cli_example_covers_every_rule_and_level(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(EXAMPLE), str(EXAMPLE_FIXTURES), "--min-coverage", "100"]) == 0
    assert "coverage: 100.0%" in capsys.readouterr().out


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda d: d.name)
def test_cli_passes_on_each_case(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(case), str(case)]) == 0
    n = len(list(case.glob("*.toml")))
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"{n} passed, 0 failed"


# One wrong hand-computed value must make `test` fail: guards against a vacuous comparison.
WRONG = [
    (
        "16-tiradentes-holiday.toml",
        "due_at = 2026-04-22T12:00:00-03:00",
        "due_at = 2026-04-22T13:00:00-03:00",
    ),
    ("10-urgent-dst-spring-forward-berlin.toml", 'elapsed = "50m"', 'elapsed = "1h50m"'),
    (
        "08-vip-periodic-response-and-agent-work.toml",
        "at = 2026-03-02T16:12:00-03:00",
        "at = 2026-03-02T16:13:00-03:00",
    ),
    ("18-spam-regex-no-sla.toml", 'level = "none"', 'level = "vip"'),
]


@pytest.mark.parametrize(("name", "old", "new"), WRONG, ids=[w[0] for w in WRONG])
def test_cli_fails_on_a_wrong_expectation(
    tmp_path: Path, name: str, old: str, new: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (EXAMPLE_FIXTURES / name).read_text(encoding="utf-8")
    assert old in text
    (tmp_path / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    shutil.copy(EXAMPLE_FIXTURES / "01-standard-email-first-response-met.toml", tmp_path)
    assert main(["test", str(EXAMPLE), str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {tmp_path / name}" in out
    assert out.strip().splitlines()[-1] == "1 passed, 1 failed"


# Timelines (not expressible in fixtures): the cycle's own events, in order, as hand-derived.
T = "2026-03-02T"
TIMELINES = [
    (
        "paused/started-inside-pause",
        "first_response",
        1,
        [("started", "00:00:00"), ("paused", "00:00:00")],
    ),
    (
        "paused/resumed",
        "first_response",
        1,
        [("started", "00:00:00"), ("paused", "00:10:00"), ("resumed", "00:40:00")],
    ),
    (
        "status_categories/reopened",
        "resolution",
        1,
        [("started", "00:00:00"), ("stopped", "04:00:00"), ("resumed", "05:00:00")],
    ),
    (
        "status_categories/reopened",
        "requester_wait",
        1,
        [
            ("started", "00:00:00"),
            ("paused", "01:00:00"),
            ("resumed", "02:00:00"),
            ("stopped", "04:00:00"),
            ("resumed", "05:00:00"),
        ],
    ),
    (
        "status_categories/reopened",
        "agent_work",
        1,
        [
            ("started", "00:00:00"),
            ("paused", "01:00:00"),
            ("resumed", "03:00:00"),
            ("stopped", "04:00:00"),
            ("resumed", "05:00:00"),
        ],
    ),
    (
        "inclusive/met-at-target",
        "first_response",
        1,
        [("started", "00:00:00"), ("stopped", "01:00:00")],
    ),
    (
        "inclusive/one-second-over",
        "first_response",
        1,
        [("started", "00:00:00"), ("breached", "01:00:00"), ("stopped", "01:00:01")],
    ),
    (
        "warnings/stopped-short",
        "first_response",
        1,
        [("started", "00:00:00"), ("warned", "00:02:18"), ("stopped", "00:03:00")],
    ),
    (
        "warnings/stopped-short",
        "resolution",
        1,
        [
            ("started", "00:00:00"),
            ("warned", "03:18:00"),
            ("warned", "05:00:00"),
            ("warned", "08:00:00"),
        ],
    ),
    (
        "next_response_phase/phase",
        "next_response",
        1,
        [("started", "00:30:00"), ("breached", "01:00:00"), ("stopped", "01:20:00")],
    ),
]


@pytest.mark.parametrize(
    ("case", "metric", "index", "expected"), TIMELINES, ids=[f"{t[0]}:{t[1]}" for t in TIMELINES]
)
def test_timeline(case: str, metric: str, index: int, expected: list[tuple[str, str]]) -> None:
    path = CASES / f"{case}.toml"
    policy = _policy(path.parent)
    fx = parse_fixture(read_data(path), policy, str(path))
    cycle = measure(policy, fx.history, fx.now).cycles_of(metric)[index - 1]
    want = [(kind, datetime.fromisoformat(f"{T}{hms}+00:00")) for kind, hms in expected]
    assert [(e.kind, e.at) for e in cycle.timeline] == want
