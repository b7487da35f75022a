"""The `slarules` command line: one module per sub-command, each with `add_parser` and `run`.

Exit codes: 0 success, 1 the failure the command is for, 2 usage error or
nothing to work on.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS = ("check", "test", "fmt", "explain", "diff", "capture", "serve")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("slarules")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="slarules", description="SLA rules as config.")
    parser.add_argument("--version", action="version", version=f"slarules {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = {}
    for name in COMMANDS:
        mod = importlib.import_module(f"slarules.cli.{name}_cmd")
        mod.add_parser(sub)
        modules[name] = mod
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(modules[args.command].run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
