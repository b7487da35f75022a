"""Diagnostics and the project's user-facing error types.

    SlaError                  base of every error a user can fix
    ├── RulesError            a ruleset with errors (carries its diagnostics)
    ├── InputError            bad ticket/event input (code + message + key)
    ├── ServiceError          an expected failure of a request (GraphQL `extensions.code`)
    └── SettingsError         a bad server setting (one line at start-up)

A `Diagnostic` is the one currency for problems in rule files: the checker
produces them, the CLI renders them (text, JSON, GitHub) and GraphQL returns
them as `Diagnostic` objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem at a position: stable code, one-line message, optional hint."""

    severity: Severity
    code: str
    message: str
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based, in code points
    hint: str | None = None
    source_line: str | None = None  # the offending line, for the caret rendering
    end_line: int | None = None  # where the offending token or expression ends
    end_column: int | None = None  # exclusive, 1-based code points

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file or "", self.line or 0, self.column or 0, self.code)

    def render(self) -> str:
        """`file:line:col: severity[code]: message`, the source line, a caret, `hint: …`."""
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        out = [f"{where}: {self.severity}[{self.code}]: {self.message}"]
        if self.source_line is not None and self.column is not None:
            text = self.source_line.rstrip("\n")
            out.append(f"  {text}")
            width = 1
            if self.end_line == self.line and self.end_column and self.end_column > self.column:
                width = self.end_column - self.column
            elif self.end_line is not None and self.line and self.end_line > self.line:
                width = max(1, len(text) - self.column + 1)
            out.append("  " + " " * (self.column - 1) + "^" * width)
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)

    def github(self) -> str:
        """A GitHub Actions workflow command annotation."""
        kind = {"error": "error", "warning": "warning"}.get(self.severity, "notice")
        parts = []
        if self.file:
            parts.append(f"file={self.file}")
        if self.line is not None:
            parts.append(f"line={self.line}")
        if self.column is not None:
            parts.append(f"col={self.column}")
        if self.end_line is not None:
            parts.append(f"endLine={self.end_line}")
        if self.end_column is not None:
            parts.append(f"endColumn={self.end_column}")
        parts.append(f"title={self.code}")
        msg = self.message + (f" (hint: {self.hint})" if self.hint else "")
        msg = msg.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{kind} {','.join(parts)}::{msg}"

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d.pop("source_line")
        return d


def render_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps([d.as_dict() for d in diags], indent=2, ensure_ascii=False)


class SlaError(Exception):
    """Base of every error a user can fix; `str()` is one clear line."""


class RulesError(SlaError):
    """A ruleset that has errors; carries every diagnostic."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if d.is_error]
        first = errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        head = first.render().splitlines()[0] if first else "invalid ruleset"
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        super().__init__(head + more)


class InputError(SlaError):
    """Bad ticket or event input: a stable code, a message and the offending key."""

    def __init__(self, code: str, message: str, key: str | None = None) -> None:
        self.code = code
        self.message = message
        self.key = key
        super().__init__(f"{code}: {message}" + (f" (at `{key}`)" if key else ""))


class SettingsError(SlaError):
    """A bad server setting; stops start-up with one line."""


# `extensions.code` values of expected request failures (service.md)
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
BAD_USER_INPUT = "BAD_USER_INPUT"
EVENT_CONFLICT = "EVENT_CONFLICT"
TICKET_EXISTS = "TICKET_EXISTS"
INVALID_RULES = "INVALID_RULES"


class ServiceError(SlaError):
    """An expected failure of a request: a GraphQL error with `extensions.code`."""

    def __init__(self, code: str, message: str, **extensions: Any) -> None:
        self.code = code
        self.message = message
        self.extensions = {"code": code, **extensions}
        super().__init__(message)


def bad_input(e: InputError, key: str | None = None) -> ServiceError:
    """An input error as BAD_USER_INPUT: its code is kept as `reason`, its key as `key`."""
    ext: dict[str, Any] = {"reason": e.code}
    if e.key or key:
        ext["key"] = e.key or key
    return ServiceError(BAD_USER_INPUT, e.message, **ext)
