"""Completion contexts and hover texts without a server (the pure part of slarules.lsp)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from slarules.dsl import parse
from slarules.lsp import complete, hover, vocab
from slarules.lsp.analysis import suggestions, token_end
from slarules.lsp.index import Index, add_module

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ix() -> Index:
    index = Index()
    for f in sorted((ROOT / "examples" / "helpdesk").glob("*.sla")):
        text = f.read_text(encoding="utf-8")
        add_module(index, f.name, parse(text, f.name), text.split("\n"))
    return index


def labels(ix: Index, before: str) -> list[str]:
    return [i.label for i in complete.complete(ix, before)]


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ('rule "a" {\n  when tags is set\n  set level ', ["urgent", "vip", "standard", "none"]),
        ('rule "a" {\n  when tags is not set and ', None),  # fields, not level names
        ("default level st", ["urgent", "vip", "standard"]),
        (
            "level x {\n  first_response by source { ",
            ["email", "chat", "phone", "web", "api", "else"],
        ),
        (
            "level x {\n  first_response by priority { urgent 1h, ",
            ["low", "medium", "high", "critical", "else"],
        ),
        ('rule "a" {\n  when created_at.', ["weekday", "hour"]),
        (
            'rule "a" {\n  when created_at.weekday in [',
            ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        ),
        ('rule "a" {\n  when updated_at during ', ["business", "follow_the_sun", "always"]),
        ("level x {\n  warn ", ["at", "before"]),
        ("calendar c {\n  hours ", list(vocab.DAYS)),
        ('calendar c {\n  holidays "BR" ', ["subdivision"]),
        ("schema {\n  ", ["priorities", "sources", "field"]),
        ("statuses {\n  ", ["open", "waiting", "hold", "done"]),
        ("# a comment { not a block\n", list(vocab.BLOCK_KEYWORDS["top"])),
        ('rule "a {" {\n  ', ["when", "set", "stop"]),  # a brace inside a string
    ],
)
def test_contexts(ix: Index, before: str, expected: list[str] | None) -> None:
    got = labels(ix, before)
    if expected is None:
        assert "priority" in got and "standard" not in got
    else:
        assert got == expected


def test_values_inside_a_string_have_no_quotes(ix: Index) -> None:
    [*items] = complete.complete(ix, 'rule "a" {\n  when status == "')
    assert [i.label for i in items][:3] == ["new", "open", "chatting"]
    assert items[0].insert == "new"
    outside = complete.complete(ix, 'rule "a" {\n  when status == ')
    assert outside[0].insert == '"new"'


def test_operators_follow_the_field_type(ix: Index) -> None:
    assert "contains any" in labels(ix, 'rule "a" {\n  when tags ')
    assert "<=" in labels(ix, 'rule "a" {\n  when seats ')
    assert "during" in labels(ix, 'rule "a" {\n  when created_at ')
    assert "matches" not in labels(ix, 'rule "a" {\n  when seats ')


def test_builtin_fields_match_the_language_spec() -> None:
    spec = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    table = spec[spec.index("Built-in ticket fields:") : spec.index("plus the custom fields")]
    documented: dict[str, str] = {}
    for names, kind in re.findall(r"^\| ((?:`\w+`(?:, )?)+) \| (\w+)", table, re.M):
        for n in re.findall(r"`(\w+)`", names):
            documented[n] = kind
    assert {n: k for n, (k, _) in vocab.BUILTIN_FIELDS.items()} == documented


def test_hover_and_token_helpers(ix: Index) -> None:
    assert hover.duration_hover(ix, "40h", 40 * 3600, "business").startswith(
        "`40h` on `business` ≈ 5 working days (8h open a day)"
    )
    assert "`1d` here is 3 working days" in hover.duration_hover(ix, "1d", 86400, "business")
    assert hover.duration_hover(ix, "2h", 7200, "always").startswith("`2h` on `always` ≈ 0.08")
    assert hover.open_minutes(ix.calendars["follow_the_sun"]) == {d: 1440 for d in range(7)}
    assert token_end('  pause when status == "a \\" b" and', 23) == (31, True)
    assert token_end("  set level vpi", 12) == (15, False)
    assert suggestions("did you mean `a`, `b` or `c`?") == ("a", "b", "c")
    assert suggestions("the first is at x.sla:3") == ()


def test_calendar_hover_lists_the_next_days_off(ix: Index) -> None:
    from datetime import UTC, datetime

    text = hover.calendar_hover(ix, "business", datetime(2026, 12, 20, 12, tzinfo=UTC)) or ""
    assert "time zone `America/Sao_Paulo`" in text and "40 open hours a week" in text
    days = text.split("next days off:\n")[1].splitlines()
    assert days[:3] == [
        "- 2026-12-24 Thu — Christmas Eve",  # a `closed` day of the calendar
        "- 2026-12-25 Fri — Christmas Day",  # a BR holiday
        "- 2026-12-31 Thu — New Year's Eve",
    ]
    assert "always" in (hover.calendar_hover(ix, "always", datetime.now(UTC)) or "")
