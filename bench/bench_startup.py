"""Whole-process start-up of `slarules check` on a tiny file (the parser build dominates).

Runs `python -m slarules check TINY` N times (default 15) in fresh processes and prints
the median, min and max wall time, next to the median of `python -c pass` measured in
the same run (the interpreter floor) and their ratio.
Run: `python bench/bench_startup.py [N]`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TINY = "level a {\n  first_response 1h\n}\ndefault level a\n"


def timed(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tiny.sla"
        path.write_text(TINY, encoding="utf-8")
        timed([sys.executable, "-m", "slarules", "check", str(path)], 2)  # warm the OS cache
        floor = timed([sys.executable, "-c", "pass"], runs)
        check = timed([sys.executable, "-m", "slarules", "check", str(path)], runs)
    f, c = statistics.median(floor), statistics.median(check)
    print(f"python -c pass:        median {f * 1000:6.1f} ms")
    print(
        f"slarules check (tiny): median {c * 1000:6.1f} ms  "
        f"(min {min(check) * 1000:.1f}, max {max(check) * 1000:.1f}; {c / f:.1f}x the floor)"
    )


if __name__ == "__main__":
    main()
