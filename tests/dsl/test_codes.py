"""The code registry and language.md §Checking list the same codes; §Limits names only those."""

from __future__ import annotations

import re
from pathlib import Path

from slarules.dsl import codes, limit_codes  # noqa: F401 (importing registers their codes)
from slarules.dsl.analysis import messages  # noqa: F401

DOC = Path(__file__).resolve().parents[2] / "docs" / "language.md"


def _section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(f"\n## {title}\n") + 1 :]
    return section[: section.index("\n## ", 5)]


def _documented() -> dict[str, str]:
    rows = r"^\| `([a-z-]+)` \| (error|warning|info) \|"
    return dict(re.findall(rows, _section("Checking"), re.M))


def _limit_codes() -> list[str]:
    """The `code` column of §Limits (the last cell of each row: `code` and maybe a note)."""
    return re.findall(r"^\|[^\n]*\| `([a-z-]+)`[^|\n]*\|$", _section("Limits"), re.M)


def test_registry_and_docs_have_the_same_codes() -> None:
    documented = _documented()
    assert set(documented) == set(codes.REGISTRY)
    assert documented == dict(codes.REGISTRY)


def test_every_limit_is_a_registered_error_listed_in_checking() -> None:
    limits = _limit_codes()
    assert len(limits) == 8  # every row of the §Limits table was read
    for code in limits:
        assert codes.REGISTRY.get(code) == "error", code
        assert _documented().get(code) == "error", code


def test_every_wording_is_one_line() -> None:
    msg = codes.unknown_priority("lowest", ["low", "medium", "high"])
    assert msg.code == "unknown-priority" and "\n" not in msg.message
    assert msg.hint == "did you mean `low`?"
    msg = codes.unknown_priority("zzz", ["low", "medium", "high"])
    assert msg.hint == "valid values: `low`, `medium`, `high`"
