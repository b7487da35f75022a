"""The `slarules` command line: one module per sub-command, each with `add_parser` and `run`.

Exit codes: 0 success, 1 the failure the command is for, 2 usage error or
nothing to work on.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS = ("check", "test", "fmt", "explain", "diff", "capture", "serve", "load", "lsp")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("slarules")
    except PackageNotFoundError:
        return "unknown"


class _VersionAction(argparse.Action):
    """`--version`, reading the installed metadata only when asked (start-up stays fast)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kw: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"slarules {_version()}")
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="slarules", description="SLA rules as config.")
    parser.add_argument("--version", action=_VersionAction)
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
