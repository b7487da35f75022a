"""`slarules test`, `explain` and `diff`: exit codes, output, JUnit, coverage."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from slarules.cli import main
from tests.fixtures_format.conftest import CASES, EXAMPLE

FIXTURES = EXAMPLE / "fixtures"

PASSING = """name = "standard email, first response met"
now = 2026-03-02T12:00:00-03:00

[ticket]
id = "C-1"
created_at = 2026-03-02T09:00:00-03:00
source = "email"
priority = "medium"

[[events]]
at = 2026-03-02T10:00:00-03:00
type = "message"
by = "agent"

[expect]
level = "standard"
rule = "default"

[expect.first_response]
state = "met"
elapsed = "1h"
target = "8h"
remaining = "7h"
stopped_at = 2026-03-02T13:00:00Z
breached_at = "none"
"""


def _write(d: Path, name: str, text: str) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    f = d / name
    f.write_text(text)
    return f


def _out(capsys: pytest.CaptureFixture[str]) -> tuple[list[str], str]:
    cap = capsys.readouterr()
    return cap.out.splitlines(), cap.err


def test_bundled_example_fixtures_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(EXAMPLE), str(FIXTURES)]) == 0
    lines, _ = _out(capsys)
    n = len(list(FIXTURES.rglob("*.toml"))) + len(list(FIXTURES.rglob("*.json")))
    assert n >= 20 and lines == [f"{n} passed, 0 failed"]


def test_failures_show_a_diff_per_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "a-pass.toml", PASSING)
    wrong = PASSING.replace('level = "standard"', 'level = "vip"').replace(
        'elapsed = "1h"', 'elapsed = "50m"'
    )
    bad = _write(tmp_path, "b-wrong.toml", wrong)
    assert main(["test", str(EXAMPLE), str(tmp_path)]) == 1
    lines, _ = _out(capsys)
    assert lines[0] == f"FAIL {bad} (standard email, first response met)"
    assert "  level: expected `vip`, got `standard`" in lines
    assert "  first_response.elapsed: expected 50m, got 1h" in lines
    # a wrong level lists every rule with each condition's actual value
    assert any('"Spam has no SLA"' in ln and "no match" in ln for ln in lines)
    assert any('customer_group == "VIP"' in ln and "[customer_group = unset]" in ln for ln in lines)
    assert "  level: standard (the default level: no rule set one)" in lines
    assert lines[-1] == "1 passed, 1 failed"


def test_malformed_fixtures_fail_naming_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for case in ("update-bad-value.toml", "naive-now.toml"):
        shutil.copy(CASES / case, tmp_path / case)
    assert main(["test", str(EXAMPLE), str(tmp_path)]) == 1
    lines, _ = _out(capsys)
    assert lines[0] == f"FAIL {tmp_path / 'naive-now.toml'} (x)"
    assert lines[1].startswith("  naive-datetime: ") and lines[1].endswith("(at `now`)")
    assert lines[2] == f"FAIL {tmp_path / 'update-bad-value.toml'} (x)"
    assert lines[3].startswith("  bad-value: ") and "(at `events[0].set.seats`)" in lines[3]
    assert lines[-1] == "0 passed, 2 failed"


def test_expect_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = (
        (CASES / "event-before-creation.toml")
        .read_text()
        .replace('[expect]\nlevel = "standard"', '[expect]\nerror = "event-before-creation"')
    )
    _write(tmp_path, "ok.toml", body)
    _write(tmp_path, "other.toml", body.replace('"event-before-creation"', '"bad-value"'))
    _write(
        tmp_path,
        "fine.toml",
        PASSING.replace('level = "standard"\nrule = "default"\n', 'error = "bad-value"\n')
        .replace("[expect.first_response]\nstate", "[nothing]\nstate")
        .split("[nothing]")[0],
    )
    assert main(["test", str(EXAMPLE), str(tmp_path)]) == 1
    lines, _ = _out(capsys)
    assert "  expected error `bad-value`, but the fixture loaded and ran" in lines
    assert any(
        ln.startswith("  expected error `bad-value`, got event-before-creation: ") for ln in lines
    )
    assert lines[-1] == "1 passed, 2 failed"


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(EXAMPLE), str(tmp_path)]) == 2
    assert "no fixtures (*.toml, *.json) found" in _out(capsys)[1]
    assert main(["test", str(EXAMPLE), str(tmp_path / "missing")]) == 2
    assert "does not exist" in _out(capsys)[1]
    assert main(["test", str(tmp_path / "norules"), str(FIXTURES)]) == 2
    _write(tmp_path, "r.sla", "level a { first_response 1x }\n")
    assert main(["test", str(tmp_path / "r.sla"), str(FIXTURES)]) == 2
    lines, err = _out(capsys)
    assert "r.sla:1:" in err and "has errors" in err and lines == []
    assert main(["test", str(EXAMPLE), str(FIXTURES), "--min-coverage", "120"]) == 2
    assert main(["test", str(EXAMPLE), str(FIXTURES), "--jobs", "0"]) == 2
    with pytest.raises(SystemExit) as info:
        main(["test", str(EXAMPLE)])
    assert info.value.code == 2


def test_junit_and_github(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "fx"
    _write(d, "a.toml", PASSING)
    _write(d, "b.toml", PASSING.replace('elapsed = "1h"', 'elapsed = "2h"'))
    shutil.copy(CASES / "unknown-field.toml", d / "c.toml")
    report = tmp_path / "junit.xml"
    assert main(["test", str(EXAMPLE), str(d), "--junit", str(report), "--format", "github"]) == 1
    lines, _ = _out(capsys)
    assert lines[0].startswith(f"::error file={d / 'b.toml'},title=fixture failed::")
    assert "%0Afirst_response.elapsed: expected 2h, got 1h" in lines[0]
    assert lines[1].startswith(f"::error file={d / 'c.toml'},")
    assert lines[-1] == "1 passed, 2 failed"
    root = ET.parse(report).getroot()
    suite = root.find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("3", "2")
    cases = suite.findall("testcase")
    assert [c.get("file") for c in cases] == [str(d / n) for n in ("a.toml", "b.toml", "c.toml")]
    assert cases[0].find("failure") is None
    fail = cases[1].find("failure")
    assert fail is not None and fail.get("message") == "first_response.elapsed: expected 2h, got 1h"
    assert "`ticket.colour`" in (cases[2].find("failure").text or "")  # type: ignore[union-attr]


def test_coverage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "a.toml", PASSING)
    assert main(["test", str(EXAMPLE), str(tmp_path), "--coverage"]) == 0
    lines, _ = _out(capsys)
    # 4 rules set a level, 3 levels: only the default level `standard` was reached
    assert lines[0] == (
        "coverage: 14.3% (rules that set a level: 0/4 decided a fixture; levels: 1/3 reached)"
    )
    assert '  rule never decided a level: "Tagged URGENT"' in lines
    assert "  level never reached: vip" in lines and "  level never reached: standard" not in lines
    assert main(["test", str(EXAMPLE), str(tmp_path), "--min-coverage", "15"]) == 1
    lines, _ = _out(capsys)
    assert "coverage 14.3% is below the minimum 15%" in lines and lines[-1] == "1 passed, 0 failed"
    assert main(["test", str(EXAMPLE), str(tmp_path), "--min-coverage", "14"]) == 0
    _out(capsys)
    assert main(["test", str(EXAMPLE), str(FIXTURES), "--coverage", "--min-coverage", "100"]) == 0
    assert _out(capsys)[0][0].startswith("coverage: 100.0%")


def test_explain_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _write(tmp_path, "t.toml", PASSING)
    assert main(["explain", str(EXAMPLE), str(f)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ticket C-1 as of 2026-03-02T12:00:00-03:00 (ruleset ")
    assert "times in America/Sao_Paulo" in out
    assert '1. "Spam has no SLA" (' in out and "set level none, stop): no match" in out
    assert 'false tags contains "spam"   [tags = unset]' in out
    assert 'false priority >= "critical"   [priority = "medium"]' in out
    assert "level: standard (the default level: no rule set one)" in out
    assert "first_response #1: met\n" in out
    assert "elapsed 1h, remaining 7h, target 8h" in out
    assert "started 2026-03-02T09:00:00-03:00, stopped 2026-03-02T10:00:00-03:00" in out
    assert "2026-03-02T10:00:00-03:00  stopped" in out
    assert "resolution #1: active" in out
    assert "(no rule stopped the run: all 4 rules were evaluated)" in out
    assert "level changes" not in out
    escalated = PASSING.replace(
        "[expect]",
        "[[events]]\nat = 2026-03-02T11:00:00-03:00\n"
        'type = "update"\nset = { tags = ["urgent"] }\n\n[expect]',
    )
    f.write_text(escalated)
    assert main(["explain", str(EXAMPLE), str(f)]) == 0
    out = capsys.readouterr().out
    assert "matched, evaluation stops here" in out
    assert "not evaluated (stopped at rule 2)" in out
    assert (
        "level changes (the whole history is measured under the final level):\n"
        "  2026-03-02T09:00:00-03:00  none → standard (default level)\n"
        '  2026-03-02T11:00:00-03:00  standard → urgent (rule "Tagged URGENT")\n'
    ) in out


def test_explain_now_json_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _write(tmp_path, "t.toml", PASSING)
    assert (
        main(["explain", str(EXAMPLE), str(f), "--now", "2026-03-02T12:30:00Z", "--format", "json"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["now"] == "2026-03-02T09:30:00-03:00" and data["level"] == "standard"
    fr = next(c for c in data["cycles"] if c["metric"] == "first_response")
    # the agent reply at 10:00 is after --now, so it is ignored
    assert (fr["state"], fr["elapsed_seconds"], fr["stopped_at"]) == ("active", 1800, None)
    assert data["rules"][0]["title"] == "Spam has no SLA"
    assert main(["explain", str(EXAMPLE), str(f), "--now", "2026-03-02T12:30:00"]) == 2
    assert "no offset" in capsys.readouterr().err
    assert main(["explain", str(EXAMPLE), str(f), "--now", "2026-03-01T12:30:00Z"]) == 1
    assert "now-before-creation" in capsys.readouterr().err
    bad = _write(tmp_path, "bad.toml", PASSING.replace('"medium"', '"huge"'))
    assert main(["explain", str(EXAMPLE), str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}: bad-value: ") and "(at `ticket.priority`)" in err
    assert main(["explain", str(EXAMPLE), str(tmp_path / "nope.toml")]) == 2


def test_diff_of_a_ruleset_against_itself_reports_no_change(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["diff", str(EXAMPLE), str(EXAMPLE), str(FIXTURES)]) == 0
    lines, _ = _out(capsys)
    assert lines[0] == "compliance of finished cycles, old → new:"
    assert not any("(changed)" in ln for ln in lines)
    assert lines[-1].endswith(" tickets, 0 changed")


def test_diff_reports_levels_flips_and_compliance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new"
    shutil.copytree(EXAMPLE, new, ignore=shutil.ignore_patterns("fixtures"))
    levels = new / "10-levels.sla"
    levels.write_text(levels.read_text().replace("medium 8h", "medium 30m"))
    rules = new / "20-rules.sla"
    rules.write_text(
        rules.read_text().replace(
            'source in ["email", "chat", "phone"]', 'source in ["chat", "phone"]'
        )
    )
    fx = tmp_path / "fx"
    _write(fx, "a.toml", PASSING)
    _write(
        fx,
        "b.toml",
        PASSING.replace('priority = "medium"', 'priority = "medium"\ncustomer_group = "VIP"'),
    )
    _write(
        fx,
        "c.toml",
        (CASES / "event-before-creation.toml")
        .read_text()
        .replace('level = "standard"', 'error = "event-before-creation"'),
    )
    assert main(["diff", str(EXAMPLE), str(new), str(fx)]) == 0
    lines, _ = _out(capsys)
    assert lines[:4] == [
        f"{fx / 'a.toml'} (standard email, first response met)",
        "  first_response#1: met → breached",
        f"{fx / 'b.toml'} (standard email, first response met)",
        '  level: vip → standard (rule "VIP customers" → "default")',
    ]
    assert any(ln.startswith("  first_response ") and "(changed)" in ln for ln in lines)
    assert lines[-1] == "2 tickets, 2 changed, 1 skipped (expect.error)"
    _write(fx, "d.toml", PASSING.replace('"medium"', '"huge"'))
    assert main(["diff", str(EXAMPLE), str(new), str(fx)]) == 1
    lines, _ = _out(capsys)
    assert any(ln.startswith(f"ERROR {fx / 'd.toml'}: bad-value") for ln in lines)
    assert main(["diff", str(EXAMPLE), str(new), str(tmp_path / "none")]) == 2


def test_explain_text_shows_the_notes(capsys: pytest.CaptureFixture[str]) -> None:
    from slarules.cli import main

    case = Path("tests/cases/engine/unknown_status")
    assert main(["explain", str(case / "rules.sla"), str(case / "unknown-is-open.toml")]) == 0
    out = capsys.readouterr().out
    assert any(ln.startswith("note: ") and "treated as" in ln for ln in out.splitlines())


def test_test_selects_with_k_prints_verdicts_with_v_and_speaks_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from slarules.cli import main

    rules, fixtures = "examples/helpdesk", "examples/helpdesk/fixtures"
    assert main(["test", rules, fixtures, "-k", "DST", "-v"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [ln for ln in out if ln.startswith("PASS")] and all("dst" in ln for ln in out[:-1])
    assert out[-1] == "2 passed, 0 failed"
    assert main(["test", rules, fixtures, "-k", "spam", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["passed"] == len(doc["fixtures"]) >= 1 and doc["failed"] == 0
    assert all("spam" in f["path"] for f in doc["fixtures"])
    assert main(["test", rules, fixtures, "-k", "no-such-fixture"]) == 2


def test_explain_reads_the_ticket_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`explain RULES -`: the ticket from stdin, TOML or (opening with `{`) JSON."""
    import io
    import tomllib

    from slarules.cli import main

    f = FIXTURES / "01-standard-email-first-response-met.toml"
    assert main(["explain", str(EXAMPLE), str(f)]) == 0
    from_file = capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(f.read_bytes())))
    assert main(["explain", str(EXAMPLE), "-"]) == 0
    assert capsys.readouterr().out == from_file
    doc = json.dumps(tomllib.loads(f.read_text()), default=str)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(doc.encode())))
    assert main(["explain", str(EXAMPLE), "-"]) == 0
    assert capsys.readouterr().out == from_file
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"ticket = 3\n")))
    assert main(["explain", str(EXAMPLE), "-"]) == 1
    assert capsys.readouterr().err.startswith("<stdin>: ")
