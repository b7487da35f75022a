"""One ruleset as the editor sees it: its files (open buffers over the files on disk), the
checker's diagnostics with ranges, related places and "did you mean" suggestions, and a cache
of parse trees for the name index.

No I/O: the server hands in the texts; this module only calls the public `slarules.dsl` API
(`build`, `parse`, `decode`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from slarules.dsl import RulesSyntaxError, SourceFile, ast, build, decode, parse
from slarules.errors import Diagnostic
from slarules.lsp.index import Place

# One token at a diagnostic's column: a string, a regex, a word/number/duration, or one char.
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\["\\])*"?|/(?:\\[^\n]|[^/\\\n])+/i?|[\w.:%-]+|\S')
_SUGGEST = re.compile(r"`([^`]+)`")
_WHERE = re.compile(r"((?:<[^>\s]+>)|[^\s()`'\"]+\.sla):(\d+)")


@dataclass(frozen=True, slots=True)
class Finding:
    """A checker diagnostic placed in a file (0-based line, code-point columns)."""

    diagnostic: Diagnostic
    where: Place
    related: tuple[tuple[Place, str], ...] = ()
    suggestions: tuple[str, ...] = ()
    quoted: bool = False  # the token is a string literal: suggestions keep the quotes

    @property
    def replacements(self) -> tuple[str, ...]:
        return tuple(f'"{s}"' if self.quoted else s for s in self.suggestions)


@dataclass
class Snapshot:
    files: dict[str, str]  # path -> text, in ruleset order
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    ok: bool = False  # the ruleset builds (no errors)


class ParseCache:
    """Trees by (file, text); for a file that does not parse, its last good tree."""

    def __init__(self) -> None:
        self._trees: dict[str, tuple[str, ast.Module | None]] = {}
        self._good: dict[str, tuple[ast.Module, list[str]]] = {}

    def tree(self, file: str, text: str) -> tuple[ast.Module, list[str]] | None:
        hit = self._trees.get(file)
        if hit is None or hit[0] != text:
            try:
                module: ast.Module | None = parse(text, file)
            except (RulesSyntaxError, RecursionError, ValueError):
                module = None
            hit = (text, module)
            self._trees[file] = hit
            if module is not None:
                self._good[file] = (module, text.split("\n"))
        return self._good.get(file)


def token_end(line: str, col: int) -> tuple[int, bool]:
    """End column of the token starting at `col`, and whether it is a string literal."""
    m = _TOKEN.match(line, col)
    if m is None:
        return min(col + 1, max(len(line), col)), False
    return m.end(), m.group().startswith('"')


def suggestions(hint: str | None) -> tuple[str, ...]:
    if not hint or not hint.startswith("did you mean"):
        return ()
    return tuple(_SUGGEST.findall(hint))


def _related(d: Diagnostic, files: dict[str, str], focus: str) -> tuple[tuple[Place, str], ...]:
    out = []
    for m in _WHERE.finditer(d.hint or ""):
        file = m.group(1)
        if file not in files:
            file = next((f for f in files if f.endswith(file)), focus if file[0] == "<" else "")
        if not file:
            continue
        line = int(m.group(2)) - 1
        text = files[file].split("\n")[line] if line < files[file].count("\n") + 1 else ""
        start = len(text) - len(text.lstrip())
        out.append((Place(file, line, start, len(text.rstrip())), d.hint or ""))
    return tuple(out)


def place_diagnostic(d: Diagnostic, files: dict[str, str], focus: str) -> Finding:
    file = d.file if d.file in files else focus
    lines = files.get(file, "").split("\n")
    line = max((d.line or 1) - 1, 0)
    text = lines[line] if line < len(lines) else ""
    col = max((d.column or 1) - 1, 0)
    if d.column is None:
        end, quoted = len(text), False
        col = len(text) - len(text.lstrip())
    else:
        end, quoted = token_end(text, col)
    return Finding(
        d, Place(file, line, col, end), _related(d, files, focus), suggestions(d.hint), quoted
    )


def analyse(files: dict[str, str], focus: str, raw: dict[str, bytes] | None = None) -> Snapshot:
    """Build the ruleset (`raw` bytes where given, so encoding errors are reported) and place
    its diagnostics. No second parse here: `build` parses, and the features parse lazily."""
    raw = raw or {}
    sources = [SourceFile(f, raw.get(f, t.encode("utf-8"))) for f, t in files.items()]
    result = build(sources)
    snap = Snapshot(dict(files), {f: [] for f in files}, ok=result.policy is not None)
    for d in result.diagnostics:
        found = place_diagnostic(d, files, focus)
        snap.findings.setdefault(found.where.file, []).append(found)
    return snap  # the name index is built lazily by the features (server.index_for)


def text_of(data: bytes) -> str:
    """A file read from disk as text (undecodable bytes replaced; `build` reports them)."""
    text = decode(SourceFile("<disk>", data))
    return text if isinstance(text, str) else data.decode("utf-8", "replace")
