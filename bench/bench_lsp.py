"""Language-server latency: diagnostics for a 500-rule ruleset after an edit.

A real client (pygls') drives `python -m slarules lsp` over stdio. The ruleset is the bundled
examples' setup and levels plus a generated 500-rule file; each round edits one rule (a typo in
`set level`, then its fix) and times didChange → publishDiagnostics. The server waits
DEBOUNCE seconds of quiet before checking, so the figure "work" is the latency less that
wait. Floor, same process: `slarules.dsl.build` of the same three files (the checker itself).
Prints medians per kind of edit (a typo makes `build` stop before compiling).
Run: `python bench/bench_lsp.py [RULES]`.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lsprotocol import types as t
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

from slarules.dsl import SourceFile, build
from slarules.lsp.server import DEBOUNCE

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "helpdesk"
ROUNDS = 14
LEVELS = ("urgent", "vip", "standard")


def rules(n: int) -> str:
    """n rules with the usual mix of conditions (tags, sources, priorities, regexes, fields)."""
    out = ["default level standard\n"]
    for i in range(n):
        cond = (
            f'tags contains "t{i}" and source in ["email", "chat"]',
            f'priority >= "high" and customer_group == "G{i}"',
            f'subject matches /(?i)order {i}\\b/ or department == "d{i}"',
            f'seats > {i} and contract_tier in ["enterprise", "t{i}"]',
        )[i % 4]
        stop = "\n  stop" if i % 7 == 0 else ""
        out.append(f'rule "R{i}" {{\n  when {cond}\n  set level {LEVELS[i % 3]}{stop}\n}}\n')
    return "\n".join(out)


def build_floor(folder: Path, runs: int = 7) -> float:
    sources = [SourceFile(str(p), p.read_bytes()) for p in sorted(folder.glob("*.sla"))]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = build(sources)
        times.append(time.perf_counter() - t0)
        assert result.policy is not None, result.diagnostics[:3]
    return statistics.median(times)


async def edits(folder: Path, text: str) -> list[float]:
    client = LanguageClient("bench", "1")
    got: asyncio.Queue[t.PublishDiagnosticsParams] = asyncio.Queue()

    @client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _(params: t.PublishDiagnosticsParams) -> None:
        got.put_nowait(params)

    await client.start_io(sys.executable, "-m", "slarules", "lsp")
    await client.initialize_async(t.InitializeParams(capabilities=t.ClientCapabilities()))
    client.initialized(t.InitializedParams())
    uri = from_fs_path(str(folder / "20-rules.sla")) or ""
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(t.TextDocumentItem(uri, "sla", 1, text))
    )
    first = await asyncio.wait_for(got.get(), 120)
    assert first.diagnostics == (), first.diagnostics[:3]
    times = []
    for r in range(ROUNDS):
        typo = r % 2 == 0
        new = text.replace('rule "R250" {', 'rule "R250" {\n  # edited', 1)
        if typo:
            new = new.replace("set level vip", "set level vpi", 1)
        t0 = time.perf_counter()
        client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=r + 2),
                content_changes=[t.TextDocumentContentChangeWholeDocument(text=new)],
            )
        )
        p = await asyncio.wait_for(got.get(), 120)
        times.append(time.perf_counter() - t0)
        assert p.version == r + 2 and (len(p.diagnostics) > 0) == typo, p.diagnostics[:3]
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in ("00-setup.sla", "10-levels.sla"):
            shutil.copy(EXAMPLES / name, folder / name)
        text = rules(n)
        (folder / "20-rules.sla").write_text(text, encoding="utf-8")
        floor = build_floor(folder)
        times = asyncio.run(edits(folder, text))
    typo, fixed = times[0::2], times[1::2]  # even rounds add a typo, odd ones fix it
    print(f"ruleset: {n} rules in 3 files ({len(text.splitlines())} lines in the edited one)")
    print(f"floor  build() of the clean ruleset, same process:  {floor * 1000:8.1f} ms")
    for what, ts in (("typo (error: nothing compiled)", typo), ("fix (clean: compiled)", fixed)):
        latency = statistics.median(ts)
        work = latency - DEBOUNCE
        print(f"edit -> diagnostics, {what}, median of {len(ts)}:")
        print(
            f"  {latency * 1000:8.1f} ms; less the {DEBOUNCE * 1000:.0f} ms debounce wait: "
            f"{work * 1000:8.1f} ms = {work / floor:.2f}x the floor "
            f"(min {min(ts) * 1000:.0f}, max {max(ts) * 1000:.0f} ms)"
        )


if __name__ == "__main__":
    main()
