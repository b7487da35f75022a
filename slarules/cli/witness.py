"""Witness tickets of `check --analyze`: as text, as JSON, and as fixture files (the edge)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from slarules.dsl.analysis import Finding
from slarules.engine.policy import Policy

_BASE = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def shown(fields: dict[str, Any]) -> str:
    if not fields:
        return "a ticket with no fields set"
    return ", ".join(f"{k} = {_toml(v)}" for k, v in fields.items())


def jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple) else v)
        for k, v in fields.items()
    }


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, tuple | list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    text = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50] or "witness"


def fixture_text(f: Finding, policy: Policy, index: int) -> str:
    """A fixture ready to commit: the witness ticket, `expect` measured by the engine."""
    from slarules.fixtures import parse_fixture
    from slarules.fixtures.runner import engine_measure

    assert f.witness is not None
    fields = dict(f.witness)
    created = fields.pop("created_at", _BASE)
    fields.pop("updated_at", None)
    name = f"{f.msg.code}: {f.msg.message}"
    doc = {
        "name": name,
        "now": created,
        "ticket": {"id": f"W-{index}", "created_at": created, **fields},
        "expect": {},
    }
    fx = parse_fixture(doc, policy, "<witness>", explain=True)
    m = engine_measure(policy, fx.history, fx.now)
    lines = [
        f"# Witness of `slarules check --analyze` ({f.msg.code}), expect measured by the engine.",
        f"name = {_toml(name)}",
        f"now = {_toml(created)}",
        "",
        "[ticket]",
        f'id = "W-{index}"',
        f"created_at = {_toml(created)}",
        *(f"{k} = {_toml(v)}" for k, v in fields.items()),
        "",
        "[expect]",
        f"level = {_toml(m.level or 'none')}",
        f"rule = {_toml(m.decision.decided_by or 'none')}",
        "",
    ]
    return "\n".join(lines)


def write_witnesses(findings: list[Finding], policy: Policy, folder: str) -> list[Path]:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i, f in enumerate(x for x in findings if x.witness is not None):
        path = out / f"{i + 1:02d}-{_slug(f.msg.code + ' ' + f.msg.message)}.toml"
        path.write_text(fixture_text(f, policy, i + 1), encoding="utf-8")
        written.append(path)
    return written
