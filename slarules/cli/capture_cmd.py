"""`slarules capture TICKET… --db URL [--anonymize] [--out DIR] [--now T] [--rules RULES]`.

Writes each stored ticket as a fixture file `DIR/<ticket>.json`: its
creation, every event up to `now`, `now` (the moment of capture, or
`--now`) and `expect` filled with what the engine computes under the
ruleset version live at `now` in the store (or `--rules`). Every file is
read back and checked as `slarules test` would. `--anonymize` replaces
people and free text with stable pseudonyms wherever that keeps every
verdict, and says which values it kept. Read-only on the database.
Exit 0, 1 when a ticket is unknown or its capture does not pass, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from slarules.cli import COMMANDS
from slarules.cli.test_cmd import load_rules
from slarules.clock import SystemClock
from slarules.errors import InputError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "capture",
        help=COMMANDS["capture"],
        description="Write stored tickets as fixture files whose `expect` is what the engine "
        "computes now, so a production surprise becomes a regression test.",
    )
    p.add_argument("tickets", metavar="TICKET", nargs="+", help="stored ticket ids")
    p.add_argument("--db", metavar="URL", required=True, help="the database to read (read-only)")
    p.add_argument("--out", metavar="DIR", default=".", help="where to write (default: .)")
    p.add_argument(
        "--now", metavar="T", help="capture as of T (RFC 3339 with an offset; default: the clock)"
    )
    p.add_argument(
        "--rules",
        metavar="RULES",
        help="measure under these rules instead of the version live at `now` in the store",
    )
    p.add_argument(
        "--anonymize",
        action="store_true",
        help="replace requester, assignee, subject, texts and free-text fields with pseudonyms",
    )
    p.add_argument(
        "--salt", metavar="TEXT", default="", help="with --anonymize: key of the pseudonyms"
    )


def _err(message: str) -> None:
    print(f"slarules capture: {message}", file=sys.stderr)


def file_name(ticket_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", ticket_id).strip(".") or "ticket"
    return f"{safe}.json"


def run(args: argparse.Namespace) -> int:
    from slarules.errors import ServiceError, SettingsError
    from slarules.fixtures import parse_instant
    from slarules.service.capture import anonymize, capture, verify
    from slarules.service.past import policy_of
    from slarules.settings import parse_database_url
    from slarules.store.histories import Histories, ReadOnlyError

    try:
        config = parse_database_url(args.db)
        now = SystemClock().now()
        if args.now is not None:
            now = parse_instant(args.now, "--now")
    except SettingsError as e:
        _err(str(e))
        return 2
    except InputError as e:
        _err(f"--now: {e.message}")
        return 2
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        _err(f"--out: cannot create `{out}`: {e.strerror or e}")
        return 2
    failed = 0
    try:
        with Histories(config) as reader:
            if args.rules is not None:
                policy = load_rules("capture", args.rules)
                if policy is None:
                    return 2
            else:
                stored = reader.ruleset_at(now)
                if stored is None:
                    _err("no ruleset version was live at `now` in the store (give --rules)")
                    return 2
                try:
                    policy = policy_of(stored)
                except ServiceError as e:
                    _err(f"{e.message} (give --rules)")
                    return 2
            found = {s.head.id: s for s in reader.tickets(args.tickets)}
    except ReadOnlyError as e:
        _err(str(e))
        return 2
    wanted = list(dict.fromkeys(args.tickets))
    for tid in wanted:
        s = found.get(tid)
        if s is None:
            print(f"ERROR ticket `{tid}`: no such ticket in the store")
            failed += 1
            continue
        try:
            got = capture(policy, s.head, s.events, now)
            if args.anonymize:
                got = anonymize(policy, got, args.salt)
        except InputError as e:
            print(f"ERROR ticket `{tid}`: cannot be measured: {e}")
            failed += 1
            continue
        path = out / file_name(tid)
        path.write_text(json.dumps(got.doc, indent=2, ensure_ascii=False) + "\n", "utf-8")
        problems = verify(policy, json.loads(path.read_text("utf-8")), str(path))
        notes = []
        if got.left_out:
            notes.append(f"{got.left_out} event(s) after `now` left out")
        if got.kept:
            notes.append("kept as is (a pseudonym would change a verdict): " + ", ".join(got.kept))
        tail = f" ({'; '.join(notes)})" if notes else ""
        if problems:
            failed += 1
            print(f"ERROR {path}: the capture does not pass: {problems[0]}")
        else:
            print(f"wrote {path}{tail}")
    print(f"{len(wanted) - failed} captured, {failed} failed (rules {policy.version})")
    return 1 if failed else 0
