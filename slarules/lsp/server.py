"""The pygls server: documents in, diagnostics out (debounced, per ruleset directory), and
completion, hover, definition, references, symbols, formatting and quick fixes.

stdout is the protocol: nothing here prints; logs go to stderr. Every handler catches its own
exceptions (a traceback would reach the client in `error.data`) and logs them instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from slarules.clock import Clock, SystemClock
from slarules.dsl import ast
from slarules.errors import RulesError
from slarules.lsp import hover as hov
from slarules.lsp import vocab
from slarules.lsp.analysis import Finding, ParseCache, Snapshot, analyse, text_of
from slarules.lsp.complete import complete
from slarules.lsp.index import Index, Place, Symbol, add_module

log = logging.getLogger("slarules.lsp")
DEBOUNCE = 0.25  # seconds of quiet typing before the ruleset is checked again
T = TypeVar("T")
_DURATION = re.compile(r"[0-9]+d(?:[0-9]+h)?(?:[0-9]+m)?|[0-9]+h(?:[0-9]+m)?|[0-9]+m")
_KINDS = {
    "keyword": t.CompletionItemKind.Keyword,
    "field": t.CompletionItemKind.Field,
    "value": t.CompletionItemKind.Value,
    "level": t.CompletionItemKind.Class,
    "calendar": t.CompletionItemKind.Module,
    "zone": t.CompletionItemKind.Constant,
    "country": t.CompletionItemKind.Constant,
    "type": t.CompletionItemKind.TypeParameter,
    "operator": t.CompletionItemKind.Operator,
}
_SYMBOLS = {
    "calendar": t.SymbolKind.Namespace,
    "level": t.SymbolKind.Class,
    "rule": t.SymbolKind.Function,
}


class SlaServer(LanguageServer):
    def __init__(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("slarules")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            v = "0"
        super().__init__("slarules", v)
        self.cache = ParseCache()
        self.clock: Clock = SystemClock()  # "next days off" in calendar hovers
        self.pending: dict[str, asyncio.TimerHandle] = {}  # ruleset key -> scheduled check
        self.published: dict[str, set[str]] = {}  # ruleset key -> uris with diagnostics
        self.generation: dict[str, int] = {}  # ruleset key -> number of the latest check
        self.tasks: set[asyncio.Task[None]] = set()  # running checks, kept referenced
        self.checks = 0  # ruleset checks run


server = SlaServer()


def safe(fn: Callable[[], T], default: T) -> T:
    try:
        return fn()
    except Exception:
        log.exception("slarules lsp: handler failed")
        return default


# ---- the ruleset of a document ---------------------------------------------------------


def _open_docs(ls: SlaServer) -> dict[str, str]:
    """path (or uri for non-file documents) -> uri of every open document."""
    out = {}
    for uri in ls.workspace.text_documents:
        out[to_fs_path(uri) or uri] = uri
    return out


def ruleset(ls: SlaServer, uri: str) -> tuple[str, dict[str, str], dict[str, bytes], str]:
    """(key, files path -> text, raw bytes of files read from disk, focus path) for a document."""
    path = to_fs_path(uri)
    doc = ls.workspace.get_text_document(uri)
    if path is None or not path.endswith(".sla"):
        return uri, {path or uri: doc.source}, {}, path or uri
    folder = os.path.dirname(path)
    opened = {p: u for p, u in _open_docs(ls).items() if os.path.dirname(p) == folder}
    names = set(opened)
    with contextlib.suppress(OSError):
        names |= {str(f) for f in Path(folder).iterdir() if f.suffix == ".sla" and f.is_file()}
    files: dict[str, str] = {}
    raw: dict[str, bytes] = {}
    for p in sorted((n for n in names if n.endswith(".sla")), key=os.path.basename):
        if p in opened:
            files[p] = ls.workspace.get_text_document(opened[p]).source
            continue
        try:
            raw[p] = Path(p).read_bytes()
        except OSError:
            continue
        files[p] = text_of(raw[p])
    return folder, files, raw, path


def uri_of(ls: SlaServer, path: str) -> str:
    return _open_docs(ls).get(path) or (path if ":" in path[:12] else from_fs_path(path) or path)


# ---- positions -------------------------------------------------------------------------


def lines_of(snap_files: dict[str, str], file: str) -> list[str]:
    return snap_files.get(file, "").split("\n")


def to_range(ls: SlaServer, lines: list[str], p: Place, end_line: int | None = None) -> t.Range:
    from pygls.workspace.position_codec import ServerTextPosition, ServerTextRange

    end = ServerTextPosition(p.line if end_line is None else end_line, p.end)
    return ls.workspace.position_codec.range_to_client_units(
        lines, ServerTextRange(ServerTextPosition(p.line, p.start), end)
    )


def cursor(ls: SlaServer, uri: str, pos: t.Position) -> tuple[str, str, int, int]:
    """(path, line text, line, code-point column) of a client position."""
    doc = ls.workspace.get_text_document(uri)
    p = doc.position_from_client_units(pos)
    lines = doc.lines
    line = lines[p.line].rstrip("\r\n") if p.line < len(lines) else ""
    return to_fs_path(uri) or uri, line, p.line, p.character


# ---- diagnostics -----------------------------------------------------------------------


def lsp_diagnostic(ls: SlaServer, snap: Snapshot, f: Finding) -> t.Diagnostic:
    d = f.diagnostic
    related = [
        t.DiagnosticRelatedInformation(
            t.Location(uri_of(ls, p.file), to_range(ls, lines_of(snap.files, p.file), p)), msg
        )
        for p, msg in f.related
    ]
    return t.Diagnostic(
        range=to_range(ls, lines_of(snap.files, f.where.file), f.where),
        message=d.message + (f"\nhint: {d.hint}" if d.hint else ""),
        severity=t.DiagnosticSeverity.Error if d.is_error else t.DiagnosticSeverity.Warning,
        code=d.code,
        source="slarules",
        related_information=related or None,
        data={"suggest": list(f.replacements)} if f.suggestions else None,
    )


async def check(ls: SlaServer, uri: str) -> Snapshot | None:
    """Check the document's ruleset and publish diagnostics for its open files.

    The texts are read on the event loop; `build` runs in a worker thread so requests
    (completion, hover) are still answered meanwhile. A result overtaken by a newer check of
    the same ruleset is dropped."""
    if uri not in ls.workspace.text_documents:
        return None
    key, files, raw, focus = ruleset(ls, uri)
    ls.pending.pop(key, None)
    gen = ls.generation[key] = ls.generation.get(key, 0) + 1
    snap = await asyncio.get_running_loop().run_in_executor(None, analyse, files, focus, raw)
    ls.checks += 1
    if ls.generation.get(key) != gen:
        return None
    opened = {p: u for p, u in _open_docs(ls).items() if p in files}
    before = ls.published.get(key, set())
    now: set[str] = set()
    for path, u in opened.items():
        diags = [lsp_diagnostic(ls, snap, f) for f in snap.findings.get(path, [])]
        if diags or u in before or u == uri:  # the edited file always hears back
            version = ls.workspace.get_text_document(u).version
            ls.text_document_publish_diagnostics(
                t.PublishDiagnosticsParams(uri=u, version=version, diagnostics=diags)
            )
        if diags:
            now.add(u)
    ls.published[key] = now
    return snap


async def check_safely(ls: SlaServer, uri: str) -> None:
    try:
        await check(ls, uri)
    except Exception:
        log.exception("slarules lsp: checking %s failed", uri)


def schedule(ls: SlaServer, uri: str, delay: float = DEBOUNCE) -> None:
    """Check `delay` seconds after the last edit of the ruleset (debounce)."""
    key = ruleset_key(uri)
    old = ls.pending.pop(key, None)
    if old is not None:
        old.cancel()
    loop = asyncio.get_running_loop()

    def fire() -> None:
        task = loop.create_task(check_safely(ls, uri))
        ls.tasks.add(task)
        task.add_done_callback(ls.tasks.discard)

    ls.pending[key] = loop.call_later(delay, fire)


def ruleset_key(uri: str) -> str:
    path = to_fs_path(uri)
    return os.path.dirname(path) if path and path.endswith(".sla") else uri


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: SlaServer, params: t.DidOpenTextDocumentParams) -> None:
    await check_safely(ls, params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: SlaServer, params: t.DidChangeTextDocumentParams) -> None:
    safe(lambda: schedule(ls, params.text_document.uri), None)


@server.feature(t.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: SlaServer, params: t.DidSaveTextDocumentParams) -> None:
    await check_safely(ls, params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: SlaServer, params: t.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
    for seen in ls.published.values():
        seen.discard(uri)


# ---- features --------------------------------------------------------------------------


def index_for(ls: SlaServer, uri: str) -> tuple[Index, dict[str, str]]:
    """The name index of the document's ruleset as it is now (parse cache; no check)."""
    _, files, _, _ = ruleset(ls, uri)
    ix = Index()
    for f, text in files.items():
        got = ls.cache.tree(f, text)
        if got is not None:
            add_module(ix, f, got[0], got[1])
    return ix, files


def _item(i: Any) -> t.CompletionItem:
    return t.CompletionItem(
        label=i.label, kind=_KINDS.get(i.kind), detail=i.detail or None, insert_text=i.insert
    )


@server.feature(
    t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=[" ", '"', ".", "{"])
)
def completion(ls: SlaServer, params: t.CompletionParams) -> t.CompletionList:
    def go() -> t.CompletionList:
        doc = ls.workspace.get_text_document(params.text_document.uri)
        ix, _ = index_for(ls, params.text_document.uri)
        pos = doc.position_from_client_units(params.position)
        lines = doc.source.split("\n")
        before = "\n".join([*lines[: pos.line], lines[pos.line][: pos.character]])
        return t.CompletionList(is_incomplete=False, items=[_item(i) for i in complete(ix, before)])

    return safe(go, t.CompletionList(is_incomplete=False, items=[]))


def _word(line: str, col: int) -> tuple[str, int]:
    """The `name`, `name.part` or duration under a column, and where it starts."""
    for m in re.finditer(r"[\w.]+", line):
        if m.start() <= col <= m.end():
            return m.group(), m.start()
    return "", col


def _enclosing(ix: Index, file: str, line: int, kind: str) -> Symbol | None:
    for s in ix.outline.get(file, []):
        if s.kind == kind and s.block.line <= line <= s.end_line:
            return s
    return None


def hover_text(ls: SlaServer, uri: str, pos: t.Position) -> str | None:
    ix, _ = index_for(ls, uri)
    path, line, ln, col = cursor(ls, uri, pos)
    named = ix.at(path, ln, col)
    if named is not None:
        kind, name = named
        if kind == "level":
            return hov.level_hover(ix, name)
        return hov.calendar_hover(ix, name, ls.clock.now())
    word, _ = _word(line, col)
    if _DURATION.fullmatch(word):
        lv = _enclosing(ix, path, ln, "level")
        decl = ix.levels.get(lv.name) if lv else None
        if decl is None:
            return None
        cals = [i.calendar.value for i in decl.items if isinstance(i, ast.LevelCalendar)]
        return hov.duration_hover(ix, word, _seconds(word), cals[0] if cals else "always")
    if word in vocab.METRIC_MEANINGS:
        return f"**metric** `{word}`: {vocab.METRIC_MEANINGS[word]}"
    if word == "always":
        return hov.calendar_hover(ix, word, ls.clock.now())
    return hov.field_hover(ix, word)


def _seconds(raw: str) -> int:
    total = 0
    for n, unit in re.findall(r"([0-9]+)([dhm])", raw):
        total += int(n) * {"d": 86400, "h": 3600, "m": 60}[unit]
    return total


@server.feature(t.TEXT_DOCUMENT_HOVER)
def hover(ls: SlaServer, params: t.HoverParams) -> t.Hover | None:
    def go() -> t.Hover | None:
        text = hover_text(ls, params.text_document.uri, params.position)
        if not text:
            return None
        return t.Hover(t.MarkupContent(kind=t.MarkupKind.Markdown, value=text))

    return safe(go, None)


def _locations(ls: SlaServer, files: dict[str, str], places: list[Place]) -> list[t.Location]:
    return [
        t.Location(uri_of(ls, p.file), to_range(ls, lines_of(files, p.file), p)) for p in places
    ]


@server.feature(t.TEXT_DOCUMENT_DEFINITION)
def definition(ls: SlaServer, params: t.DefinitionParams) -> list[t.Location] | None:
    def go() -> list[t.Location] | None:
        ix, files = index_for(ls, params.text_document.uri)
        path, _, ln, col = cursor(ls, params.text_document.uri, params.position)
        named = ix.at(path, ln, col)
        if named is None:
            return None
        return _locations(ls, files, ix.definitions.get(named, [])) or None

    return safe(go, None)


@server.feature(t.TEXT_DOCUMENT_REFERENCES)
def references(ls: SlaServer, params: t.ReferenceParams) -> list[t.Location] | None:
    def go() -> list[t.Location] | None:
        ix, files = index_for(ls, params.text_document.uri)
        path, _, ln, col = cursor(ls, params.text_document.uri, params.position)
        named = ix.at(path, ln, col)
        if named is None:
            return None
        places = list(ix.references.get(named, []))
        if params.context.include_declaration:
            places = ix.definitions.get(named, []) + places
        return _locations(ls, files, places)

    return safe(go, None)


@server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def symbols(ls: SlaServer, params: t.DocumentSymbolParams) -> list[t.DocumentSymbol]:
    def go() -> list[t.DocumentSymbol]:
        uri = params.text_document.uri
        path = to_fs_path(uri) or uri
        doc = ls.workspace.get_text_document(uri)
        got = ls.cache.tree(path, doc.source)
        if got is None:
            return []
        ix = Index()
        add_module(ix, path, got[0], got[1])
        lines = got[1]
        out = []
        for s in ix.outline.get(path, []):
            end = len(lines[s.end_line]) if s.end_line < len(lines) else 0
            block = Place(path, s.block.line, s.block.start, end)
            out.append(
                t.DocumentSymbol(
                    name=s.name,
                    kind=_SYMBOLS[s.kind],
                    detail=s.kind,
                    range=to_range(ls, lines, block, s.end_line),
                    selection_range=to_range(ls, lines, s.where),
                )
            )
        return out

    return safe(go, [])


@server.feature(t.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: SlaServer, params: t.DocumentFormattingParams) -> list[t.TextEdit]:
    def go() -> list[t.TextEdit]:
        from slarules.dsl import format_source

        doc = ls.workspace.get_text_document(params.text_document.uri)
        try:
            new = format_source(doc.source, to_fs_path(doc.uri) or doc.uri)
        except RulesError:
            return []  # a syntax error: the diagnostics already say where
        if new == doc.source:
            return []
        lines = doc.lines
        end = t.Position(len(lines), 0)
        return [t.TextEdit(range=t.Range(t.Position(0, 0), end), new_text=new)]

    return safe(go, [])


@server.feature(
    t.TEXT_DOCUMENT_CODE_ACTION, t.CodeActionOptions(code_action_kinds=[t.CodeActionKind.QuickFix])
)
def code_action(ls: SlaServer, params: t.CodeActionParams) -> list[t.CodeAction]:
    def go() -> list[t.CodeAction]:
        uri = params.text_document.uri
        out = []
        for d in params.context.diagnostics:
            data = d.data if isinstance(d.data, dict) else {}
            for i, name in enumerate(data.get("suggest") or []):
                out.append(
                    t.CodeAction(
                        title=f"Change to {name}",
                        kind=t.CodeActionKind.QuickFix,
                        diagnostics=[d],
                        is_preferred=i == 0,
                        edit=t.WorkspaceEdit(changes={uri: [t.TextEdit(d.range, name)]}),
                    )
                )
        return out

    return safe(go, [])


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")  # stderr
    server.start_io()
