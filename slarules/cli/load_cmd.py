"""`slarules load FILES… (--url URL [--token T] | --db URL)`: tickets and events in.

Exit codes: 0 everything loaded (or there already), 1 some lines were not
loaded (each reported as `FILE:LINE: CODE: message (key)` on stderr), 2 a
usage error: no files, a bad option, rules with errors, a server that
cannot be reached.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from slarules.cli import COMMANDS
from slarules.errors import RulesError, SettingsError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "load",
        help=COMMANDS["load"],
        description="Load fixture files (TOML/JSON) and JSON Lines of tickets and events "
        "(docs/loading.md). Re-running loads nothing twice.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="files or directories")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8000")
    where.add_argument("--db", help="a database: sqlite:///file.db or postgresql://…")
    p.add_argument("--token", help="bearer token with the `write` role (with --url)")
    p.add_argument("--rules", help="ruleset for --db (SLA_RULES; default the bundled examples)")
    p.add_argument(
        "--batch", type=int, default=500, help="events per request (1-1000, default 500)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from slarules.loading.loader import Loader
    from slarules.loading.sinks import GraphQLSink, HttpTransport, TransportError
    from slarules.loading.sources import count_items, find_files, read_items

    try:
        files = find_files(args.files)
    except FileNotFoundError as e:
        print(f"slarules: `{e}` does not exist", file=sys.stderr)
        return 2
    if not files:
        print("slarules: no files to load (*.toml, *.json, *.jsonl)", file=sys.stderr)
        return 2
    if not 1 <= args.batch <= 1000:
        print(f"slarules: --batch {args.batch} is not 1-1000", file=sys.stderr)
        return 2
    if args.token and not args.url:
        print("slarules: --token goes with --url", file=sys.stderr)
        return 2
    try:
        if args.url:
            transport = HttpTransport(args.url, args.token)
            sink: Any = GraphQLSink(transport, transport.close)
        else:
            sink = _database_sink(args)
    except (ValueError, SettingsError, TransportError) as e:
        print(f"slarules: {e}", file=sys.stderr)
        return 2
    except RulesError as e:
        for d in e.diagnostics:
            print(d.render(), file=sys.stderr)
        print("slarules: the rules have errors; nothing loaded", file=sys.stderr)
        return 2

    bar = _progress(sum(count_items(f) for f in files), args.quiet)

    def on_error(e: Any) -> None:
        (bar.write if bar is not None else _stderr)(e.render())

    loader = Loader(
        sink,
        batch=args.batch,
        on_error=on_error,
        on_progress=bar.update if bar is not None else None,
    )
    try:
        summary = loader.run(item for f in files for item in read_items(f))
    except TransportError as e:
        if bar is not None:
            bar.close()
        print(f"slarules: load stopped: {e}", file=sys.stderr)
        print(loader.summary.render(), flush=True)
        return 2
    finally:
        sink.close()
    if bar is not None:
        bar.close()
    print(summary.render(), flush=True)
    return 1 if summary.error_count else 0


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _database_sink(args: argparse.Namespace) -> Any:
    from slarules.loading.inprocess import database_sink
    from slarules.logs import configure_json_logs
    from slarules.settings import load_settings

    settings = load_settings(os.environ, rules=args.rules, db=args.db, workers=1)
    configure_json_logs()
    logging.getLogger("slarules.access").setLevel(logging.WARNING)  # no line per batch
    return database_sink(settings)


def _progress(total: int, quiet: bool) -> Any:
    """A tqdm bar on stderr (items, rate, time left); none when quiet or not on a terminal."""
    if quiet:
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="item", desc="loading", disable=None, nrows=20, file=sys.stderr)
    return None if bar.disable else bar
