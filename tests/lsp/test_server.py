"""The language server end to end through a real LSP client over stdio: diagnostics while
editing (in the context of the ruleset directory), completion, hover, definition, references,
symbols, formatting and "did you mean" quick fixes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types as t

from tests.lsp.conftest import Client, labels, position_of

pytestmark = pytest.mark.anyio


def doc(uri: str) -> t.TextDocumentIdentifier:
    return t.TextDocumentIdentifier(uri=uri)


async def test_typo_is_diagnosed_with_a_fix_and_cleared_when_fixed(
    client: Client, ruleset: Path
) -> None:
    path = ruleset / "20-rules.sla"
    good = path.read_text(encoding="utf-8")
    bad = good.replace("set level vip", "set level vpi")
    uri = client.open(path, bad)
    p = await client.diagnostics(uri)
    [d] = p.diagnostics
    where = position_of(bad, "vpi")
    assert (d.code, d.severity, d.source) == (
        "unknown-level",
        t.DiagnosticSeverity.Error,
        "slarules",
    )
    assert d.range == t.Range(where, t.Position(where.line, where.character + 3))
    assert "did you mean `vip`?" in d.message
    acts = await client.text_document_code_action_async(
        t.CodeActionParams(doc(uri), d.range, t.CodeActionContext(diagnostics=[d]))
    )
    assert [a.title for a in acts] == ["Change to vip"]
    assert acts[0].edit.changes[uri][0].new_text == "vip"

    client.change(uri, 2, good)
    fixed = await client.diagnostics(uri)
    assert fixed.version == 2 and fixed.diagnostics == ()


async def test_status_suggestion_keeps_the_quotes(client: Client, ruleset: Path) -> None:
    path = ruleset / "10-levels.sla"
    text = path.read_text(encoding="utf-8").replace("waiting for vendor", "waiting for vender")
    uri = client.open(path, text)
    [d] = (await client.diagnostics(uri)).diagnostics
    assert d.code == "unknown-status"
    assert d.range.start == position_of(text, '"waiting for vender"')
    assert d.range.end == position_of(text, '"waiting for vender"', len('"waiting for vender"'))
    acts = await client.text_document_code_action_async(
        t.CodeActionParams(doc(uri), d.range, t.CodeActionContext(diagnostics=[d]))
    )
    assert acts[0].edit.changes[uri][0].new_text == '"waiting for vendor"'


async def test_ruleset_context_reads_the_other_files(client: Client, ruleset: Path) -> None:
    """A level declared in another file of the directory is known; a duplicate across files
    points at the first declaration (related information)."""
    path = ruleset / "30-more.sla"
    text = (
        'level vip {\n  first_response 1h\n}\n\nrule "Chat" {\n  when source == "chat"\n'
        "  set level urgent\n}\n"
    )
    path.write_text(text, encoding="utf-8")
    uri = client.open(path)
    [d] = (await client.diagnostics(uri)).diagnostics
    assert d.code == "duplicate-name"
    [rel] = d.related_information
    assert rel.location.uri.endswith("10-levels.sla")
    assert rel.location.range.start.line == 13


async def test_debounced_changes_publish_once_for_the_last_version(
    client: Client, ruleset: Path
) -> None:
    path = ruleset / "20-rules.sla"
    good = path.read_text(encoding="utf-8")
    uri = client.open(path)
    assert (await client.diagnostics(uri)).diagnostics == ()
    for v in range(2, 7):  # five quick edits, each a different typo
        client.change(uri, v, good.replace("set level vip", f"set level vip{v}"))
    p = await client.diagnostics(uri)
    assert p.version == 6
    assert [d.message.splitlines()[0] for d in p.diagnostics] == ["unknown level `vip6`"]
    with pytest.raises(TimeoutError):
        await client.diagnostics(uri, timeout=0.8)


async def test_completion_by_position(client: Client, ruleset: Path) -> None:
    path = ruleset / "20-rules.sla"
    text = path.read_text(encoding="utf-8")
    uri = client.open(path)
    await client.diagnostics(uri)

    async def at(pos: t.Position) -> list[str]:
        return labels(
            await client.text_document_completion_async(t.CompletionParams(doc(uri), pos))
        )

    after_set = position_of(text, "set level vip", len("set level "))
    assert set(await at(after_set)) == {"urgent", "vip", "standard", "none"}
    in_priority = position_of(text, 'priority >= "critical"', len('priority >= "'))
    assert await at(in_priority) == ["low", "medium", "high", "critical"]  # the schema's order
    after_when = position_of(text, "when customer_group", len("when "))
    got = await at(after_when)
    assert {"priority", "tags", "contract_tier", "seats"} <= set(got)
    comp = await client.text_document_completion_async(t.CompletionParams(doc(uri), after_when))
    detail = {i.label: i.detail for i in comp.items}
    assert detail["seats"] == "number (custom field)"
    assert detail["priority"].startswith("priority:")
    in_source = position_of(text, 'source in ["email"', len("source in ["))
    assert await at(in_source) == ["email", "chat", "phone", "web", "api"]


async def test_completion_inside_calendar_blocks(client: Client, ruleset: Path) -> None:
    path = ruleset / "00-setup.sla"
    text = path.read_text(encoding="utf-8")
    uri = client.open(path)
    await client.diagnostics(uri)

    async def at(pos: t.Position) -> list[str]:
        return labels(
            await client.text_document_completion_async(t.CompletionParams(doc(uri), pos))
        )

    zones = await at(position_of(text, '"Europe/Berlin"', 1))
    assert "Europe/Berlin" in zones and "America/Sao_Paulo" in zones
    countries = await at(position_of(text, '"BR" subdivision', 1))
    assert "BR" in countries and "DE" in countries
    subdivisions = await at(position_of(text, 'subdivision "SP"', len('subdivision "')))
    assert "SP" in subdivisions and "RJ" in subdivisions and "BR" not in subdivisions


async def test_hover(client: Client, ruleset: Path) -> None:
    rules = ruleset / "20-rules.sla"
    text = rules.read_text(encoding="utf-8")
    uri = client.open(rules)
    await client.diagnostics(uri)

    async def at(u: str, pos: t.Position) -> str:
        h = await client.text_document_hover_async(t.HoverParams(doc(u), pos))
        assert h is not None
        return str(h.contents.value)

    level = await at(uri, position_of(text, "set level urgent", len("set level u")))
    assert "**level** `urgent` — Urgent" in level
    assert "| first_response | 1h |" in level and "| warn before | 15m |" in level
    assert '| pause (all metrics) | when status == "waiting for vendor" |' in level
    field = await at(uri, position_of(text, "customer_group =="))
    assert field.startswith("**field** `customer_group`: text")

    levels = ruleset / "10-levels.sla"
    ltext = levels.read_text(encoding="utf-8")
    luri = client.open(levels)
    cal = await at(luri, position_of(ltext, "calendar business", len("calendar b")))
    assert "time zone `America/Sao_Paulo`" in cal and "40 open hours a week" in cal
    assert "next days off:" in cal  # Brazilian holidays of the pinned `holidays` package
    dur = await at(luri, position_of(ltext, "medium 8h", len("medium ")))
    assert dur.startswith("`8h` on `business` ≈ 1 working day (8h open a day)")


async def test_definition_references_and_symbols(client: Client, ruleset: Path) -> None:
    rules = ruleset / "20-rules.sla"
    text = rules.read_text(encoding="utf-8")
    uri = client.open(rules)
    await client.diagnostics(uri)
    pos = position_of(text, "set level vip", len("set level v"))
    [loc] = await client.text_document_definition_async(t.DefinitionParams(doc(uri), pos))
    assert loc.uri.endswith("10-levels.sla")
    assert (loc.range.start.line, loc.range.start.character, loc.range.end.character) == (13, 6, 9)

    refs = await client.text_document_references_async(
        t.ReferenceParams(  # keywords: the attrs field order is (context, text_document, …)
            context=t.ReferenceContext(include_declaration=True),
            text_document=doc(uri),
            position=position_of(text, "set level urgent", 11),
        )
    )
    assert sorted((r.uri.rsplit("/", 1)[1], r.range.start.line) for r in refs) == [
        ("10-levels.sla", 2),
        ("20-rules.sla", 12),
        ("20-rules.sla", 24),
    ]

    syms = await client.text_document_document_symbol_async(t.DocumentSymbolParams(doc(uri)))
    assert [(s.name, s.kind) for s in syms] == [
        ("Spam has no SLA", t.SymbolKind.Function),
        ("Tagged URGENT", t.SymbolKind.Function),
        ("VIP customers", t.SymbolKind.Function),
        ("Critical enterprise tickets", t.SymbolKind.Function),
    ]
    assert syms[0].range.start.line == 4 and syms[0].range.end.line == 8


async def test_formatting(client: Client, ruleset: Path) -> None:
    path = ruleset / "40-messy.sla"
    messy = 'rule   "Phone"  {\n when source=="phone"\n   set level   urgent }\n'
    path.write_text(messy, encoding="utf-8")
    uri = client.open(path)
    await client.diagnostics(uri)
    opts = t.FormattingOptions(tab_size=2, insert_spaces=True)
    [edit] = await client.text_document_formatting_async(t.DocumentFormattingParams(doc(uri), opts))
    assert edit.new_text == 'rule "Phone" {\n  when source == "phone"\n  set level urgent\n}\n'
    assert edit.range.start == t.Position(0, 0)
    client.change(uri, 2, edit.new_text)
    await client.diagnostics(uri)
    again = await client.text_document_formatting_async(t.DocumentFormattingParams(doc(uri), opts))
    assert again == ()  # already canonical
    client.change(uri, 3, 'rule "x" {\n')  # a syntax error: no edits, no error
    syntax = await client.diagnostics(uri)
    assert [d.code for d in syntax.diagnostics] == ["syntax-error"]
    broken = await client.text_document_formatting_async(t.DocumentFormattingParams(doc(uri), opts))
    assert broken == ()


async def test_a_file_outside_a_folder_is_checked_alone(client: Client) -> None:
    uri = "untitled:Untitled-1"
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            t.TextDocumentItem(uri, "sla", 1, 'rule "a" {\n  set level gold\n}\n')
        )
    )
    p = await client.diagnostics(uri)
    assert sorted(d.code for d in p.diagnostics) == ["no-level", "unknown-level"]
    await asyncio.sleep(0)


async def test_incremental_edits_are_applied(client: Client, ruleset: Path) -> None:
    """Editors send ranges (TextDocumentContentChangePartial), not whole texts."""
    path = ruleset / "20-rules.sla"
    text = path.read_text(encoding="utf-8")
    uri = client.open(path)
    assert (await client.diagnostics(uri)).diagnostics == ()
    start = position_of(text, "set level vip", len("set level "))
    end = t.Position(start.line, start.character + 3)
    client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                t.TextDocumentContentChangePartial(range=t.Range(start, end), text="gold")
            ],
        )
    )
    [d] = (await client.diagnostics(uri)).diagnostics
    assert d.code == "unknown-level" and d.range == t.Range(
        start, t.Position(start.line, start.character + 4)
    )
