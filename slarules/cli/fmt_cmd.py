"""`slarules fmt RULES [--check]`: rewrite .sla files in the one canonical layout.

With --check nothing is written: the files that would change are listed and
the exit code is 1 when there is any; --diff prints a unified diff instead
of writing. RULES `-` formats standard input to standard output. Exit 1: a
file that does not parse (its syntax error is printed) or, with
--check/--diff, a file that would change; exit 2: usage / nothing to format.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from slarules.cli import COMMANDS
from slarules.errors import RulesError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("fmt", help=COMMANDS["fmt"])
    p.add_argument("rules", metavar="RULES", help="a .sla file, a directory of them, or -")
    p.add_argument("--diff", action="store_true", help="write nothing; print a unified diff")
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; list files that would change and exit 1 if any",
    )


def run(args: argparse.Namespace) -> int:
    from slarules.cli.check_cmd import read_rules
    from slarules.dsl import decode, format_source

    sources = read_rules("fmt", args.rules)
    if sources is None:
        return 2
    stdin = args.rules == "-"
    changed: list[str] = []
    failed = False
    for s in sources:
        text = decode(s)
        if not isinstance(text, str):
            print(text.render(), file=sys.stderr)
            failed = True
            continue
        try:
            out = format_source(text, s.name)
        except RulesError as e:
            for d in e.diagnostics:
                print(d.render(), file=sys.stderr)
            failed = True
            continue
        if stdin and not (args.check or args.diff):
            sys.stdout.write(out)
            continue
        if out != text:
            changed.append(s.name)
            if args.diff:
                import difflib

                sys.stdout.writelines(
                    difflib.unified_diff(
                        text.splitlines(keepends=True),
                        out.splitlines(keepends=True),
                        s.name,
                        s.name,
                    )
                )
            elif not args.check:
                Path(s.name).write_text(out, encoding="utf-8")
    for name in changed if not args.diff else ():
        print(f"would reformat {name}" if args.check else f"reformatted {name}")
    if failed:
        return 1
    return 1 if ((args.check or args.diff) and changed) else 0
