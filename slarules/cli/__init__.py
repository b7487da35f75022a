"""The `slarules` command line: one module per sub-command, each with `add_parser` and `run`.

Exit codes: 0 success, 1 the failure the command is for, 2 usage error or
nothing to work on.

Start-up: only the module of the sub-command being run is imported (`slarules
check` never loads the server, the store or the engine's reports); the others
appear in `--help` with their one-line summary from `COMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Every sub-command and its one-line help: the one place the summary is written
# (each module's `add_parser` reads it from here).
COMMANDS: dict[str, str] = {
    "check": "check a ruleset (a .sla file or a directory of them)",
    "test": "replay fixture tickets against a ruleset",
    "fmt": "format .sla files in the canonical layout",
    "explain": "explain a ticket: every rule and condition, the level, every cycle",
    "diff": "compare two rulesets on fixture tickets (levels, met/breached, compliance)",
    "capture": "write stored tickets as fixture files (expect filled by the engine)",
    "serve": "run the GraphQL server",
    "load": "load tickets and events from files into a server or a database",
    "lsp": "run the .sla language server over stdio (for editors)",
}


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


def chosen_command(argv: Sequence[str]) -> str | None:
    """The sub-command `argv` runs: its first argument that is not an option, if known.

    The top-level options (`-h`, `--version`) take no value, so the first
    other argument is the command; an unknown one is left to argparse."""
    for a in argv:
        if not a.startswith("-"):
            return a if a in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="slarules", description="SLA rules as config.")
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    name = chosen_command(args_in)
    module = None
    for command, summary in COMMANDS.items():
        if command == name:
            module = importlib.import_module(f"slarules.cli.{command}_cmd")
            module.add_parser(sub)
        else:  # listed in --help; never parsed in this run, so its options are not needed
            sub.add_parser(command, help=summary)
    args = parser.parse_args(args_in)
    if args.command is None or module is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(module.run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
