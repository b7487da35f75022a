"""`slarules lsp`: the `.sla` language server over stdio (for editors; see README "Editors")."""

from __future__ import annotations

import argparse
from typing import Any

from slarules.cli import COMMANDS


def add_parser(sub: Any) -> None:
    p = sub.add_parser("lsp", help=COMMANDS["lsp"])
    p.add_argument(
        "--stdio", action="store_true", help="accepted for editors (stdio is the default)"
    )


def run(args: argparse.Namespace) -> int:
    from slarules.lsp.server import main

    main()
    return 0
