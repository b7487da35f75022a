"""Parser: strict grammar, AST with spans, comments, syntax errors in words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from slarules.dsl import ast, build, parse
from slarules.dsl.parser import RulesSyntaxError, build_parser
from slarules.dsl.source import SourceFile

ROOT = Path(__file__).resolve().parents[2]


def test_grammar_builds_strict_without_cache() -> None:
    parser = build_parser(strict=True, cache=False)
    assert parser.options.parser == "lalr" and parser.options.strict


def test_example_parses_with_spans_and_comments() -> None:
    text = (ROOT / "examples/helpdesk/20-rules.sla").read_text()
    m = parse(text, "20-rules.sla")
    rules = [d for d in m.decls if isinstance(d, ast.RuleDecl)]
    assert [r.title.value for r in rules][:2] == ["Spam has no SLA", "Tagged URGENT"]
    assert rules[0].span.line == 5 and rules[0].span.column == 1
    assert m.comments and m.comments[0].text.startswith("# Rules run")


def test_regex_hash_and_escaped_slash() -> None:
    m = parse('rule "r" { when subject matches /a\\/b#c/i stop } # real\n')
    rule = m.decls[0]
    assert isinstance(rule, ast.RuleDecl) and isinstance(rule.when, ast.Matches)
    assert rule.when.regex.pattern == "a/b#c" and rule.when.regex.ignore_case
    assert [c.text for c in m.comments] == ["# real"]


def test_dates_beat_numbers_and_durations() -> None:
    m = parse("""level l { first_response 2d4h30m
warn before 90m }
rule "r" { when renewal < 2026-03-01 and seats > -3.5 and t >= 2026-03-01T09:00:00-03:00 stop }""")
    level, rule = m.decls
    assert isinstance(level, ast.LevelDecl) and isinstance(rule, ast.RuleDecl)
    target = level.items[0]
    assert isinstance(target, ast.TargetStmt) and isinstance(target.value, ast.Duration)
    assert target.value.seconds == (2 * 24 * 60 + 4 * 60 + 30) * 60
    assert isinstance(rule.when, ast.And)
    a, b, c = rule.when.items
    assert isinstance(a, ast.Compare) and isinstance(a.right, ast.DateLit)
    assert isinstance(b, ast.Compare) and b.right == ast.Num(-3.5, "-3.5")
    assert isinstance(c, ast.Compare) and isinstance(c.right, ast.DateTimeLit)
    assert c.right.value is not None and c.right.value.utcoffset() is not None


def test_precedence_or_and_not() -> None:
    m = parse('rule "r" { when not a or b and not (c) stop }')
    rule = m.decls[0]
    assert isinstance(rule, ast.RuleDecl)
    assert rule.when == ast.Or(
        (
            ast.Not(ast.Bare(ast.FieldRef("a"))),
            ast.And((ast.Bare(ast.FieldRef("b")), ast.Not(ast.Group(ast.Bare(ast.FieldRef("c")))))),
        )
    )


def test_string_escapes() -> None:
    m = parse('rule "a \\"q\\" \\\\ b" { stop }')
    rule = m.decls[0]
    assert isinstance(rule, ast.RuleDecl) and rule.title.value == 'a "q" \\ b'


LARK_NAMES = re.compile(r"\b(NAME|STRING|DURATION|PERCENT|__ANON\w*|\$END|LBRACE|RBRACE|COMMA)\b")


@pytest.mark.parametrize(
    ("text", "line", "col", "words"),
    [
        ("level x {", 1, 9, "this block is never closed (found the end of the file"),
        ('rule "a" { when a < b < c stop }', 1, 23, "expected `and`, `or`, `set` or `stop`"),
        ("level x { first_response 1x }", 1, 26, "a duration like 1h30m"),
        ("level x { warn at 50 }", 1, 19, "a percentage like 50%"),
        ("schema { field x: txt }", 1, 19, "`bool`, `date`"),
        ('rule "x" { }', 1, 12, "`set`, `stop` or `when`"),
        ("frobnicate", 1, 1, "`calendar`"),
        ('rule "x" {\n  when a == "b\\n" stop }', 2, 13, 'unexpected `"`'),
        ('statuses { opne = "a" }', 1, 12, "`open`"),
        ("level x { pause }", 1, 17, "`when`"),
        ('rule "x" { when d < 2026-03-01T09:00 stop }', 1, 31, "unexpected `T09"),
    ],
)
def test_syntax_errors_in_words(text: str, line: int, col: int, words: str) -> None:
    with pytest.raises(RulesSyntaxError) as info:
        parse(text, "f.sla")
    d = info.value.diagnostic
    assert (d.code, d.file, d.line, d.column) == ("syntax-error", "f.sla", line, col)
    assert words in d.message
    assert not LARK_NAMES.search(d.message), d.message
    assert d.source_line is not None


def test_build_reports_first_syntax_error_per_file_and_checks_others() -> None:
    result = build(
        [
            SourceFile("a.sla", b'level a { resolution 8h }\nrule "r" { when x == 1 stop }\n'),
            SourceFile("b.sla", b"level b {\n"),
            SourceFile("c.sla", b"\xff\xfe"),
            SourceFile("d.sla", b"# only a comment\n"),
        ]
    )
    assert result.policy is None
    got = [(d.file, d.code) for d in result.diagnostics]
    assert got == [
        ("a.sla", "unknown-field"),
        ("b.sla", "syntax-error"),
        ("c.sla", "invalid-encoding"),
        ("d.sla", "empty-file"),
    ]


def test_empty_ruleset_and_empty_file() -> None:
    result = build([SourceFile("e.sla", b"")])
    assert result.policy is None
    assert sorted(d.code for d in result.diagnostics) == ["empty-file", "no-level"]
    assert build([]).policy is None
