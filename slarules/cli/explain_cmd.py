"""`slarules explain` (placeholder until its issue lands)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    sub.add_parser("explain", help="explain (not yet available)")


def run(args: argparse.Namespace) -> int:
    print("slarules explain: not yet available", file=sys.stderr)
    return 2
