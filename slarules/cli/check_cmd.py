"""`slarules check RULES [--strict] [--analyze [--witness-dir DIR]] [--format text|json|github]`.

RULES is a .sla file, a directory of them, or `-` (standard input).
Exit 0 clean, 1 errors (or warnings with --strict; analysis findings count
as warnings, `info` never fails), 2 usage / nothing to check.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from slarules.cli import COMMANDS
from slarules.errors import Diagnostic
from slarules.rulesets import NoRulesFound, read_sources


def add_parser(sub: Any) -> None:
    p = sub.add_parser("check", help=COMMANDS["check"])
    p.add_argument("rules", metavar="RULES", help="a .sla file, a directory of .sla files, or -")
    p.add_argument("--strict", action="store_true", help="warnings fail the check too")
    p.add_argument(
        "--analyze",
        action="store_true",
        help="also analyse the rules: shadowed rules, dead conditions, tickets that fall "
        "through, levels without a target (each with a witness ticket)",
    )
    p.add_argument(
        "--witness-dir",
        metavar="DIR",
        dest="witness_dir",
        help="with --analyze: write each witness as a fixture file into DIR",
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="output format (default: text)",
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def read_rules(command: str, path: str) -> list[Any] | None:
    """The ruleset's sources (`-`: standard input), or None after printing why."""
    from slarules.dsl.source import SourceFile

    if path == "-":
        return [SourceFile("<stdin>", sys.stdin.buffer.read())]
    try:
        return read_sources(path)
    except NoRulesFound as e:
        for d in e.diagnostics:
            print(
                f"slarules {command}: {d.message}" + (f" ({d.hint})" if d.hint else ""),
                file=sys.stderr,
            )
    except OSError as e:
        print(f"slarules {command}: cannot read `{path}`: {e.strerror or e}", file=sys.stderr)
    return None


def _diagnostic(f: Any, lines: dict[str, list[str]]) -> Diagnostic:
    span = f.span
    line = span.line if span is not None and span.line else None
    src = None
    if line is not None and f.file in lines and line - 1 < len(lines[f.file]):
        src = lines[f.file][line - 1]
    return Diagnostic(
        f.msg.severity,
        f.msg.code,
        f.msg.message,
        f.file,
        line,
        span.column if line else None,
        f.msg.hint,
        src,
        span.end_line if line else None,
        span.end_column if line else None,
    )


def run(args: argparse.Namespace) -> int:
    from slarules.dsl import analyze, build

    sources = read_rules("check", args.rules)
    if sources is None:
        return 2
    if args.witness_dir and not args.analyze:
        print("slarules check: --witness-dir needs --analyze", file=sys.stderr)
        return 2
    findings: list[Any] = []
    if args.analyze:
        result, findings = analyze(sources)
    else:
        result = build(sources)
    lines = {s.name: s.data.decode("utf-8", "replace").split("\n") for s in sources}
    found = [(_diagnostic(f, lines), f) for f in findings]
    by_place = {(d.code, d.file, d.line, d.column): f for d, f in found}
    entries: list[tuple[Diagnostic, Any]] = [  # the checker's own lint gets the witness
        (d, by_place.pop((d.code, d.file, d.line, d.column), None)) for d in result.diagnostics
    ]
    taken = {id(f) for _, f in entries if f is not None}
    entries += [(d, f) for d, f in found if id(f) not in taken]
    entries.sort(key=lambda e: e[0].sort_key())
    diags = [d for d, _ in entries]
    errors = sum(d.is_error for d in diags)
    warnings = sum(d.severity == "warning" for d in diags)
    infos = len(diags) - errors - warnings
    _print(args.format, entries)
    if args.format == "text":
        if diags:
            parts = [_plural(errors, "error")] if errors else []
            if warnings:
                parts.append(_plural(warnings, "warning"))
            if infos:
                parts.append(_plural(infos, "note"))
            print(", ".join(parts))
        else:
            rules = len(result.policy.rules) if result.policy else 0
            print(f"ok: {_plural(len(sources), 'file')}, {_plural(rules, 'rule')}")
    if args.witness_dir and result.policy is not None:
        from slarules.cli.witness import write_witnesses

        with_witness = [f for _, f in entries if f is not None and f.witness is not None]
        for path in write_witnesses(with_witness, result.policy, args.witness_dir):
            print(f"wrote {path}", file=sys.stderr)
    if errors or (args.strict and warnings):
        return 1
    return 0


def _print(fmt: str, entries: list[tuple[Diagnostic, Any]]) -> None:
    if any(f is not None and f.witness is not None for _, f in entries):
        from slarules.cli.witness import jsonable, shown  # only with --analyze findings
    if fmt == "json":
        out = []
        for d, f in entries:
            item = d.as_dict()
            if f is not None and f.witness is not None:
                item["witness"] = jsonable(f.witness)
                item["witness_level"] = f.decision.level
                item["witness_rule"] = f.decision.decided_by
            out.append(item)
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return
    for d, f in entries:
        if fmt == "github":
            print(d.github())
            continue
        print(d.render())
        if f is not None and f.witness is not None:
            got = f.decision.level or "none"
            print(f"  witness: {shown(f.witness)} → level {got} (rule {f.decision.decided_by})")
