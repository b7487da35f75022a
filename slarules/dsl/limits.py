"""The rules language's explicit limits (language.md §Limits), each one a diagnostic.

Two passes, both pure:

- `parse_bounded` replaces `Lark.parse`: it walks the token stream of the LALR
  parser and stops at the first token that makes the file too large, a
  condition nest too deep or a number too long, *before* Lark's recursive
  transformer, the checker, the formatter or the compiler see the tree (deep
  trees overflow Python's stack; compiled conditions must stay within CPython's
  200 nested parentheses; `int()` refuses more than 4,300 digits).
- `range_diagnostics` walks the parsed modules for values the engine cannot
  honour: durations over `MAX_DURATION`, targets needing more than
  `MAX_TARGET_YEARS` of their calendar's open hours (the calendar arithmetic
  walks year tables, local years 2 to 9998 only), and more than `MAX_RULES`
  rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from slarules.dsl import ast, limit_codes
from slarules.dsl.codes import Msg
from slarules.dsl.names import DAYS
from slarules.engine.cancel import NEVER, Cancel
from slarules.errors import Diagnostic

MAX_FILE_BYTES = 1024 * 1024  # one .sla file, in UTF-8 bytes
MAX_RULESET_BYTES = 4 * 1024 * 1024  # all files of a ruleset together
MAX_DEPTH = 32  # parentheses and `not`s open at once in one condition
MAX_DIGITS = 30  # digits in one number, duration or percentage token
MAX_DURATION = 365 * 86400  # any duration (target, table row, warn before): 365d = 8760h
MAX_TARGET_YEARS = 5  # a target needs at most this many years of its calendar's hours
MAX_RULES = 2000  # rules in one ruleset
MAX_TERMS = 256  # comparisons in one condition (`when` or `pause when`)
CANCEL_EVERY = 256  # tokens between two polls of the cancel hook while parsing

_WEEKS_PER_YEAR = 52
# After these tokens `not` is part of `not in` / `is not set`, not a negation.
_NOT_OPERATOR_AFTER = frozenset({"NAME", "IS"})
_DIGIT_TOKENS = frozenset({"NUMBER", "DURATION", "PERCENT"})


class LimitError(ValueError):
    """A limit exceeded while parsing; `diagnostic` says which, where, and what to do."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _diag(msg: Msg, file: str, line: int, column: int, text: str) -> Diagnostic:
    lines = text.split("\n")
    source = _clip(lines[line - 1], column) if 0 < line <= len(lines) else None
    return _at(msg, file, line, column, source)


def _at(msg: Msg, file: str, line: int, column: int, source: str | None = None) -> Diagnostic:
    return Diagnostic(msg.severity, msg.code, msg.message, file, line, column, msg.hint, source)


def _clip(source: str, column: int) -> str:
    """The source line for the caret rendering, cut after the column (lines can be huge)."""
    return source[: max(column, 1) + 80]


def size_diagnostic(nbytes: int, file: str) -> Diagnostic | None:
    """`file-too-large` when one file has more than MAX_FILE_BYTES bytes."""
    if nbytes <= MAX_FILE_BYTES:
        return None
    return _at(limit_codes.file_too_large(nbytes, MAX_FILE_BYTES), file, 1, 1)


def ruleset_size_diagnostic(sizes: Sequence[tuple[str, int]]) -> Diagnostic | None:
    """`ruleset-too-large` when all files together exceed MAX_RULESET_BYTES."""
    total = sum(n for _name, n in sizes)
    if total <= MAX_RULESET_BYTES or not sizes:
        return None
    return _at(limit_codes.ruleset_too_large(total, MAX_RULESET_BYTES), sizes[-1][0], 1, 1)


class _Depth:
    """Open parentheses plus pending `not`s of the condition being read.

    A `not` ends with its operand: at the next `and`/`or`/`)` of its level;
    a `when` starts a new condition."""

    def __init__(self) -> None:
        self.nots = [0]  # pending `not`s per open parenthesis level
        self.depth = 0
        self.prev = ""

    def step(self, tok: Token, text: str, file: str) -> None:
        kind = tok.type
        if kind == "WHEN":
            self.nots, self.depth = [0], 0
        elif kind == "LPAR":
            self.nots.append(0)
            self.depth += 1
        elif kind == "RPAR" and len(self.nots) > 1:
            self.depth -= 1 + self.nots.pop()
        elif kind == "NOT" and self.prev not in _NOT_OPERATOR_AFTER:
            self.nots[-1] += 1
            self.depth += 1
        elif kind in ("AND", "OR"):
            self.depth -= self.nots[-1]
            self.nots[-1] = 0
        elif kind in _DIGIT_TOKENS and sum(c.isdigit() for c in tok) > MAX_DIGITS:
            msg = limit_codes.number_too_long(str(tok), MAX_DIGITS)
            raise LimitError(_diag(msg, file, tok.line or 1, tok.column or 1, text))
        if self.depth > MAX_DEPTH:
            msg = limit_codes.nesting_too_deep(MAX_DEPTH)
            raise LimitError(_diag(msg, file, tok.line or 1, tok.column or 1, text))
        self.prev = kind


def parse_bounded(parser: Lark, text: str, file: str, cancel: Cancel = NEVER) -> Tree[Token]:
    """`parser.parse(text)`, but raises `LimitError` at the first token over a limit.

    Lark's `UnexpectedInput` errors come out as `Lark.parse` raises them."""
    size = size_diagnostic(len(text.encode("utf-8", "surrogatepass")), file)
    if size is not None:
        raise LimitError(size)
    ip = parser.parse_interactive(text)
    depth = _Depth()
    try:
        for n, tok in enumerate(ip.iter_parse()):
            depth.step(tok, text, file)
            if n % CANCEL_EVERY == 0:
                cancel.check()
        tree: Tree[Token] = ip.feed_eof()  # type: ignore[no-untyped-call]
    except UnexpectedInput as e:  # with the parser's state, as `Lark.parse` gives it
        if getattr(e, "interactive_parser", None) is None:
            e.interactive_parser = ip
        raise
    return tree


def too_deep(file: str) -> Diagnostic:
    """The last resort when a tree still overflows the stack (a deep caller)."""
    return _at(limit_codes.nesting_too_deep(MAX_DEPTH, whole_file=True), file, 1, 1)


# ---- ranges on the AST -----------------------------------------------------------


def _show(seconds: int) -> str:
    d, rest = divmod(seconds, 86400)
    h, m = divmod(rest // 60, 60)
    out = (f"{d}d" if d else "") + (f"{h}h" if h else "") + (f"{m}m" if m else "")
    return out or "0m"


def _weekly_open(cal: ast.CalendarDecl) -> int:
    """Open seconds per week of a calendar's `hours` (overlaps are the checker's error)."""
    total = 0
    for item in cal.items:
        if not isinstance(item, ast.HoursStmt):
            continue
        days = 0
        for di in item.days:
            a = DAYS.index(di.start.value) if di.start.value in DAYS else 0
            b = DAYS.index(di.end.value) if di.end is not None and di.end.value in DAYS else a
            days += max(b - a + 1, 0)
        for r in item.ranges:
            s, e = r.start.minutes, r.end.minutes
            if s is not None and e is not None and e > s:
                total += days * (e - s) * 60
    return total


def _durations(level: ast.LevelDecl) -> Iterable[tuple[ast.Duration, bool]]:
    """Every duration of a level, with whether it is a target (counted in the calendar)."""
    for item in level.items:
        if isinstance(item, ast.TargetStmt):
            value = item.value
            if isinstance(value, ast.Duration):
                yield value, True
            else:
                for row in value.rows:
                    yield row.duration, True
                if value.else_duration is not None:
                    yield value.else_duration, True
        elif isinstance(item, ast.WarnBefore):
            for d in item.durations:
                yield d, False


def _terms(e: ast.Expr) -> int:
    """Comparisons (leaves) in a condition, without recursion."""
    count, stack = 0, [e]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.And | ast.Or):
            stack.extend(node.items)
        elif isinstance(node, ast.Not):
            stack.append(node.operand)
        elif isinstance(node, ast.Group):
            stack.append(node.inner)
        else:
            count += 1
    return count


def _conditions(decl: ast.RuleDecl | ast.LevelDecl) -> Iterable[ast.Expr]:
    if isinstance(decl, ast.RuleDecl):
        if decl.when is not None:
            yield decl.when
    else:
        yield from (i.condition for i in decl.items if isinstance(i, ast.PauseStmt))


def range_diagnostics(modules: Sequence[tuple[str, ast.Module, Sequence[str]]]) -> list[Diagnostic]:
    """Durations, targets and rule counts over the whole ruleset (file, module, lines)."""
    out: list[Diagnostic] = []
    calendars: dict[str, ast.CalendarDecl] = {}
    for _file, module, _lines in modules:
        for decl in module.decls:
            if isinstance(decl, ast.CalendarDecl):
                calendars.setdefault(decl.name.value, decl)

    def at(file: str, lines: Sequence[str], span: ast.Span, msg: Msg) -> None:
        line, col = max(span.line, 1), max(span.column, 1)
        source = _clip(lines[line - 1], col) if line <= len(lines) else None
        out.append(_at(msg, file, line, col, source))

    rules = 0
    for file, module, lines in modules:
        for decl in module.decls:
            if isinstance(decl, ast.RuleDecl):
                rules += 1
                if rules == MAX_RULES + 1:
                    at(file, lines, decl.span, limit_codes.too_many_rules(MAX_RULES))
            if isinstance(decl, ast.RuleDecl | ast.LevelDecl):
                for cond in _conditions(decl):
                    n = _terms(cond)
                    if n > MAX_TERMS:
                        at(file, lines, cond.span, limit_codes.condition_too_long(n, MAX_TERMS))
            if not isinstance(decl, ast.LevelDecl):
                continue
            cal_name = next(
                (i.calendar.value for i in decl.items if isinstance(i, ast.LevelCalendar)), None
            )
            cal = calendars.get(cal_name) if cal_name is not None else None
            weekly = _weekly_open(cal) if cal is not None else 7 * 86400
            budget = MAX_TARGET_YEARS * _WEEKS_PER_YEAR * weekly
            for dur, is_target in _durations(decl):
                if dur.seconds > MAX_DURATION:
                    msg = limit_codes.duration_too_long(
                        dur.raw, _show(MAX_DURATION), MAX_DURATION // 3600
                    )
                    at(file, lines, dur.span, msg)
                elif is_target and cal is not None and dur.seconds > budget:
                    msg = limit_codes.target_out_of_range(
                        dur.raw, MAX_TARGET_YEARS, cal.name.value, weekly, budget
                    )
                    at(file, lines, dur.span, msg)
    return out
