"""The core (`slarules/dsl`, `slarules/engine`) reads no clock and no environment.

The edges pass `now`, settings and paths in; a grep keeps it that way (issue 10).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ("slarules/dsl", "slarules/engine")
FORBIDDEN = re.compile(
    r"os\.environ|getenv|expanduser|Path\.home|datetime\.now|utcnow|date\.today"
    r"|time\.time|time\.monotonic|perf_counter|process_time"
    r"|from os import|from time import|from datetime import .*\b(now|today)\b"
)


def test_the_core_reads_no_clock_and_no_environment() -> None:
    files = [f for d in CORE for f in sorted((ROOT / d).rglob("*.py"))]
    assert len(files) > 10
    hits = [
        f"{f.relative_to(ROOT)}:{n}: {line.strip()}"
        for f in files
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
        if FORBIDDEN.search(line)
    ]
    assert hits == []


def test_the_grep_would_find_a_clock_read() -> None:
    assert FORBIDDEN.search("started = time.monotonic()")
    assert FORBIDDEN.search('base = os.environ.get("XDG_CACHE_HOME")')
    assert FORBIDDEN.search("folder = os.path.expanduser('~')")
    assert not FORBIDDEN.search("now: datetime")
