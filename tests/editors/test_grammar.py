"""The VS Code extension: its manifest points at real files, and the TextMate grammar, run by
VS Code's own engine (vscode-textmate + vscode-oniguruma under node), leaves no text of the
bundled examples unscoped and highlights every keyword of grammar.lark as a keyword.

The grammar tests skip with a reason when node or the npm packages are missing
(`npm ci --prefix tests/editors` installs them from the committed lock file)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VSCODE = ROOT / "editors" / "vscode"
GRAMMAR = VSCODE / "sla.tmLanguage.json"
HERE = Path(__file__).resolve().parent
EXAMPLES = sorted((ROOT / "examples" / "helpdesk").glob("*.sla"))
KEYWORD_SCOPES = ("keyword.", "storage.", "support.", "constant.language.")


def _node_missing() -> str | None:
    if shutil.which("node") is None:
        return "`node` not found (Debian: apt-get install nodejs npm)"
    for pkg in ("vscode-textmate", "vscode-oniguruma"):
        if not (HERE / "node_modules" / pkg / "package.json").is_file():
            return f"npm package {pkg} missing: run `npm ci --prefix tests/editors`"
    return None


NODE = _node_missing()
needs_node = pytest.mark.skipif(NODE is not None, reason=f"no TextMate engine: {NODE}")


def grammar_keywords() -> list[str]:
    """Every word-like string terminal of the parser's grammar (keywords, metrics, days, …)."""
    text = (ROOT / "slarules" / "dsl" / "grammar.lark").read_text(encoding="utf-8")
    rules = "\n".join(line.split("//")[0] for line in text.splitlines())
    return sorted(set(re.findall(r'"([a-z_]+)"', rules)))


@cache
def tokenize(*files: Path) -> dict[str, list[list[dict[str, Any]]]]:
    cmd = ["node", str(HERE / "tokenize.mjs"), str(GRAMMAR), *map(str, files)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_manifest_points_at_real_files() -> None:
    manifest = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    [lang] = manifest["contributes"]["languages"]
    assert lang["id"] == "sla" and lang["extensions"] == [".sla"]
    assert (VSCODE / lang["configuration"]).is_file()
    [grammar] = manifest["contributes"]["grammars"]
    assert grammar["scopeName"] == "source.sla" and (VSCODE / grammar["path"]).resolve() == GRAMMAR
    assert (VSCODE / manifest["main"]).is_file()
    assert manifest["contributes"]["configuration"]["properties"]["slarules.server.args"][
        "default"
    ] == ["lsp"]
    config = json.loads((VSCODE / "language-configuration.json").read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"] == "#"
    json.loads(GRAMMAR.read_text(encoding="utf-8"))  # valid JSON


def test_the_keyword_list_is_read_from_the_grammar() -> None:
    words = grammar_keywords()
    assert {"rule", "when", "subdivision", "first_response", "mon", "datetime", "none"} <= set(
        words
    )
    assert "NAME" not in words and len(words) > 60


@needs_node
def test_examples_have_no_unscoped_text() -> None:
    out = tokenize(*EXAMPLES)
    bare = [
        (Path(f).name, n + 1, tok["text"])
        for f, lines in out.items()
        for n, toks in enumerate(lines)
        for tok in toks
        if tok["text"].strip() and tok["scopes"] == ["source.sla"]
    ]
    assert bare == []
    assert sum(len(toks) for lines in out.values() for toks in lines) > 500


@needs_node
def test_every_keyword_is_highlighted_as_a_keyword(tmp_path: Path) -> None:
    words = grammar_keywords()
    path = tmp_path / "keywords.sla"
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    lines = tokenize(path)[str(path)]
    scoped = {}
    for word, toks in zip(words, lines, strict=False):
        [tok] = [t for t in toks if t["text"].strip()]
        scoped[word] = tok["scopes"][-1]
    plain = {w: s for w, s in scoped.items() if not s.startswith(KEYWORD_SCOPES)}
    assert plain == {}
    assert len(scoped) == len(words)


@needs_node
def test_literals_comments_and_names(tmp_path: Path) -> None:
    path = tmp_path / "bits.sla"
    path.write_text(
        'calendar c {\n  closed 2026-12-24 "a # not a comment \\" quote"  # a comment\n'
        "  hours mon-fri 09:00-12:00\n}\n"
        'rule "r" {\n  when subject matches /a\\/b/i and created_at.hour >= 9'
        " and created_at < 2026-03-01T09:00:00Z\n  set level gold\n}\n"
        "level gold {\n  warn at 50%\n  first_response 1h30m\n}\n",
        encoding="utf-8",
    )
    lines = tokenize(path)[str(path)]

    def scope(line: int, text: str) -> str:
        return next(t["scopes"][-1] for t in lines[line] if t["text"] == text)

    assert scope(0, "c") == "entity.name.type.sla"
    assert scope(1, "2026-12-24") == "constant.other.date.sla"
    assert scope(1, "# a comment") == "comment.line.number-sign.sla"
    assert scope(1, '\\"') == "constant.character.escape.sla"
    assert scope(2, "09:00") == "constant.other.time.sla"
    assert scope(5, "/a\\/b/i") == "string.regexp.sla"
    assert scope(5, "hour") == "variable.other.sla"
    assert scope(5, "2026-03-01T09:00:00Z") == "constant.other.datetime.sla"
    assert scope(6, "gold") == "entity.name.type.sla"  # a level name, declared or used
    assert scope(9, "50%") == "constant.numeric.percent.sla"
    assert scope(10, "1h30m") == "constant.numeric.duration.sla"
