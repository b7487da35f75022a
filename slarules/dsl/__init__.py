"""The rules language: `.sla` text → checked → compiled `Policy` (pure, no I/O).

Public API: `build`, `build_source`, `analyze`, `analyze_source`, `format_source`,
`parse`, `RulesSyntaxError`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from slarules.dsl import codes, limit_codes
from slarules.dsl.checker import ParsedFile, check
from slarules.dsl.compiler import compile_policy
from slarules.dsl.format import format_module, format_source
from slarules.dsl.limits import range_diagnostics, ruleset_size_diagnostic
from slarules.dsl.model import Model
from slarules.dsl.parser import RulesSyntaxError, parse
from slarules.dsl.source import BuildResult, SourceFile
from slarules.engine.cancel import NEVER, Cancel, Cancelled
from slarules.errors import Diagnostic

if TYPE_CHECKING:
    from slarules.dsl.analysis import Finding

__all__ = [
    "BuildResult",
    "RulesSyntaxError",
    "SourceFile",
    "analyze",
    "analyze_source",
    "build",
    "build_model",
    "build_source",
    "decode",
    "format_module",
    "format_source",
    "parse",
    "version_of",
]


# Findings that are only true when every file of the ruleset was read.
_NEEDS_ALL_FILES = frozenset({"no-level", "unused-level", "unused-calendar"})


def version_of(sources: Sequence[SourceFile]) -> str:
    """First 12 hex digits of SHA-256 over, for each file in order:
    the UTF-8 base name (no directory, so the version does not depend on where
    the ruleset is checked out), a NUL byte, the file's length in bytes as
    ASCII decimal, a NUL byte, then the file's bytes."""
    h = hashlib.sha256()
    for s in sources:
        h.update(os.path.basename(s.name).encode("utf-8"))
        h.update(b"\0")
        h.update(str(len(s.data)).encode("ascii"))
        h.update(b"\0")
        h.update(s.data)
    return h.hexdigest()[:12]


def decode(source: SourceFile) -> str | Diagnostic:
    """The file's text, or an `invalid-encoding` diagnostic when it is not UTF-8."""
    try:
        text = source.data.decode("utf-8")
    except UnicodeDecodeError as e:
        before = source.data[: e.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        shown = source.data.decode("utf-8", "replace").split("\n")[line - 1]
        msg = codes.invalid_encoding(source.data[e.start])
        return Diagnostic(
            msg.severity, msg.code, msg.message, source.name, line, column, msg.hint, shown
        )
    return text[1:] if text.startswith("\ufeff") else text


def build(sources: Sequence[SourceFile], cancel: Cancel = NEVER) -> BuildResult:
    """Parse every file, check the whole ruleset, and compile it when there are no errors.

    A file that does not decode or parse contributes its one diagnostic and
    nothing else; the other files are still checked (and no policy is built).
    `cancel.check()` is polled at coarse steps (files, tokens, rules); the `Cancelled`
    it raises comes out of `build` unchanged."""
    return build_model(sources, cancel)[0]


def analyze(
    sources: Sequence[SourceFile], cancel: Cancel = NEVER
) -> tuple[BuildResult, list[Finding]]:
    """`build`, then (when it gives a policy) the rule analysis of `check --analyze`."""
    from slarules.dsl.analysis import analyze as run_analysis

    result, model = build_model(sources, cancel)
    if result.policy is None or model is None:
        return result, []
    cancel.check()
    return result, run_analysis(model, result.policy)


def analyze_source(text: str, name: str = "<input>") -> tuple[BuildResult, list[Finding]]:
    """`analyze` for one rules string."""
    return analyze([SourceFile(name, text.encode("utf-8"))])


def build_model(
    sources: Sequence[SourceFile], cancel: Cancel = NEVER
) -> tuple[BuildResult, Model | None]:
    """`build`, also returning the resolved model (None when a file did not parse)."""
    diags: list[Diagnostic] = []
    model: Model | None = None
    parsed: list[ParsedFile] = []
    too_large = ruleset_size_diagnostic([(s.name, len(s.data)) for s in sources])
    broken = too_large is not None
    for s in () if too_large else sources:
        cancel.check()
        text = decode(s)
        if isinstance(text, Diagnostic):
            diags.append(text)
            broken = True
            continue
        try:
            module = parse(text, s.name, cancel)
        except RulesSyntaxError as e:
            diags.append(e.diagnostic)
            broken = True
            continue
        if not module.decls:
            msg = codes.empty_file()
            diags.append(Diagnostic(msg.severity, msg.code, msg.message, s.name, hint=msg.hint))
        parsed.append(ParsedFile(s.name, module, tuple(text.split("\n"))))
    if too_large is not None:
        diags.append(too_large)
    elif not sources:
        msg = codes.no_files()
        diags.append(Diagnostic(msg.severity, msg.code, msg.message))
    elif parsed or not broken:
        found, model = check(parsed, cancel)
        if broken:  # a broken file may declare the level or use the level/calendar
            found = [d for d in found if d.code not in _NEEDS_ALL_FILES]
            unread = sorted({d.file for d in diags if d.is_error and d.file})
            found = [_maybe_follow_on(d, unread) for d in found]
        diags.extend(found)
        diags.extend(range_diagnostics([(p.name, p.module, p.lines) for p in parsed]))
    diags.sort(key=Diagnostic.sort_key)
    if broken or any(d.is_error for d in diags):
        return BuildResult(None, tuple(diags)), model
    assert model is not None
    try:
        policy = compile_policy(
            model, [s.name for s in sources], version_of(sources), cancel=cancel
        )
    except Cancelled:
        raise
    except Exception as e:  # a ruleset `check` accepted must not crash a caller
        return BuildResult(None, (*diags, _cannot_compile(sources[0].name, e))), model
    return BuildResult(policy, tuple(diags)), model


# Names a file that did not parse may declare: errors about them may be follow-ons.
_MAY_BE_DECLARED_ELSEWHERE = frozenset(
    {"unknown-level", "unknown-calendar", "unknown-field", "unknown-priority", "unknown-status"}
)


def _maybe_follow_on(d: Diagnostic, unread: Sequence[str]) -> Diagnostic:
    """Mark an error that a file which did not parse may cause (it may declare the name)."""
    if d.code not in _MAY_BE_DECLARED_ELSEWHERE or not unread:
        return d
    files = ", ".join(f"`{f}`" for f in unread)
    return dataclasses.replace(
        d, hint=f"{files} did not parse and may declare it: fix that file first"
    )


def _cannot_compile(file: str, e: Exception) -> Diagnostic:
    msg = limit_codes.cannot_compile(f"{type(e).__name__}: {e}")
    return Diagnostic(msg.severity, msg.code, msg.message, file, hint=msg.hint)


def build_source(text: str, name: str = "<input>", cancel: Cancel = NEVER) -> BuildResult:
    """`build` for one rules string (GraphQL `checkRules`/`explain`)."""
    # surrogatepass: a lone surrogate (possible in JSON text) becomes `invalid-encoding`
    return build([SourceFile(name, text.encode("utf-8", "surrogatepass"))], cancel)
