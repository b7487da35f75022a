"""The one canonical layout of `.sla` files (`slarules fmt`).

Layout: two-space indentation, one statement per line, one blank line
between top-level declarations (blank lines inside blocks are kept, at most
one), single spaces around operators and after commas, literals as written.
A condition written over several lines is printed with each `and`/`or`
(outside parentheses) starting a line indented under `when`.

Comments: every comment is kept, in order. A comment alone on its line is
printed on its own line before the statement that followed it (indented like
that statement); a comment after code stays at the end of the printed line
that holds that code.
"""

from __future__ import annotations

from dataclasses import dataclass

from slarules.dsl import ast
from slarules.dsl.parser import parse
from slarules.dsl.unparse import expr_text, literal_text

INDENT = "  "


@dataclass
class _Line:
    text: str
    depth: int
    start: int  # source line of the construct's first token
    end: int  # source line of its last token
    kind: str = "code"  # code | open | close | comment
    top_end: bool = False  # the last line of a top-level declaration
    trailing: str | None = None


def _keys(keys: tuple[ast.Key, ...], sep: str) -> str:
    return sep.join(k.raw for k in keys)


def _cond_segments(e: ast.Expr) -> list[tuple[str, int]]:
    """(text, source line) per printed line of a multi-line condition."""
    if isinstance(e, ast.And | ast.Or):
        word = "and" if isinstance(e, ast.And) else "or"
        out: list[tuple[str, int]] = []
        for i, item in enumerate(e.items):
            parts = _cond_segments(item)
            if i > 0:
                parts[0] = (f"{word} {parts[0][0]}", parts[0][1])
            out.extend(parts)
        return out
    return [(expr_text(e), e.span.line)]


class _Printer:
    def __init__(self) -> None:
        self.lines: list[_Line] = []

    def add(self, text: str, depth: int, span: ast.Span, kind: str = "code") -> None:
        self.lines.append(_Line(text, depth, span.line, span.end_line, kind))

    def condition(self, head: str, e: ast.Expr, depth: int, span: ast.Span) -> None:
        if e.span.end_line > e.span.line:
            segs = _cond_segments(e)
            if len(segs) > 1:
                first, *rest = segs
                self.lines.append(_Line(f"{head}{first[0]}", depth, span.line, first[1]))
                for i, (text, line) in enumerate(rest):
                    nxt = rest[i + 1][1] - 1 if i + 1 < len(rest) else span.end_line
                    self.lines.append(_Line(text, depth + 1, line, max(line, nxt)))
                return
        self.add(f"{head}{expr_text(e)}", depth, span)

    def decl(self, d: ast.Decl) -> None:
        start = len(self.lines)
        if isinstance(d, ast.TimezoneDecl):
            self.add(f"timezone {d.zone.raw}", 0, d.span)
        elif isinstance(d, ast.DefaultDecl):
            self.add(f"default level {d.level.value}", 0, d.span)
        elif isinstance(d, ast.SchemaDecl):
            self._open("schema", d.span, d.items[0].span if d.items else None)
            for item in d.items:
                if isinstance(item, ast.PrioritiesStmt):
                    self.add("priorities " + _keys(item.names, " < "), 1, item.span)
                elif isinstance(item, ast.SourcesStmt):
                    self.add("sources " + _keys(item.names, ", "), 1, item.span)
                else:
                    self.add(f"field {item.name.value}: {item.type}", 1, item.span)
            self._close(d.span)
        elif isinstance(d, ast.StatusesDecl):
            self._open("statuses", d.span, d.items[0].span if d.items else None)
            for c in d.items:
                self.add(f"{c.category} = " + ", ".join(s.raw for s in c.names), 1, c.span)
            self._close(d.span)
        elif isinstance(d, ast.CalendarDecl):
            self._open(f"calendar {d.name.value}", d.span, d.items[0].span if d.items else None)
            for ci in d.items:
                self._calendar_item(ci)
            self._close(d.span)
        elif isinstance(d, ast.LevelDecl):
            self._open(f"level {d.name.value}", d.span, d.items[0].span if d.items else None)
            for li in d.items:
                self._level_item(li)
            self._close(d.span)
        else:
            first = (
                d.when_span
                if d.when is not None
                else (d.set_level.span if d.set_level is not None else d.stop_span)
            )
            self._open(f"rule {d.title.raw}", d.span, first)
            if d.when is not None:
                self.condition("when ", d.when, 1, d.when_span)
            if d.set_level is not None:
                self.add(f"set level {d.set_level.value}", 1, d.set_level.span)
            if d.stop:
                self.add("stop", 1, d.stop_span)
            self._close(d.span)
        if len(self.lines) > start:
            self.lines[-1].top_end = True

    def _open(self, head: str, span: ast.Span, first: ast.Span | None) -> None:
        self.lines.append(_Line(head + " {", 0, span.line, span.line, "open"))

    def _close(self, span: ast.Span) -> None:
        self.lines.append(_Line("}", 0, span.end_line, span.end_line, "close"))

    def _calendar_item(self, ci: ast.CalendarItem) -> None:
        if isinstance(ci, ast.CalTimezone):
            self.add(f"timezone {ci.zone.raw}", 1, ci.span)
        elif isinstance(ci, ast.HoursStmt):
            days = ", ".join(d.start.value + (f"-{d.end.value}" if d.end else "") for d in ci.days)
            ranges = ", ".join(f"{r.start.raw}-{r.end.raw}" for r in ci.ranges)
            self.add(f"hours {days} {ranges}", 1, ci.span)
        elif isinstance(ci, ast.HolidaysStmt):
            sub = f" subdivision {ci.subdivision.raw}" if ci.subdivision else ""
            self.add(f"holidays {ci.country.raw}{sub}", 1, ci.span)
        else:
            label = f" {ci.label.raw}" if ci.label else ""
            self.add(f"closed {ci.day.raw}{label}", 1, ci.span)

    def _level_item(self, li: ast.LevelItem) -> None:
        if isinstance(li, ast.TitleStmt):
            self.add(f"title {li.title.raw}", 1, li.span)
        elif isinstance(li, ast.LevelCalendar):
            self.add(f"calendar {li.calendar.value}", 1, li.span)
        elif isinstance(li, ast.TargetStmt):
            v = li.value
            if isinstance(v, ast.Duration):
                text = v.raw
            else:
                cells = [f"{r.key.raw} {r.duration.raw}" for r in v.rows]
                if v.else_duration is not None:
                    cells.append(f"else {v.else_duration.raw}")
                text = f"by {v.by.value} {{ " + ", ".join(cells) + " }"
            self.add(f"{li.metric.value} {text}", 1, li.span)
        elif isinstance(li, ast.PauseStmt):
            metrics = ", ".join(m.value for m in li.metrics)
            head = f"pause {metrics} when " if metrics else "pause when "
            self.condition(head, li.condition, 1, li.span)
        elif isinstance(li, ast.WarnAt):
            self.add("warn at " + ", ".join(p.raw for p in li.percents), 1, li.span)
        else:
            self.add("warn before " + ", ".join(d.raw for d in li.durations), 1, li.span)


def _place_comments(
    lines: list[_Line], comments: tuple[ast.Comment, ...], source: list[str]
) -> list[_Line]:
    """Merge comments into the printed lines, keeping their order."""
    before: dict[int, list[ast.Comment]] = {}
    prev = (-1, 1)
    for c in comments:
        text = source[c.line - 1] if 0 < c.line <= len(source) else ""
        standalone = text[: c.column - 1].strip() == ""
        if standalone:
            idx = next((i for i, ln in enumerate(lines) if ln.start > c.line), len(lines))
            slot = (idx, 0)
        else:
            idx = max((i for i, ln in enumerate(lines) if ln.start <= c.line), default=-1)
            slot = (idx, 1) if idx >= 0 else (0, 0)
        if slot <= prev:
            slot = (prev[0] + 1, 0) if prev[1] == 1 else prev
        if slot[1] == 1 and lines[slot[0]].trailing is None:
            lines[slot[0]].trailing = c.text
        else:
            slot = (slot[0], 0) if slot[1] == 0 else (slot[0] + 1, 0)
            before.setdefault(slot[0], []).append(c)
        prev = slot
    out: list[_Line] = []
    for i in range(len(lines) + 1):
        nxt = lines[i] if i < len(lines) else None
        # a comment before a closing brace belongs inside the block
        depth = 0 if nxt is None else nxt.depth + (1 if nxt.kind == "close" else 0)
        for c in before.get(i, []):
            out.append(_Line(c.text, depth, c.line, c.line, "comment"))
        if nxt is not None:
            out.append(nxt)
    return out


def _render(lines: list[_Line]) -> str:
    out: list[str] = []
    prev: _Line | None = None
    for ln in lines:
        if prev is not None and ln.kind != "close" and prev.kind != "open":
            top_gap = prev.top_end and ln.depth == 0
            if top_gap or ln.start > prev.end + 1:
                out.append("")
        text = INDENT * ln.depth + ln.text
        if ln.trailing is not None:
            text += "  " + ln.trailing
        out.append(text)
        prev = ln
    return "\n".join(out) + "\n" if out else ""


def format_module(module: ast.Module, text: str) -> str:
    """The canonical text of a parsed file (`text` is its source, for comment placement)."""
    printer = _Printer()
    for d in module.decls:
        printer.decl(d)
    lines = _place_comments(printer.lines, module.comments, text.split("\n"))
    return _render(lines)


def format_source(text: str, name: str = "<input>") -> str:
    """Format one file's text; raises `RulesSyntaxError` when it does not parse."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return format_module(parse(text, name), text)


__all__ = ["format_module", "format_source", "literal_text"]
