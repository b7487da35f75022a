"""Completion by position: the block the cursor is in and the tokens just before it decide.

Works on the raw text (the file usually does not parse while being typed); names and schema
values come from the index of the last good trees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slarules.lsp import vocab
from slarules.lsp.index import Index

_TOKENS = re.compile(
    r'(?P<str>"(?:[^"\\\n]|\\.)*")|(?P<open>"(?:[^"\\\n]|\\.)*$)|(?P<comment>#[^\n]*)'
    r"|(?P<word>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?\.?)|(?P<num>[0-9][\w:.%-]*)"
    r"|(?P<op>==|!=|<=|>=|[<>{}\[\](),=:-])|(?P<regex>/(?:\\.|[^/\\\n])+/i?)",
    re.M,
)
_DECLS = ("schema", "statuses", "calendar", "level", "rule")
_STATEMENT = {
    "rule": ("when", "set", "stop"),
    "level": ("title", "calendar", "pause", "warn", *vocab.METRICS),
}
_BOOLS = ("true", "false")
_COMPARE = ("==", "!=", "<", "<=", ">", ">=", "in", "contains", "with", "any", "all", "[", ",")


@dataclass(frozen=True, slots=True)
class Item:
    label: str
    kind: str  # keyword | field | value | level | calendar | zone | country | type | operator
    detail: str = ""
    insert: str | None = None


@dataclass
class Context:
    block: str  # top | schema | statuses | calendar | level | rule | table
    statement: list[str]  # tokens of the current statement before the cursor (words, ops)
    in_string: bool
    partial: str  # the word being typed
    table_field: str = "priority"  # inside `by FIELD { … }`


def context(text_before: str) -> Context:
    stack: list[str] = []
    since: list[str] = []  # tokens since the last brace
    in_string = False
    table_field = "priority"
    for m in _TOKENS.finditer(text_before):
        kind, tok = m.lastgroup, m.group()
        if kind == "comment":
            continue
        if kind == "open":
            in_string = True
            since.append(tok)
            continue
        if tok == "{":
            if len(since) >= 2 and since[-2] == "by":
                stack.append("table")
                table_field = since[-1]
            else:
                stack.append(since[0] if since and since[0] in _DECLS else "block")
            since = []
        elif tok == "}":
            if stack:
                stack.pop()
            since = []
        else:
            since.append(tok)
    block = stack[-1] if stack else "top"
    partial = ""
    typing = text_before[-1:].isalnum() or text_before.endswith("_")
    if not in_string and since and re.fullmatch(r"\w+", since[-1]) and typing:
        partial = since.pop()
    return Context(block, _statement(block, since), in_string, partial, table_field)


def _statement(block: str, since: list[str]) -> list[str]:
    """The tokens of the statement the cursor is in (from its keyword on)."""
    starts = set(_STATEMENT.get(block, vocab.BLOCK_KEYWORDS.get(block, ())))
    if block == "top":
        starts = {"timezone", "default", *_DECLS}
    for i in range(len(since) - 1, -1, -1):
        tok = since[i]
        if tok in starts:
            prev = since[i - 1] if i > 0 else ""
            if (
                (block == "level" and tok == "when")
                or (tok == "set" and prev in ("is", "not"))
                or (tok == "level" and prev in ("default", "set"))
            ):
                continue
            return since[i:]
    return []


def field_type(ix: Index, name: str) -> str | None:
    base, _, part = name.partition(".")
    if part:
        return vocab.PARTS.get(part, (None, ""))[0]
    if base in vocab.BUILTIN_FIELDS:
        return vocab.BUILTIN_FIELDS[base][0]
    return ix.custom_fields.get(base)


def _fields(ix: Index) -> list[Item]:
    items = [Item(n, "field", f"{t}: {m}") for n, (t, m) in vocab.BUILTIN_FIELDS.items()]
    items += [Item(n, "field", f"{t} (custom field)") for n, t in ix.custom_fields.items()]
    items += [Item(k, "keyword") for k in vocab.CONDITION_KEYWORDS]
    return items


def values(ix: Index, name: str) -> list[str]:
    base, _, part = name.partition(".")
    if part == "weekday":
        return list(vocab.DAYS)
    if base == "priority":
        return list(ix.priorities or vocab.DEFAULT_PRIORITIES)
    if base == "source" and ix.sources:
        return list(ix.sources)
    if base == "status":
        return list(ix.statuses or vocab.DEFAULT_STATUSES)
    return sorted(ix.seen_values.get(base, ()))


def _value_items(ix: Index, name: str, in_string: bool) -> list[Item]:
    kind = field_type(ix, name)
    if kind == "bool":
        return [Item("true", "value"), Item("false", "value")]
    detail = f"{name} value"
    return [Item(v, "value", detail, v if in_string else f'"{v}"') for v in values(ix, name)]


def _names(ix: Index, kind: str, extra: tuple[str, ...] = ()) -> list[Item]:
    names = [k[1] for k in ix.definitions if k[0] == kind]
    return [Item(n, kind) for n in dict.fromkeys(names)] + [Item(e, "keyword") for e in extra]


def _condition(ix: Index, cond: list[str], in_string: bool) -> list[Item]:
    if not cond or cond[-1] in ("when", "and", "or", "not", "("):
        return _fields(ix)
    last = cond[-1]
    if last.endswith("."):
        return [Item(p, "field", f"{t}: {m}") for p, (t, m) in vocab.PARTS.items()]
    if last == "during":
        return _names(ix, "calendar", ("always",))
    if last in _COMPARE or (in_string and last not in ("matches",)):
        field = next((t for t in reversed(cond) if field_type(ix, t) is not None), None)
        return _value_items(ix, field, in_string) if field else []
    if field_type(ix, last) is not None:
        kind = field_type(ix, last) or "text"
        ops = vocab.OPERATORS.get("number" if kind == "weekday" else kind, ())
        return [Item(o, "operator", f"{kind} operator") for o in ops]
    if last.endswith('"') or last[0].isdigit() or last in ("set", "true", "false"):
        return [Item("and", "keyword"), Item("or", "keyword")]
    return _fields(ix)


def _in_string(ix: Index, ctx: Context) -> list[Item]:
    st = ctx.statement
    if ctx.block in ("calendar", "top") and st[:1] == ["timezone"]:
        return [Item(z, "zone") for z in vocab.time_zones()]
    if ctx.block == "calendar" and st[:1] == ["holidays"]:
        if "subdivision" in st:
            country = st[1].strip('"') if len(st) > 1 else ""
            subs = vocab.countries().get(country, ())
            return [Item(s, "country", f"subdivision of {country}") for s in subs]
        return [Item(c, "country", "holidays country") for c in vocab.countries()]
    if ctx.block in ("rule", "level"):
        return _condition(ix, _after_when(st), True)
    return []


def _after_when(st: list[str]) -> list[str]:
    return st[st.index("when") :] if "when" in st else []


def complete(ix: Index, text_before: str) -> list[Item]:
    """Completion items for a cursor after `text_before` (the document's text up to it)."""
    ctx = context(text_before)
    st, block = ctx.statement, ctx.block
    if ctx.in_string:
        return _in_string(ix, ctx)
    keywords = [Item(k, "keyword") for k in vocab.BLOCK_KEYWORDS.get(block, ())]
    if block == "table":
        return [Item(v, "value") for v in values(ix, ctx.table_field)] + keywords
    if not st:
        return keywords
    head, last = st[0], st[-1]
    if block in ("rule", "level") and "when" in st:
        items = _condition(ix, _after_when(st), False)
        if block == "rule" and (last[-1] in '")]' or last[0].isdigit() or last in _BOOLS):
            items += [Item("set", "keyword"), Item("stop", "keyword")]
        return items
    if head in ("set", "default"):
        if last == "level":
            return _names(ix, "level", ("none",) if head == "set" else ())
        return [Item("level", "keyword")] if len(st) == 1 else [Item("stop", "keyword")]
    if block == "level":
        if head == "calendar" and len(st) == 1:
            return _names(ix, "calendar", ("always",))
        if head in vocab.METRICS and last == "by":
            texts = [n for n, t in ix.custom_fields.items() if t == "text"]
            return [Item(n, "field") for n in ("priority", "source", *texts)]
        if head == "pause":
            return [Item(m, "keyword", "metric") for m in vocab.METRICS] + [Item("when", "keyword")]
        if head == "warn" and len(st) == 1:
            return [Item("at", "keyword"), Item("before", "keyword")]
        if head in vocab.METRICS and len(st) == 1:
            return [Item("by", "keyword")]
        return keywords
    if block == "calendar" and head == "hours" and last in ("hours", ",", "-"):
        return [Item(d, "keyword", "day") for d in vocab.DAYS]
    if block == "calendar" and head == "holidays" and len(st) == 2:
        return [Item("subdivision", "keyword")]
    if block == "schema" and head == "field" and last == ":":
        return [Item(t, "type") for t in vocab.FIELD_TYPES]
    if block in ("schema", "statuses", "calendar", "top"):
        return keywords
    return keywords
