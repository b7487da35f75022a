"""Syntax errors in words a user knows: what was expected, where a block was left open."""

from __future__ import annotations

import re

from lark import Lark, Token
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

from slarules.errors import Diagnostic

__all__ = ["syntax_error"]


_WORDS = {
    "NAME": "a name",
    "STRING": 'a string like "text"',
    "NUMBER": "a number",
    "DATE": "a date like 2026-03-01",
    "DATETIME": "a date-time like 2026-03-01T09:00:00Z",
    "TIME": "a clock time like 09:00",
    "DURATION": "a duration like 1h30m",
    "PERCENT": "a percentage like 50%",
    "REGEX": "a regex like /pattern/",
    "$END": "the end of the file",
}


def _word(parser: Lark, terminal: str) -> str:
    if terminal in _WORDS:
        return _WORDS[terminal]
    try:
        pattern = parser.get_terminal(terminal).pattern
    except KeyError:
        return terminal.lower()
    return f"`{pattern.value}`"


def _expected(parser: Lark, names: set[str] | frozenset[str] | None) -> str:
    words = sorted({_word(parser, n) for n in (names or ()) if n not in ("WS", "COMMENT")})
    words.sort(key=lambda w: (w.startswith("`"), w))
    if not words:
        return "nothing more"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _token_text(tok: Token) -> str:
    if tok.type == "$END":
        return "the end of the file"
    text = str(tok)
    return f"`{text}`" if len(text) <= 40 else f"`{text[:37]}...`"


def _accepts(e: UnexpectedInput, fallback: set[str]) -> set[str]:
    """The terminals the parser really accepts here (the LALR table's set is merged)."""
    ip = getattr(e, "interactive_parser", None)
    if ip is None:
        return fallback
    try:
        return set(ip.accepts())
    except LarkError:  # pragma: no cover
        return fallback


_TOP_WORDS = frozenset({"rule", "level", "calendar", "default", "schema", "statuses", "timezone"})


def _offset(lines: list[str], line: int, column: int) -> int:
    return sum(len(ln) + 1 for ln in lines[: line - 1]) + column - 1


def _open_braces(text: str, end: int) -> list[int]:
    """Offsets of the `{` still open at `end` (strings, comments and regexes skipped)."""
    stack: list[int] = []
    i = 0
    while i < end:
        ch = text[i]
        if ch == "#":
            j = text.find("\n", i)
            i = end if j < 0 else j
        elif ch == '"':
            i += 1
            while i < end and text[i] not in '"\n':
                i += 2 if text[i] == "\\" else 1
        elif ch == "/" and text[:i].rstrip().endswith("matches"):
            i += 1
            while i < end and text[i] not in "/\n":
                i += 2 if text[i] == "\\" else 1
        elif ch == "{":
            stack.append(i)
        elif ch == "}" and stack:
            stack.pop()
        i += 1
    return stack


def _unclosed(
    text: str, lines: list[str], at: tuple[int, int], what: str, file: str
) -> Diagnostic | None:
    """A block left open before `what` (another declaration, or the end of the file):
    reported at its `{`, where the `}` is missing, not where the parser noticed."""
    stack = _open_braces(text, _offset(lines, *at))
    if not stack:
        return None
    pos = stack[-1]
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return Diagnostic(
        "error",
        "syntax-error",
        f"this block is never closed (found {what} at {at[0]}:{at[1]} before its `}}`)",
        file,
        line,
        column,
        "add `}` where the block ends",
        lines[line - 1],
    )


def syntax_error(e: UnexpectedInput, text: str, file: str, parser: Lark) -> Diagnostic:
    lines = text.split("\n")
    hint: str | None = None
    expects_close = "RBRACE" in set(getattr(e, "expected", None) or ()) | set(
        getattr(e, "allowed", None) or ()
    )
    if expects_close:
        if isinstance(e, UnexpectedEOF) or (
            isinstance(e, UnexpectedToken) and e.token.type == "$END"
        ):
            found = _unclosed(
                text, lines, (len(lines), len(lines[-1]) + 1), "the end of the file", file
            )
            if found is not None:
                return found
        elif isinstance(e, UnexpectedToken) and str(e.token) in _TOP_WORDS:
            found = _unclosed(text, lines, (e.line, e.column), f"`{e.token}`", file)
            if found is not None:
                return found
    if isinstance(e, UnexpectedEOF) or (isinstance(e, UnexpectedToken) and e.token.type == "$END"):
        line = len(lines)
        column = len(lines[-1]) + 1
        names = _accepts(e, set(e.expected))
        message = f"unexpected end of file; expected {_expected(parser, names)}"
    elif isinstance(e, UnexpectedToken):
        line, column = e.line, e.column
        names = _accepts(e, set(e.expected))
        message = f"unexpected {_token_text(e.token)}; expected {_expected(parser, names)}"
        if re.match(r"T[0-9]", str(e.token)):
            hint = "a date-time needs an offset: 2026-03-01T09:00:00Z or 2026-03-01T09:00:00-03:00"
    elif isinstance(e, UnexpectedCharacters):
        line, column = e.line, e.column
        pos = e.pos_in_stream if e.pos_in_stream is not None else -1
        ch = text[pos] if 0 <= pos < len(text) else "?"
        message = f"unexpected `{ch}`; expected {_expected(parser, set(e.allowed or ()))}"
        if ch == '"':
            hint = 'a string ends on its line and allows only the escapes \\" and \\\\'
        elif ch == "/":
            hint = "a regex is /pattern/ or /pattern/i on one line, not empty"
        elif ch.isdigit():
            hint = (
                "durations look like 90m, 1h30m or 2d4h; dates like 2026-03-01; "
                "date-times need an offset: 2026-03-01T09:00:00Z"
            )
    else:  # pragma: no cover - Lark has no other kinds
        line, column, message = 1, 1, "syntax error"
    line = max(line, 1)
    column = max(column, 1)
    source_line = lines[line - 1] if line - 1 < len(lines) else ""
    return Diagnostic("error", "syntax-error", message, file, line, column, hint, source_line)
