"""`slarules diff` (placeholder until its issue lands)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    sub.add_parser("diff", help="diff (not yet available)")


def run(args: argparse.Namespace) -> int:
    print("slarules diff: not yet available", file=sys.stderr)
    return 2
