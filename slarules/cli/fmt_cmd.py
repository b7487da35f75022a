"""`slarules fmt RULES [--check]`: rewrite .sla files in the one canonical layout.

With --check nothing is written: the files that would change are listed and
the exit code is 1 when there is any. Exit 2: usage / nothing to format /
a file that does not parse (its syntax error is printed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from slarules.errors import RulesError
from slarules.rulesets import NoRulesFound, read_sources


def add_parser(sub: Any) -> None:
    p = sub.add_parser("fmt", help="format .sla files in the canonical layout")
    p.add_argument("rules", metavar="RULES", help="a .sla file or a directory of .sla files")
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; list files that would change and exit 1 if any",
    )


def run(args: argparse.Namespace) -> int:
    from slarules.dsl import decode, format_source

    try:
        sources = read_sources(args.rules)
    except NoRulesFound as e:
        for d in e.diagnostics:
            print(f"slarules fmt: {d.message}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"slarules fmt: cannot read `{args.rules}`: {e.strerror or e}", file=sys.stderr)
        return 2
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
        if out != s.data.decode("utf-8"):
            changed.append(s.name)
            if not args.check:
                Path(s.name).write_text(out, encoding="utf-8")
    for name in changed:
        print(f"would reformat {name}" if args.check else f"reformatted {name}")
    if failed:
        return 2
    return 1 if (args.check and changed) else 0
