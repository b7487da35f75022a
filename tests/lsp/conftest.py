"""A real LSP client (pygls' own) driving `python -m slarules lsp` over stdio."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as t
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "helpdesk"
SERVER = (sys.executable, "-m", "slarules", "lsp")


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def ruleset(tmp_path: Path) -> Path:
    """A copy of the bundled help-desk ruleset (three files) in its own directory."""
    folder = tmp_path / "rules"
    folder.mkdir()
    for f in EXAMPLES.glob("*.sla"):
        shutil.copy(f, folder / f.name)
    return folder


class Client(LanguageClient):
    diags: asyncio.Queue[t.PublishDiagnosticsParams]

    async def diagnostics(self, uri: str, timeout: float = 10) -> t.PublishDiagnosticsParams:
        """The next diagnostics published for `uri` (others are dropped)."""
        while True:
            p = await asyncio.wait_for(self.diags.get(), timeout)
            if p.uri == uri:
                return p

    def open(self, path: Path, text: str | None = None) -> str:
        uri = from_fs_path(str(path)) or ""
        body = path.read_text(encoding="utf-8") if text is None else text
        self.text_document_did_open(
            t.DidOpenTextDocumentParams(t.TextDocumentItem(uri, "sla", 1, body))
        )
        return uri

    def change(self, uri: str, version: int, text: str) -> None:
        """A full-text change (the server also takes incremental ones)."""
        self.text_document_did_change(
            t.DidChangeTextDocumentParams(
                text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[t.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[Client]:
    """One server per test module (starting one takes seconds: lsprotocol is a big import)."""
    c = Client("slarules-test", "1")
    c.diags = asyncio.Queue()

    @c.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _(params: t.PublishDiagnosticsParams) -> None:
        c.diags.put_nowait(params)

    await c.start_io(*SERVER)
    await c.initialize_async(t.InitializeParams(capabilities=t.ClientCapabilities()))
    c.initialized(t.InitializedParams())
    yield c
    await c.shutdown_async(None)
    c.exit(None)
    await c.stop()


def position_of(text: str, needle: str, offset: int = 0) -> t.Position:
    """The 0-based position of `needle` (plus `offset` columns) in `text`."""
    at = text.index(needle) + offset
    line = text.count("\n", 0, at)
    return t.Position(line, at - (text.rfind("\n", 0, at) + 1))


def labels(result: Any) -> list[str]:
    items = result.items if isinstance(result, t.CompletionList) else result
    return [i.label for i in items]
