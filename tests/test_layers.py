"""The layering the import contracts cannot see: no engine call and no wire format in the store."""

from __future__ import annotations

import re
from pathlib import Path

STORE = Path(__file__).resolve().parents[1] / "slarules" / "store"


def _code(path: Path) -> str:
    return "\n".join(ln for ln in path.read_text().splitlines() if not ln.lstrip().startswith("#"))


def test_the_store_calls_no_engine_measure() -> None:
    hits = [
        f"{p.name}: {m.group(0)}"
        for p in STORE.rglob("*.py")
        for m in re.finditer(r"timers|\bmeasure\(", _code(p))
    ]
    assert hits == []


def test_the_store_writes_no_camel_case_wire_keys() -> None:
    camel = re.compile(r"""["']([a-z]+[A-Z][A-Za-z]*)["']""")
    hits = [
        f"{p.name}: {m.group(1)}" for p in STORE.rglob("*.py") for m in camel.finditer(_code(p))
    ]
    assert hits == []
