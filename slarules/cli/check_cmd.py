"""`slarules check RULES [--strict] [--format text|json|github]`: report every problem.

Exit 0 clean, 1 errors (or warnings with --strict), 2 usage / nothing to check.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from slarules.errors import render_json
from slarules.rulesets import NoRulesFound, read_sources


def add_parser(sub: Any) -> None:
    p = sub.add_parser("check", help="check a ruleset (a .sla file or a directory of them)")
    p.add_argument("rules", metavar="RULES", help="a .sla file or a directory of .sla files")
    p.add_argument("--strict", action="store_true", help="warnings fail the check too")
    p.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="output format (default: text)",
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def run(args: argparse.Namespace) -> int:
    from slarules.dsl import build

    try:
        sources = read_sources(args.rules)
    except NoRulesFound as e:
        for d in e.diagnostics:
            print(
                f"slarules check: {d.message}" + (f" ({d.hint})" if d.hint else ""), file=sys.stderr
            )
        return 2
    except OSError as e:
        print(f"slarules check: cannot read `{args.rules}`: {e.strerror or e}", file=sys.stderr)
        return 2
    result = build(sources)
    diags = result.diagnostics
    errors, warnings = len(result.errors), len(result.warnings)
    if args.format == "json":
        print(render_json(diags))
    elif args.format == "github":
        for d in diags:
            print(d.github())
    else:
        for d in diags:
            print(d.render())
        if diags:
            parts = [_plural(errors, "error")] if errors else []
            if warnings:
                parts.append(_plural(warnings, "warning"))
            print(", ".join(parts))
        else:
            rules = len(result.policy.rules) if result.policy else 0
            print(f"ok: {_plural(len(sources), 'file')}, {_plural(rules, 'rule')}")
    if errors or (args.strict and warnings):
        return 1
    return 0
