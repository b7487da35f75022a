"""Malformed fixtures fail one fixture, not the run (issue 11 item 9).

Before: month 13 / hour 24 / offsets over 24h in JSON, instants near year 1 or
9999, `type = []`, 1000-deep arrays, 4,301-digit integers and out-of-range
`expect` instants each stopped `slarules test` with a traceback.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from slarules.cli import main
from slarules.engine.policy import Policy
from slarules.fixtures.runner import run_fixture
from tests.fixtures_format.conftest import CASES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "helpdesk"
GOOD = EXAMPLE / "fixtures" / "01-standard-email-first-response-met.toml"

BASE = {
    "name": "j",
    "now": "2026-03-02T12:30:00-03:00",
    "ticket": {"id": "J", "created_at": "2026-03-02T10:00:00-03:00", "source": "email"},
    "events": [],
    "expect": {"level": "standard"},
}


def _json(**changes: object) -> str:
    doc = json.loads(json.dumps(BASE))
    for path, value in changes.items():
        *heads, last = path.split("__")
        target = doc
        for h in heads:
            target = target[h]
        target[last] = value
    return json.dumps(doc)


# (file name, content, the key the failure names or None when the parser cannot tell)
JSON_CASES = [
    ("month13.json", _json(ticket__created_at="2026-13-02T10:00:00-03:00"), "ticket.created_at"),
    ("hour24.json", _json(ticket__created_at="2026-03-02T24:00:00-03:00"), "ticket.created_at"),
    ("offset.json", _json(ticket__created_at="2026-03-02T10:00:00+25:00"), "ticket.created_at"),
    ("year1.json", _json(ticket__created_at="0001-01-01T00:00:00+05:00"), "ticket.created_at"),
    ("year9999.json", _json(now="9999-12-31T23:59:59-05:00"), "now"),
    (
        "type-list.json",
        _json(events=[{"at": "2026-03-02T11:00:00-03:00", "type": []}]),
        "events[0].type",
    ),
    ("deep.json", json.dumps(BASE)[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}", None),
    (
        "digits.json",
        json.dumps(BASE).replace('"source": "email"', '"source": "email", "seats": ' + "9" * 4301),
        None,
    ),
    (
        "expect.json",
        _json(expect__first_response={"due_at": "9999-12-31T23:59:59-05:00"}),
        "expect.first_response.due_at",
    ),
]


@pytest.mark.parametrize(("name", "text", "key"), JSON_CASES, ids=[c[0] for c in JSON_CASES])
def test_malformed_json_fixture_fails_with_code_and_key(
    name: str, text: str, key: str | None, tmp_path: Path, helpdesk: Policy
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    outcome = run_fixture(helpdesk, path)
    assert not outcome.passed
    [line] = outcome.lines
    assert line.split(":")[0] in ("bad-value", "unknown-event-type")
    if key is not None:
        assert line.endswith(f"(at `{key}`)")


def test_the_run_goes_on_and_ends_with_its_count_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = sorted(CASES.glob("limit-*.toml"))
    assert len(bad) >= 10
    for p in bad:
        shutil.copy(p, tmp_path / p.name)
    for name, text, _key in JSON_CASES:
        (tmp_path / name).write_text(text, encoding="utf-8")
    shutil.copy(GOOD, tmp_path / "zz-good.toml")
    assert main(["test", str(EXAMPLE), str(tmp_path)]) == 1
    out = capsys.readouterr().out
    n_bad = len(bad) + len(JSON_CASES)
    assert out.count("\nFAIL ") + out.startswith("FAIL ") == n_bad
    assert "Traceback" not in out
    assert out.rstrip().splitlines()[-1] == f"1 passed, {n_bad} failed"


def test_an_engine_failure_fails_the_fixture_with_cannot_run(helpdesk: Policy) -> None:
    def broken(*args: object) -> None:
        raise OverflowError("date value out of range")

    outcome = run_fixture(helpdesk, GOOD, broken)  # type: ignore[arg-type]
    assert not outcome.passed
    assert outcome.lines == (
        "cannot-run: the fixture could not be run (OverflowError: date value out of range)",
    )


def test_a_duration_with_thousands_of_digits_is_bad_value(tmp_path: Path, helpdesk: Policy) -> None:
    """Found by tests/fuzz: `elapsed = "9…9h"` (4,302 digits) raised ValueError in `int()`."""
    text = GOOD.read_text(encoding="utf-8").replace(
        'elapsed = "1h30m"', f'elapsed = "{"9" * 4302}h"'
    )
    path = tmp_path / "f.toml"
    path.write_text(text, encoding="utf-8")
    outcome = run_fixture(helpdesk, path)
    assert outcome.lines[0].startswith("bad-value:")
    assert outcome.lines[0].endswith("(at `expect.first_response.elapsed`)")
