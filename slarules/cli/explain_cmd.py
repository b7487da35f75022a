"""`slarules explain RULES TICKET_FILE [--now T] [--format text|json]`: why a ticket stands so.

The ticket file is a fixture file (`expect` and `name` optional and ignored).
`--now` (RFC 3339 with an offset) replaces the file's `now`; events after it
are ignored, so a ticket can be explained as it stood earlier. Instants are
printed in the ruleset's `timezone` with their offset. Exit 0, or 1 for a
malformed ticket file, 2 for a usage error or a ruleset with errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from slarules.cli.test_cmd import load_rules
from slarules.errors import InputError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "explain",
        help="explain a ticket: every rule and condition, the level, every cycle",
        description="Explain one ticket (a fixture file; its `expect` is ignored): each rule "
        "with each condition's actual value and verdict, the level, every cycle "
        "with its figures and timeline. Instants are shown in the ruleset's timezone.",
    )
    p.add_argument("rules", metavar="RULES", help="a .sla file or a directory of .sla files")
    p.add_argument("ticket", metavar="TICKET_FILE", help="a fixture file (.toml or .json)")
    p.add_argument(
        "--now",
        metavar="T",
        help="evaluate at T (RFC 3339 with an offset) instead of the file's `now`",
    )
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def run(args: argparse.Namespace) -> int:
    from slarules.engine.explain import explanation_data, explanation_lines
    from slarules.fixtures import FixtureError, load_fixture, parse_instant
    from slarules.fixtures.runner import engine_measure

    now = None
    if args.now is not None:
        try:
            now = parse_instant(args.now, "--now")
        except InputError as e:
            print(f"slarules explain: --now: {e.message}", file=sys.stderr)
            return 2
    policy = load_rules("explain", args.rules)
    if policy is None:
        return 2
    if not Path(args.ticket).is_file():
        print(f"slarules explain: `{args.ticket}` is not a file", file=sys.stderr)
        return 2
    try:
        fx = load_fixture(args.ticket, policy, now=now, explain=True)
        m = engine_measure(policy, fx.history, fx.now)
    except FixtureError as e:
        print(str(e), file=sys.stderr)
        return 1
    except InputError as e:
        key = f" (at `{e.key}`)" if e.key else ""
        print(f"{args.ticket}: {e.code}: {e.message}{key}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(explanation_data(policy, m), indent=2, ensure_ascii=False))
    else:
        print("\n".join(explanation_lines(policy, m)))
    return 0
