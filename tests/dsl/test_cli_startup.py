"""`slarules` start-up (issue 14): each run imports only what its sub-command needs.

Timings live in bench/bench_startup.py; these tests pin what is imported, in a
fresh interpreter, so a stray module-level import cannot creep back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from slarules.cli import COMMANDS, chosen_command, main

TINY = 'level a { first_response 1h }\ndefault level a\nrule "x" { when source == "chat" stop }\n'

# Never needed to check a ruleset: the server, the store, other commands, the analysis.
NOT_FOR_CHECK = (
    "slarules.service",
    "slarules.store",
    "slarules.graphql",
    "slarules.settings",
    "slarules.engine.reports",
    "slarules.engine.measurement",
    "slarules.dsl.analysis",
    "slarules.cli.diff_cmd",
    "slarules.cli.serve_cmd",
    "slarules.cli.witness",
    "pony",
    "strawberry",
    "starlette",
    "holidays",
    "dateutil",
)


def _modules_after(args: list[str]) -> list[str]:
    code = (
        "import json, sys\n"
        "from slarules.cli import main\n"
        f"code = main({args!r})\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    rc, mods = json.loads(out.splitlines()[-1])
    assert rc == 0
    return list(mods)


def test_check_imports_only_the_checker(tmp_path: Path) -> None:
    f = tmp_path / "r.sla"
    f.write_text(TINY)
    mods = _modules_after(["check", str(f)])
    loaded = [m for m in mods if m.startswith(NOT_FOR_CHECK)]
    assert loaded == []
    assert "slarules.cli.check_cmd" in mods  # the command itself did run


def test_chosen_command_is_the_first_argument_that_is_not_an_option() -> None:
    assert chosen_command(["check", "x.sla"]) == "check"
    assert chosen_command(["-h", "fmt", "--diff"]) == "fmt"
    assert chosen_command(["--version"]) is None
    assert chosen_command(["nope", "check"]) is None  # argparse reports `nope`
    assert chosen_command([]) is None


def test_help_lists_every_command_with_its_summary(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for name, summary in COMMANDS.items():
        assert f"{name} {summary}" in out


def test_each_command_still_has_its_own_options(capsys: pytest.CaptureFixture[str]) -> None:
    for name in COMMANDS:
        with pytest.raises(SystemExit) as stop:
            main([name, "--help"])
        assert stop.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: slarules {name} ")


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["nope"])
    assert stop.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err
