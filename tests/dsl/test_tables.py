"""The parser's shipped tables (issue 11 item 12): no user-writable pickle is ever loaded.

Before, the parser loaded (and wrote) a Lark cache pickle in `$XDG_CACHE_HOME` or
`~/.cache/slarules`: anyone who could write there ran code in every slarules process.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from slarules.dsl import _grammar_tables, tables
from slarules.dsl.parser import GRAMMAR_PATH, _on_comment, build_parser

ROOT = Path(__file__).resolve().parents[2]
GRAMMAR = GRAMMAR_PATH.read_text(encoding="utf-8")
CALLBACKS = {"COMMENT": _on_comment}


def test_the_shipped_tables_are_current() -> None:
    """Fails after a grammar edit until `python -m slarules.dsl` regenerates them."""
    meta = _grammar_tables.META
    assert meta["grammar_sha256"] == tables.sha256(GRAMMAR.encode("utf-8"))
    assert meta["tables_sha256"] == tables.sha256(tables.TABLES_PATH.read_bytes())
    assert tables.load(GRAMMAR, CALLBACKS, meta) is not None


def test_shipped_tables_parse_like_a_fresh_build() -> None:
    shipped = tables.load(GRAMMAR, CALLBACKS, _grammar_tables.META)
    fresh = build_parser(cache=False)
    assert shipped is not None
    for f in sorted((ROOT / "examples" / "helpdesk").glob("*.sla")):
        text = f.read_text(encoding="utf-8")
        assert shipped.parse(text) == fresh.parse(text)


def _meta_for(raw: bytes) -> dict[str, str]:
    return {**_grammar_tables.META, "tables_sha256": tables.sha256(raw)}


def test_a_tampered_or_stale_file_is_not_loaded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    good = tables.TABLES_PATH.read_bytes()
    bad = tmp_path / "t.pickle"
    bad.write_bytes(good[:-1] + b"\x00")
    monkeypatch.setattr(tables, "TABLES_PATH", bad)
    assert tables.load(GRAMMAR, CALLBACKS, _grammar_tables.META) is None  # hash differs
    assert tables.load(GRAMMAR + "\n", CALLBACKS, _meta_for(good)) is None  # other grammar
    assert tables.load(GRAMMAR, CALLBACKS, {**_meta_for(good), "lark_version": "0"}) is None


class _Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch /tmp/slarules-pwned",))


def test_a_pickle_that_names_any_global_is_refused_even_with_a_matching_hash(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    raw = pickle.dumps({"data": _Exploit(), "memo": {}})
    evil = tmp_path / "t.pickle"
    evil.write_bytes(raw)
    monkeypatch.setattr(tables, "TABLES_PATH", evil)
    assert tables.load(GRAMMAR, CALLBACKS, _meta_for(raw)) is None
    assert not Path("/tmp/slarules-pwned").exists()


def test_the_parser_reads_and_writes_nothing_in_the_user_cache(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cache = tmp_path / "cache"
    home.mkdir()
    cache.mkdir()
    (cache / "slarules").mkdir()
    code = "from slarules.dsl.parser import get_parser, parse; get_parser(); parse('level a { }')"
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(cache)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
    assert list(home.rglob("*")) == []
    assert list(cache.rglob("*")) == [cache / "slarules"]
