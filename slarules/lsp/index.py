"""Names in the parsed files: where levels and calendars are declared and used, the outline,
and the schema's values (priorities, sources, statuses, custom fields) for completion.

Built from `slarules.dsl.parse` trees only (public API); a file that does not parse keeps the
index of its last good version (see analysis.py), so completion works while typing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from slarules.dsl import ast

Kind = str  # "level" | "calendar" | "rule"


@dataclass(frozen=True, slots=True)
class Place:
    """A name in a file: 0-based line, start and end column (code points)."""

    file: str
    line: int
    start: int
    end: int

    def contains(self, file: str, line: int, col: int) -> bool:
        return self.file == file and self.line == line and self.start <= col <= self.end


def place(file: str, span: ast.Span, length: int | None = None) -> Place:
    start = span.column - 1
    if length is not None:
        end = start + length
    elif span.end_line == span.line:
        end = span.end_column - 1
    else:
        end = start + 1
    return Place(file, span.line - 1, start, end)


@dataclass
class Symbol:
    kind: Kind
    name: str
    where: Place  # the name
    block: Place  # the whole declaration: start line/col .. end line/col (end_line in `block.end`)
    end_line: int
    children: list[Symbol] = field(default_factory=list)


@dataclass
class Index:
    """Everything the editor features read from the trees of one ruleset."""

    definitions: dict[tuple[Kind, str], list[Place]] = field(default_factory=dict)
    references: dict[tuple[Kind, str], list[Place]] = field(default_factory=dict)
    outline: dict[str, list[Symbol]] = field(default_factory=dict)  # file -> symbols
    levels: dict[str, ast.LevelDecl] = field(default_factory=dict)
    calendars: dict[str, ast.CalendarDecl] = field(default_factory=dict)
    rules: dict[str, ast.RuleDecl] = field(default_factory=dict)
    priorities: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None
    statuses: dict[str, str] = field(default_factory=dict)  # status -> category
    custom_fields: dict[str, str] = field(default_factory=dict)  # name -> type
    seen_values: dict[str, set[str]] = field(default_factory=dict)  # text field -> literals
    texts: dict[str, list[str]] = field(default_factory=dict)  # file -> lines

    def define(self, kind: Kind, name: str, where: Place) -> None:
        self.definitions.setdefault((kind, name), []).append(where)

    def refer(self, kind: Kind, name: str, where: Place) -> None:
        self.references.setdefault((kind, name), []).append(where)

    def at(self, file: str, line: int, col: int) -> tuple[Kind, str] | None:
        """The level or calendar name (definition or use) under a position."""
        for table in (self.definitions, self.references):
            for key, places in table.items():
                if key[0] != "rule" and any(p.contains(file, line, col) for p in places):
                    return key
        return None


def leaves(e: ast.Expr) -> Iterator[ast.Leaf]:
    stack: list[ast.Expr] = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, ast.And | ast.Or):
            stack.extend(reversed(x.items))
        elif isinstance(x, ast.Not):
            stack.append(x.operand)
        elif isinstance(x, ast.Group):
            stack.append(x.inner)
        else:
            yield x


def _condition(ix: Index, file: str, e: ast.Expr) -> None:
    for leaf in leaves(e):
        if isinstance(leaf, ast.During):
            ix.refer("calendar", leaf.calendar.value, place(file, leaf.calendar.span))
        elif isinstance(leaf, ast.Compare) and leaf.left.part is None:
            right = leaf.right
            items = right.items if isinstance(right, ast.ListLit) else (right,)
            for item in items:
                if isinstance(item, ast.Str):
                    ix.seen_values.setdefault(leaf.left.name, set()).add(item.value)


def _symbol(kind: Kind, name: ast.Name | ast.Str, file: str, span: ast.Span) -> Symbol:
    where = place(file, name.span)
    return Symbol(kind, name.value, where, place(file, span, 1), span.end_line - 1)


def add_module(ix: Index, file: str, module: ast.Module, lines: list[str]) -> None:
    """Add one parsed file's names to the index."""
    ix.texts[file] = lines
    out = ix.outline.setdefault(file, [])
    for d in module.decls:
        if isinstance(d, ast.LevelDecl):
            sym = _symbol("level", d.name, file, d.span)
            out.append(sym)
            ix.define("level", d.name.value, sym.where)
            ix.levels.setdefault(d.name.value, d)
            for item in d.items:
                if isinstance(item, ast.LevelCalendar):
                    ix.refer("calendar", item.calendar.value, place(file, item.calendar.span))
                elif isinstance(item, ast.PauseStmt):
                    _condition(ix, file, item.condition)
                elif isinstance(item, ast.TargetStmt) and isinstance(item.value, ast.Table):
                    for row in item.value.rows:
                        ix.seen_values.setdefault(item.value.by.value, set()).add(row.key.value)
        elif isinstance(d, ast.CalendarDecl):
            sym = _symbol("calendar", d.name, file, d.span)
            out.append(sym)
            ix.define("calendar", d.name.value, sym.where)
            ix.calendars.setdefault(d.name.value, d)
        elif isinstance(d, ast.RuleDecl):
            sym = _symbol("rule", d.title, file, d.span)
            out.append(sym)
            ix.rules.setdefault(d.title.value, d)
            if d.when is not None:
                _condition(ix, file, d.when)
            if d.set_level is not None and d.set_level.value != "none":
                ix.refer("level", d.set_level.value, place(file, d.set_level.span))
        elif isinstance(d, ast.DefaultDecl):
            if d.level.value != "none":
                ix.refer("level", d.level.value, place(file, d.level.span))
        elif isinstance(d, ast.SchemaDecl):
            for s in d.items:
                if isinstance(s, ast.PrioritiesStmt):
                    ix.priorities = tuple(k.value for k in s.names)
                elif isinstance(s, ast.SourcesStmt):
                    ix.sources = tuple(k.value for k in s.names)
                else:
                    ix.custom_fields[s.name.value] = s.type
        elif isinstance(d, ast.StatusesDecl):
            for c in d.items:
                for n in c.names:
                    ix.statuses.setdefault(n.value, c.category)
