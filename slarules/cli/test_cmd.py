"""`slarules test` (placeholder until its issue lands)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    sub.add_parser("test", help="test (not yet available)")


def run(args: argparse.Namespace) -> int:
    print("slarules test: not yet available", file=sys.stderr)
    return 2
