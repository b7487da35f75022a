"""The code registry and language.md §Checking list the same codes."""

from __future__ import annotations

import re
from pathlib import Path

from slarules.dsl import codes

DOC = Path(__file__).resolve().parents[2] / "docs" / "language.md"


def _documented() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Checking") :]
    section = section[: section.index("\n## ", 5)]
    return dict(re.findall(r"^\| `([a-z-]+)` \| (error|warning|info) \|", section, re.M))


def test_registry_and_docs_have_the_same_codes() -> None:
    documented = _documented()
    assert set(documented) == set(codes.REGISTRY)
    assert documented == dict(codes.REGISTRY)


def test_every_wording_is_one_line() -> None:
    msg = codes.unknown_priority("lowest", ["low", "medium", "high"])
    assert msg.code == "unknown-priority" and "\n" not in msg.message
    assert msg.hint == "did you mean `low`?"
    msg = codes.unknown_priority("zzz", ["low", "medium", "high"])
    assert msg.hint == "valid values: `low`, `medium`, `high`"
