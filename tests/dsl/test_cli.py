"""`slarules check` and `slarules fmt`: output formats and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from slarules.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "helpdesk"


def test_check_example_strict_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(EXAMPLE), "--strict"]) == 0
    assert capsys.readouterr().out.strip() == "ok: 3 files, 4 rules"


def test_check_errors_text_json_github(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "r.sla"
    f.write_text(
        'level a { }\nlevel b { }\ndefault level a\nrule "x" { when tags == "vip" stop }\n'
    )
    assert main(["check", str(f)]) == 1
    out = capsys.readouterr().out
    assert f"{f}:4:17: error[type-mismatch]" in out
    assert 'hint: to test membership, write `tags contains "vip"`' in out
    assert out.rstrip().endswith("1 error, 1 warning")
    assert main(["check", str(f), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [d["code"] for d in data] == ["unused-level", "type-mismatch"]
    assert data[1]["line"] == 4 and data[1]["column"] == 17
    assert main(["check", str(f), "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith(
        f"::error file={f},line=4,col=17,endLine=4,endColumn=30,title=type-mismatch::"
    )


def test_check_warnings_fail_only_with_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "r.sla"
    f.write_text("level a { }\nlevel b { }\ndefault level a\n")
    assert main(["check", str(f)]) == 0
    assert main(["check", str(f), "--strict"]) == 1
    assert "1 warning" in capsys.readouterr().out


def test_check_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "missing")]) == 2
    assert main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "no `.sla` files" in err
    with pytest.raises(SystemExit) as info:
        main(["check"])
    assert info.value.code == 2


def test_check_bad_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.sla").write_bytes(b"level a { }\n# caf\xe9\n")
    assert main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "a.sla:2:6: error[invalid-encoding]" in out
    assert "Traceback" not in out


def test_fmt_check_and_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "rules")
    rules = tmp_path / "rules"
    assert main(["fmt", "--check", str(rules)]) == 0
    messy = rules / "30-more.sla"
    messy.write_text('rule   "z"{stop}\n')
    assert main(["fmt", "--check", str(rules)]) == 1
    assert f"would reformat {messy}" in capsys.readouterr().out
    assert messy.read_text() == 'rule   "z"{stop}\n'
    assert main(["fmt", str(rules)]) == 0
    assert messy.read_text() == 'rule "z" {\n  stop\n}\n'
    assert main(["fmt", "--check", str(rules)]) == 0


def test_fmt_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.sla"
    f.write_text("level {\n")
    assert (
        main(["fmt", str(f)]) == 1
    )  # a syntax error is the failure fmt reports, not a usage error
    assert "error[syntax-error]" in capsys.readouterr().err
    assert f.read_text() == "level {\n"


def test_check_analyze_writes_witness_fixtures_that_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = Path(__file__).resolve().parents[1] / "cases" / "analysis" / "findings.sla"
    out = tmp_path / "witnesses"
    assert main(["check", "--analyze", str(rules), "--witness-dir", str(out)]) == 0
    text = capsys.readouterr().out
    assert "warning[shadowed-rule]" in text
    assert 'witness: source = "chat", priority = "critical" → level standard' in text
    assert main(["check", "--analyze", "--strict", str(rules)]) == 1
    capsys.readouterr()
    assert main(["test", str(rules), str(out)]) == 0
    assert capsys.readouterr().out.rstrip().endswith("7 passed, 0 failed")


def test_version_fmt_diff_and_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("slarules ")
    f = tmp_path / "r.sla"
    f.write_text('rule "z" {   stop }\n')
    assert main(["fmt", "--diff", str(f)]) == 1
    out = capsys.readouterr().out
    assert '-rule "z" {   stop }' in out and "+  stop" in out
    assert f.read_text() == 'rule "z" {   stop }\n'  # --diff writes nothing
    stdin = io.TextIOWrapper(io.BytesIO(b'rule "z" {   stop }\n'))
    monkeypatch.setattr("sys.stdin", stdin)
    assert main(["fmt", "-"]) == 0
    assert capsys.readouterr().out == 'rule "z" {\n  stop\n}\n'
    stdin = io.TextIOWrapper(io.BytesIO(b"level a { first_response 1h }\ndefault level a\n"))
    monkeypatch.setattr("sys.stdin", stdin)
    assert main(["check", "-"]) == 0
    assert capsys.readouterr().out.startswith("ok: 1 file")
