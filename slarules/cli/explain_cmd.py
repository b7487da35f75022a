"""`slarules explain RULES TICKET_FILE [--now T] [--format text|json]`: why a ticket stands so.

The ticket file is a fixture file (`expect` and `name` optional and ignored);
`-` reads it from stdin (JSON when it opens with `{`, else TOML).
`--now` (RFC 3339 with an offset) replaces the file's `now`; events after it
are ignored, so a ticket can be explained as it stood earlier. Instants are
printed in the ruleset's `timezone` with their offset. Exit 0, or 1 for a
malformed ticket file, 2 for a usage error or a ruleset with errors.

`slarules explain --db URL TICKET --at T` explains a stored ticket as it
stood at `T` under the ruleset version that was live then (the store keeps
every version's sources); read-only. Exit 1 when the ticket is unknown, did
not exist yet, or no version was live at `T`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from slarules.cli import COMMANDS
from slarules.cli.test_cmd import load_rules
from slarules.clock import SystemClock
from slarules.errors import InputError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "explain",
        help=COMMANDS["explain"],
        description="Explain one ticket (a fixture file; its `expect` is ignored): each rule "
        "with each condition's actual value and verdict, the level, every cycle "
        "with its figures and timeline. Instants are shown in the ruleset's timezone.",
    )
    p.add_argument(
        "rules",
        metavar="RULES",
        nargs="?",
        help="a .sla file or a directory of .sla files (with --db: the stored ticket's id)",
    )
    p.add_argument(
        "ticket",
        metavar="TICKET_FILE",
        nargs="?",
        help="a fixture file (.toml or .json; `-`: stdin)",
    )
    p.add_argument("--db", metavar="URL", help="explain a stored ticket of this database")
    p.add_argument(
        "--at",
        metavar="T",
        help="with --db: as it stood at T (RFC 3339), under the version live then (default: now)",
    )
    p.add_argument(
        "--now",
        metavar="T",
        help="evaluate at T (RFC 3339 with an offset) instead of the file's `now`",
    )
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def run_db(args: argparse.Namespace) -> int:
    from slarules.engine.explain import explanation_data, explanation_lines
    from slarules.errors import ServiceError, SettingsError
    from slarules.fixtures import parse_instant
    from slarules.instants import rfc3339
    from slarules.service.past import explain_stored
    from slarules.settings import parse_database_url
    from slarules.store.histories import ReadOnlyError

    given = [a for a in (args.rules, args.ticket) if a is not None]
    if len(given) != 1:
        print("slarules explain: with --db give exactly one TICKET id", file=sys.stderr)
        return 2
    try:
        config = parse_database_url(args.db)
        at = SystemClock().now()
        if args.at is not None:
            at = parse_instant(args.at, "--at")
    except SettingsError as e:
        print(f"slarules explain: {e}", file=sys.stderr)
        return 2
    except InputError as e:
        print(f"slarules explain: --at: {e.message}", file=sys.stderr)
        return 2
    try:
        past = explain_stored(config, given[0], at)
    except ReadOnlyError as e:
        print(f"slarules explain: {e}", file=sys.stderr)
        return 2
    except ServiceError as e:
        print(f"slarules explain: {e.message}", file=sys.stderr)
        return 1
    tz = past.policy.timezone
    if args.format == "json":
        data = explanation_data(past.policy, past.measurement)
        data["ruleset"] = {"version": past.version, "loaded_at": rfc3339(past.loaded_at)}
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(
            f"ticket {given[0]} as of {at.astimezone(tz).isoformat()} under ruleset version "
            f"{past.version} (live since {past.loaded_at.astimezone(tz).isoformat()})"
        )
        print("\n".join(explanation_lines(past.policy, past.measurement)))
    return 0


def run(args: argparse.Namespace) -> int:
    from slarules.engine.explain import explanation_data, explanation_lines
    from slarules.fixtures import FixtureError, load_fixture, parse_instant
    from slarules.fixtures.loader import parse_data, parse_fixture
    from slarules.fixtures.runner import engine_measure

    if args.db is not None:
        return run_db(args)
    if args.at is not None:
        print("slarules explain: --at needs --db (for a file, use --now)", file=sys.stderr)
        return 2
    if args.rules is None or args.ticket is None:
        print("slarules explain: give RULES and TICKET_FILE (or --db URL TICKET)", file=sys.stderr)
        return 2
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
    stdin = args.ticket == "-"
    if not stdin and not Path(args.ticket).is_file():
        print(f"slarules explain: `{args.ticket}` is not a file", file=sys.stderr)
        return 2
    shown = "<stdin>" if stdin else args.ticket
    try:
        if stdin:  # JSON when it opens with `{`, else TOML (as the fixture files)
            data = sys.stdin.buffer.read()
            doc = parse_data(data, shown, data.lstrip().startswith(b"{"))
            fx = parse_fixture(doc, policy, shown, now=now, explain=True)
        else:
            fx = load_fixture(args.ticket, policy, now=now, explain=True)
        m = engine_measure(policy, fx.history, fx.now)
    except FixtureError as e:
        print(str(e), file=sys.stderr)
        return 1
    except InputError as e:
        key = f" (at `{e.key}`)" if e.key else ""
        print(f"{shown}: {e.code}: {e.message}{key}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(explanation_data(policy, m), indent=2, ensure_ascii=False))
    else:
        print("\n".join(explanation_lines(policy, m)))
    return 0
