"""The language's limits (language.md §Limits): each one a diagnostic, never a crash.

The inputs of issue 11 item 4 crashed `check`, `fmt`, `test`, `explain` and
`build_source` (GraphQL checkRules/reloadRules) with RecursionError,
SyntaxError or ValueError, or stalled `test` for 20 s and then crashed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from slarules import dsl
from slarules.cli import main
from slarules.dsl import build_source, format_source, limits
from slarules.errors import RulesError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "helpdesk"
FIXTURE = EXAMPLE / "fixtures" / "08-vip-periodic-response-and-agent-work.toml"
SETUP = "".join((EXAMPLE / n).read_text() for n in ("00-setup.sla", "10-levels.sla"))


def _rule(cond: str) -> str:
    return SETUP + f'\nrule "x" {{\n  when {cond}\n  set level vip\n}}\n'


ISSUE_INPUTS = {
    "199 nested not": (_rule("not " * 199 + 'priority == "high"'), "nesting-too-deep"),
    "100 nested (… or": (
        _rule('(priority == "high" or ' * 100 + 'priority == "low"' + ")" * 100),
        "nesting-too-deep",
    ),
    "488 parentheses": (_rule("(" * 488 + 'priority == "high"' + ")" * 488), "nesting-too-deep"),
    "4301-digit number": (_rule("seats == " + "9" * 4301), "number-too-long"),
    "4301-digit duration": (
        SETUP.replace("first_response 30m", "first_response " + "9" * 4301 + "m"),
        "number-too-long",
    ),
    "first_response 3000000d": (
        SETUP.replace("first_response 30m", "first_response 3000000d"),
        "duration-too-long",
    ),
}


@pytest.mark.parametrize("name", list(ISSUE_INPUTS))
def test_issue_inputs_are_diagnostics_in_build_source(name: str) -> None:
    text, code = ISSUE_INPUTS[name]
    result = build_source(text, "r.sla")
    assert result.policy is None
    [err] = [d for d in result.errors if d.code == code]
    assert err.file == "r.sla" and err.line and err.column and err.hint


@pytest.mark.parametrize("name", list(ISSUE_INPUTS))
def test_issue_inputs_through_the_cli(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, code = ISSUE_INPUTS[name]
    rules = tmp_path / "r.sla"
    rules.write_text(text, encoding="utf-8")
    assert main(["check", str(rules)]) == 1
    assert f"error[{code}]" in capsys.readouterr().out
    for argv in (["test", str(rules), str(FIXTURE)], ["explain", str(rules), str(FIXTURE)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"error[{code}]" in err and "has errors" in err
    fmt = main(["fmt", "--check", str(rules)])
    if code in ("nesting-too-deep", "number-too-long"):  # fmt needs only a parse
        assert fmt == 1  # a file that does not parse: exit 1, as for a syntax error
        assert f"error[{code}]" in capsys.readouterr().err
    else:
        assert fmt in (0, 1)


@pytest.mark.parametrize("name", ["199 nested not", "488 parentheses", "4301-digit number"])
def test_format_source_reports_the_limit(name: str) -> None:
    text, code = ISSUE_INPUTS[name]
    with pytest.raises(RulesError) as e:
        format_source(text, "r.sla")
    assert [d.code for d in e.value.diagnostics] == [code]


def test_depth_limit_is_exact_and_the_deepest_allowed_compiles() -> None:
    depth = limits.MAX_DEPTH
    forms = {
        "not": lambda inner: "not " + inner,
        "paren": lambda inner: "(" + inner + ")",
        "or": lambda inner: '(priority == "low" or ' + inner + ")",
        "and-not": lambda inner: "(not " + inner[1:] if inner.startswith("(") else "not " + inner,
    }
    for name, wrap in forms.items():
        cond = 'priority == "high"'
        for _ in range(depth):
            cond = wrap(cond)
        ok = build_source(_rule(cond))
        assert ok.policy is not None, (name, [d.render() for d in ok.errors])
        ok.policy.explain({"priority": "high"})  # the explain code compiles too
        deeper = build_source(_rule(wrap(cond)))
        assert [d.code for d in deeper.errors] == ["nesting-too-deep"], name


def test_not_in_and_is_not_set_do_not_count_as_nesting() -> None:
    cond = " and ".join(['source not in ["chat"]', "seats is not set"] * 40)
    assert build_source(_rule(cond)).policy is not None


def test_nots_of_earlier_conditions_do_not_add_up() -> None:
    rules = "".join(
        f'rule "r{i}" {{\n  when not priority == "high"\n  set level vip\n}}\n' for i in range(40)
    )
    assert build_source(SETUP + rules).policy is not None


def test_digit_limit() -> None:
    ok = build_source(_rule("seats == " + "9" * limits.MAX_DIGITS))
    assert ok.policy is not None
    bad = build_source(_rule("seats == 0." + "1" * limits.MAX_DIGITS))
    [d] = bad.errors
    assert (d.code, d.line) == ("number-too-long", SETUP.count("\n") + 3)


def test_duration_limit_covers_targets_tables_and_warn_before() -> None:
    ok = SETUP.replace("first_response 30m", "first_response 365d")
    assert build_source(ok).policy is not None
    text = SETUP.replace("warn before 15m", "warn before 366d").replace("else 24h", "else 8761h")
    codes = sorted(d.code for d in build_source(text).errors)
    assert codes == ["duration-too-long", "duration-too-long"]


def test_target_needs_too_many_years_of_a_sparse_calendar() -> None:
    text = (
        'calendar tiny {\n  timezone "UTC"\n  hours sat 09:00-10:00\n}\n'
        "level a {\n  calendar tiny\n  first_response 261h\n}\n"
        'calendar shut {\n  timezone "UTC"\n}\n'
        "level b {\n  calendar shut\n  resolution 1h\n}\n"
        "default level a\n"
    )
    errs = [d for d in build_source(text, "t.sla").errors]
    assert [(d.code, d.line) for d in errs] == [
        ("target-out-of-range", 7),
        ("target-out-of-range", 14),
    ]
    assert "1 open hours a week" in errs[0].message and "260h" in (errs[0].hint or "")
    fine = text.replace("261h", "260h").replace("resolution 1h\n", "")
    assert build_source(fine).policy is not None


def test_target_out_of_range_is_checked_across_files() -> None:
    cal = dsl.SourceFile(
        "a.sla", b'calendar tiny {\n  timezone "UTC"\n  hours sat 09:00-10:00\n}\n'
    )
    lvl = dsl.SourceFile(
        "b.sla", b"level a {\n  calendar tiny\n  first_response 300h\n}\ndefault level a\n"
    )
    [d] = dsl.build([cal, lvl]).errors
    assert (d.code, d.file, d.line, d.column) == ("target-out-of-range", "b.sla", 3, 18)


def test_rule_and_term_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_RULES", 3)
    rules = "".join(f'rule "r{i}" {{\n  set level vip\n}}\n' for i in range(5))
    [d] = build_source(SETUP + rules, "r.sla").errors
    assert d.code == "too-many-rules" and d.line == SETUP.count("\n") + 1 + 3 * 3
    cond = " or ".join(f'tags contains "t{i}"' for i in range(limits.MAX_TERMS + 1))
    [d] = build_source(_rule(cond)).errors
    assert d.code == "condition-too-long" and len(d.source_line or "") < 200


def test_file_and_ruleset_size(monkeypatch: pytest.MonkeyPatch) -> None:
    big = SETUP + "#" * (limits.MAX_FILE_BYTES - len(SETUP.encode()) + 1)
    [d] = build_source(big, "big.sla").errors
    assert (d.code, d.file, d.line, d.column) == ("file-too-large", "big.sla", 1, 1)
    monkeypatch.setattr(limits, "MAX_RULESET_BYTES", 10)
    [d] = dsl.build([dsl.SourceFile("a.sla", b"# 1234567890\n")]).errors
    assert d.code == "ruleset-too-large"


def test_a_compiler_failure_is_a_diagnostic_not_an_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 11 item 5: `reloadRules` of a ruleset the compiler cannot build answered
    INTERNAL_SERVER_ERROR, because `build` raised."""

    def boom(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(dsl, "compile_policy", boom)
    result = build_source(SETUP, "r.sla")
    assert result.policy is None
    [d] = result.errors
    assert d.code == "cannot-compile" and d.file == "r.sla" and "RecursionError" in d.message


def test_a_lone_surrogate_is_a_diagnostic() -> None:
    """Found by tests/fuzz: `checkRules(source: "\\ud800")` raised UnicodeEncodeError."""
    [d] = build_source("level a { }\n\ud800", "r.sla").errors
    assert (d.code, d.line) == ("invalid-encoding", 2)
