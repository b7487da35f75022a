"""Text → `ast.Module`. Lark's trees never leave here (and `limits`, `tables`).

The LALR parser is built once per process (lazily) from the tables shipped
with the package (`tables.py`: hash-checked, no user cache directory, nothing
written), or from `grammar.lark` when they do not match; syntax errors become
one `syntax-error` diagnostic that names what was expected in words, and the
language's limits (`limits.py`) one diagnostic each.
"""

from __future__ import annotations

import re
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from slarules.dsl import ast, limits, tables
from slarules.dsl.syntax_errors import syntax_error
from slarules.engine.cancel import NEVER, Cancel
from slarules.errors import Diagnostic, RulesError

GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")


class RulesSyntaxError(RulesError):
    """A file that does not parse; `diagnostic` is its `syntax-error` or limit diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__([diagnostic])
        self.diagnostic = diagnostic


# ---- building the parser once ---------------------------------------------

_lock = threading.Lock()
_parser: Lark | None = None
_local = threading.local()  # per-thread comment sink filled by the lexer callback


def _on_comment(tok: Token) -> None:
    sink = getattr(_local, "comments", None)
    if sink is not None:
        sink.append(tok)


def build_parser(*, strict: bool = True, cache: bool = True) -> Lark:
    """A Lark LALR parser for the rules language (`strict=True` raises on any ambiguity).

    With `cache`, the tables shipped in the package (`tables.py`, hash-checked)
    are used when they match the grammar; nothing is read from or written to a
    user directory."""
    grammar = GRAMMAR_PATH.read_text(encoding="utf-8")
    callbacks = {"COMMENT": _on_comment}
    if cache and strict:
        from slarules.dsl._grammar_tables import META

        shipped = tables.load(grammar, callbacks, META)
        if shipped is not None:
            return shipped
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        strict=strict,
        propagate_positions=True,
        maybe_placeholders=False,
        lexer_callbacks=callbacks,
    )


def get_parser() -> Lark:
    global _parser
    if _parser is None:
        with _lock:
            if _parser is None:
                _parser = build_parser()
    return _parser


# ---- syntax errors in words ------------------------------------------------

# ---- tree → AST --------------------------------------------------------------


def _tok_span(t: Token) -> ast.Span:
    return ast.Span(t.line or 0, t.column or 0, t.end_line or 0, t.end_column or 0)


def _meta_span(meta: Any) -> ast.Span:
    if getattr(meta, "empty", True):
        return ast.NOSPAN
    return ast.Span(meta.line, meta.column, meta.end_line, meta.end_column)


def _unquote(raw: str) -> str:
    return raw[1:-1].replace('\\"', '"').replace("\\\\", "\\") if "\\" in raw else raw[1:-1]


_DURATION_RE = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?")


def duration_seconds(raw: str) -> int:
    m = _DURATION_RE.fullmatch(raw)
    assert m is not None
    d, h, mi = (int(x) if x else 0 for x in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _datetime(raw: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _clock(raw: str) -> int | None:
    h, m = int(raw[:2]), int(raw[3:])
    if m > 59 or h > 24 or (h == 24 and m != 0):
        return None
    return h * 60 + m


def _str(t: Token) -> ast.Str:
    return ast.Str(_unquote(str(t)), str(t), _tok_span(t))


def _name(t: Token) -> ast.Name:
    return ast.Name(str(t), _tok_span(t))


def _key(node: Any) -> ast.Key:
    t: Token = node.children[0] if isinstance(node, Tree) else node  # type: ignore[assignment]
    raw = str(t)
    value = _unquote(raw) if t.type == "STRING" else raw
    return ast.Key(value, raw, _tok_span(t))


def _dur(t: Token) -> ast.Duration:
    return ast.Duration(duration_seconds(str(t)), str(t), _tok_span(t))


def _kw(tree: Tree[Any]) -> ast.Name:
    """A `!rule` holding one keyword token (metric, day, level_ref, …)."""
    t: Token = tree.children[0]  # type: ignore[assignment]
    return ast.Name(str(t), _tok_span(t))


_OPS = {
    "in_list": "in",
    "not_in_list": "not in",
    "contains": "contains",
    "contains_any": "contains any",
    "contains_all": "contains all",
    "starts_with": "starts with",
    "ends_with": "ends with",
}


class _ToAst:
    """Builds AST nodes bottom-up; each public method, named after a grammar rule,
    gets the rule's (meta, children) with the children already converted."""

    def start(self, meta: Any, c: list[Any]) -> ast.Module:
        return ast.Module(tuple(c), (), _meta_span(meta))

    # literals
    def string(self, meta: Any, c: list[Token]) -> ast.Str:
        return _str(c[0])

    def number(self, meta: Any, c: list[Token]) -> ast.Num:
        raw = str(c[0])
        value: int | float = float(raw) if "." in raw else int(raw)
        return ast.Num(value, raw, _tok_span(c[0]))

    def date(self, meta: Any, c: list[Token]) -> ast.DateLit:
        return ast.DateLit(_date(str(c[0])), str(c[0]), _tok_span(c[0]))

    def datetime(self, meta: Any, c: list[Token]) -> ast.DateTimeLit:
        return ast.DateTimeLit(_datetime(str(c[0])), str(c[0]), _tok_span(c[0]))

    def true(self, meta: Any, c: list[Any]) -> ast.Bool:
        return ast.Bool(True, _meta_span(meta))

    def false(self, meta: Any, c: list[Any]) -> ast.Bool:
        return ast.Bool(False, _meta_span(meta))

    def list_lit(self, meta: Any, c: list[Any]) -> ast.ListLit:
        return ast.ListLit(tuple(c), _meta_span(meta))

    def field_ref(self, meta: Any, c: list[Token]) -> ast.FieldRef:
        part = str(c[1]) if len(c) > 1 else None
        return ast.FieldRef(str(c[0]), part, _meta_span(meta))

    # conditions
    def compare(self, meta: Any, c: list[Any]) -> ast.Compare:
        return ast.Compare(c[0], str(c[1].children[0]), c[2], _meta_span(meta))

    def _op(self, name: str, meta: Any, c: list[Any]) -> ast.Compare:
        return ast.Compare(c[0], _OPS[name], c[1], _meta_span(meta))

    def in_list(self, meta: Any, c: list[Any]) -> ast.Compare:
        return self._op("in_list", meta, c)

    def not_in_list(self, meta: Any, c: list[Any]) -> ast.Compare:
        return self._op("not_in_list", meta, c)

    def contains(self, meta: Any, c: list[Any]) -> ast.Compare:
        return self._op("contains", meta, c)

    def contains_any(self, meta: Any, c: list[Any]) -> ast.Compare:
        return self._op("contains_any", meta, c)

    def contains_all(self, meta: Any, c: list[Any]) -> ast.Compare:
        return self._op("contains_all", meta, c)

    def starts_with(self, meta: Any, c: list[Any]) -> ast.Compare:
        return self._op("starts_with", meta, c)

    def ends_with(self, meta: Any, c: list[Any]) -> ast.Compare:
        return self._op("ends_with", meta, c)

    def matches(self, meta: Any, c: list[Any]) -> ast.Matches:
        raw = str(c[1])
        ignore_case = raw.endswith("i")
        body = raw[1 : raw.rindex("/")]
        pattern = body.replace("\\/", "/")
        return ast.Matches(
            c[0], ast.Regex(pattern, ignore_case, raw, _tok_span(c[1])), _meta_span(meta)
        )

    def is_set(self, meta: Any, c: list[Any]) -> ast.IsSet:
        return ast.IsSet(c[0], False, _meta_span(meta))

    def is_not_set(self, meta: Any, c: list[Any]) -> ast.IsSet:
        return ast.IsSet(c[0], True, _meta_span(meta))

    def during(self, meta: Any, c: list[Any]) -> ast.During:
        return ast.During(c[0], _name(c[1]), _meta_span(meta))

    def bare(self, meta: Any, c: list[Any]) -> ast.Bare:
        return ast.Bare(c[0], _meta_span(meta))

    def negation(self, meta: Any, c: list[Any]) -> ast.Not:
        return ast.Not(c[0], _meta_span(meta))

    def group(self, meta: Any, c: list[Any]) -> ast.Group:
        return ast.Group(c[0], _meta_span(meta))

    def and_expr(self, meta: Any, c: list[Any]) -> ast.And:
        return ast.And(tuple(c), _meta_span(meta))

    def or_expr(self, meta: Any, c: list[Any]) -> ast.Or:
        return ast.Or(tuple(c), _meta_span(meta))

    # declarations
    def timezone_decl(self, meta: Any, c: list[Token]) -> ast.TimezoneDecl:
        return ast.TimezoneDecl(_str(c[0]), _meta_span(meta))

    def schema_decl(self, meta: Any, c: list[Any]) -> ast.SchemaDecl:
        return ast.SchemaDecl(tuple(c), _meta_span(meta))

    def priorities_stmt(self, meta: Any, c: list[Any]) -> ast.PrioritiesStmt:
        return ast.PrioritiesStmt(tuple(_key(k) for k in c), _meta_span(meta))

    def sources_stmt(self, meta: Any, c: list[Any]) -> ast.SourcesStmt:
        return ast.SourcesStmt(tuple(_key(k) for k in c), _meta_span(meta))

    def field_stmt(self, meta: Any, c: list[Any]) -> ast.FieldStmt:
        return ast.FieldStmt(_name(c[0]), str(c[1].children[0]), _meta_span(meta))

    def statuses_decl(self, meta: Any, c: list[Any]) -> ast.StatusesDecl:
        return ast.StatusesDecl(tuple(c), _meta_span(meta))

    def category_stmt(self, meta: Any, c: list[Any]) -> ast.CategoryStmt:
        return ast.CategoryStmt(
            str(c[0].children[0]), tuple(_str(t) for t in c[1:]), _meta_span(meta)
        )

    def calendar_decl(self, meta: Any, c: list[Any]) -> ast.CalendarDecl:
        return ast.CalendarDecl(_name(c[0]), tuple(c[1:]), _meta_span(meta))

    def cal_timezone(self, meta: Any, c: list[Token]) -> ast.CalTimezone:
        return ast.CalTimezone(_str(c[0]), _meta_span(meta))

    def hours_stmt(self, meta: Any, c: list[Any]) -> ast.HoursStmt:
        days = tuple(x for x in c if isinstance(x, ast.DayItem))
        ranges = tuple(x for x in c if isinstance(x, ast.TimeRange))
        return ast.HoursStmt(days, ranges, _meta_span(meta))

    def day_item(self, meta: Any, c: list[Any]) -> ast.DayItem:
        return ast.DayItem(_kw(c[0]), _kw(c[1]) if len(c) > 1 else None, _meta_span(meta))

    def time_range(self, meta: Any, c: list[Token]) -> ast.TimeRange:
        a, b = (ast.ClockTime(_clock(str(t)), str(t), _tok_span(t)) for t in c)
        return ast.TimeRange(a, b, _meta_span(meta))

    def holidays_stmt(self, meta: Any, c: list[Token]) -> ast.HolidaysStmt:
        return ast.HolidaysStmt(_str(c[0]), _str(c[1]) if len(c) > 1 else None, _meta_span(meta))

    def closed_stmt(self, meta: Any, c: list[Token]) -> ast.ClosedStmt:
        d = ast.DateLit(_date(str(c[0])), str(c[0]), _tok_span(c[0]))
        return ast.ClosedStmt(d, _str(c[1]) if len(c) > 1 else None, _meta_span(meta))

    def level_decl(self, meta: Any, c: list[Any]) -> ast.LevelDecl:
        return ast.LevelDecl(_name(c[0]), tuple(c[1:]), _meta_span(meta))

    def title_stmt(self, meta: Any, c: list[Token]) -> ast.TitleStmt:
        return ast.TitleStmt(_str(c[0]), _meta_span(meta))

    def level_calendar(self, meta: Any, c: list[Token]) -> ast.LevelCalendar:
        return ast.LevelCalendar(_name(c[0]), _meta_span(meta))

    def target_stmt(self, meta: Any, c: list[Any]) -> ast.TargetStmt:
        value = c[1] if isinstance(c[1], ast.Table) else _dur(c[1])
        return ast.TargetStmt(_kw(c[0]), value, _meta_span(meta))

    def table(self, meta: Any, c: list[Any]) -> ast.Table:
        rows = tuple(x for x in c[1:] if isinstance(x, ast.Row))
        other = [x for x in c[1:] if isinstance(x, ast.Duration)]
        return ast.Table(_name(c[0]), rows, other[0] if other else None, _meta_span(meta))

    def row(self, meta: Any, c: list[Any]) -> ast.Row:
        return ast.Row(_key(c[0]), _dur(c[1]), _meta_span(meta))

    def else_row(self, meta: Any, c: list[Token]) -> ast.Duration:
        return _dur(c[0])

    def pause_stmt(self, meta: Any, c: list[Any]) -> ast.PauseStmt:
        metrics = tuple(_kw(x) for x in c[:-1])
        return ast.PauseStmt(metrics, c[-1], _meta_span(meta))

    def warn_at(self, meta: Any, c: list[Token]) -> ast.WarnAt:
        return ast.WarnAt(
            tuple(ast.Percent(float(str(t)[:-1]), str(t), _tok_span(t)) for t in c),
            _meta_span(meta),
        )

    def warn_before(self, meta: Any, c: list[Token]) -> ast.WarnBefore:
        return ast.WarnBefore(tuple(_dur(t) for t in c), _meta_span(meta))

    def default_decl(self, meta: Any, c: list[Any]) -> ast.DefaultDecl:
        return ast.DefaultDecl(_kw(c[0]), _meta_span(meta))

    def rule_decl(self, meta: Any, c: list[Any]) -> ast.RuleDecl:
        when: ast.Expr | None = None
        set_level: ast.Name | None = None
        stop = False
        when_span = stop_span = ast.NOSPAN
        for x in c[1:]:
            if isinstance(x, Tree) and x.data == "when_clause":
                when = x.children[0]  # type: ignore[assignment]
                when_span = _meta_span(x.meta)
            elif isinstance(x, Tree) and x.data == "set_clause":
                set_level = _kw(x.children[0])
            elif isinstance(x, Tree) and x.data == "stop_clause":
                stop = True
                stop_span = _meta_span(x.meta)
        return ast.RuleDecl(
            _str(c[0]), when, set_level, stop, _meta_span(meta), when_span, stop_span
        )


# rule name -> builder; a rule without one stays a `Tree` (read by its parent's builder)
_BUILDERS: dict[str, Any] = {
    name: getattr(_ToAst(), name) for name in vars(_ToAst) if not name.startswith("_")
}


def _to_ast(tree: Tree[Token]) -> Any:
    """The tree converted bottom-up by `_BUILDERS` (what Lark's `Transformer` does with
    `v_args(meta=True)`, without its per-node dispatch: half the time on large files)."""
    builders = _BUILDERS

    def walk(t: Tree[Token]) -> Any:
        children = [walk(c) if isinstance(c, Tree) else c for c in t.children]
        build = builders.get(t.data)
        return Tree(t.data, children, t.meta) if build is None else build(t.meta, children)

    return walk(tree)


def parse(text: str, file: str = "<input>", cancel: Cancel = NEVER) -> ast.Module:
    """Parse one file's text; raises `RulesSyntaxError` (the first syntax error) on bad input.

    `cancel.check()` is polled every few hundred tokens and before the tree is converted."""
    parser = get_parser()
    if text.startswith("\ufeff"):
        text = text[1:]
    comments: list[Token] = []
    _local.comments = comments
    try:
        tree = limits.parse_bounded(parser, text, file, cancel)
    except UnexpectedInput as e:
        raise RulesSyntaxError(syntax_error(e, text, file, parser)) from None
    except limits.LimitError as e:
        raise RulesSyntaxError(e.diagnostic) from None
    finally:
        _local.comments = None
    cancel.check()
    try:
        module = _to_ast(tree)
    except RecursionError:  # last resort; the stack has unwound by now
        raise RulesSyntaxError(limits.too_deep(file)) from None
    return ast.Module(
        module.decls,
        tuple(ast.Comment(str(t).rstrip(), t.line or 0, t.column or 0) for t in comments),
        module.span,
    )
