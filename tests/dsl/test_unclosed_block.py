"""A missing `}` is reported at the `{` it should close, not where the parser noticed."""

from __future__ import annotations

import pytest

from slarules.dsl import build_source

CASES = [
    # (text, line and column of the unclosed `{`, what was found)
    (
        'level a {\n  first_response 1h\n\nrule "x" {\n  when source == "chat"\n  stop\n}\n',
        (1, 9),
        "`rule` at 4:1",
    ),
    ("level a {\n  first_response 1h\n", (1, 9), "the end of the file"),
    (  # braces inside strings, comments and regexes do not count
        "level a {\n  first_response 1h\n}\ndefault level a\n"
        'rule "{ x" {  # a } in a comment\n  when subject matches /(.*a){2}/\n  set level a\n\n'
        "level b {\n  resolution 1h\n}\n",
        (5, 12),
        "`level` at 9:1",
    ),
]


@pytest.mark.parametrize(("text", "at", "found"), CASES)
def test_a_block_never_closed_is_reported_at_its_brace(
    text: str, at: tuple[int, int], found: str
) -> None:
    (d,) = build_source(text, "r.sla").diagnostics
    assert (d.code, d.line, d.column) == ("syntax-error", *at)
    assert d.message.startswith("this block is never closed") and found in d.message
    assert d.hint == "add `}` where the block ends"


def test_other_syntax_errors_keep_their_place() -> None:
    (d,) = build_source("level a {\n  first_response 1h\n  bogus\n}\n", "r.sla").diagnostics
    assert (d.line, d.column) == (3, 3) and "never closed" not in d.message


def test_errors_a_broken_file_may_cause_in_another_are_marked() -> None:
    from slarules.dsl import SourceFile, build

    a = SourceFile("a.sla", b"level vip {\n  first_response 1h\n")
    b = SourceFile("b.sla", b'default level vip\nrule "x" {\n  when tags contains "a"\n  stop\n}\n')
    diags = build([a, b]).diagnostics
    assert [(d.file, d.code) for d in diags] == [
        ("a.sla", "syntax-error"),
        ("b.sla", "unknown-level"),
    ]
    assert diags[1].hint == "`a.sla` did not parse and may declare it: fix that file first"
