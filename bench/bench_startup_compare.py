"""Whole-process start-up of `slarules check` on a tiny file (the parser build dominates).

Runs `python -m slarules check TINY` N times (default 15) in fresh processes and prints
the median, min and max wall time, next to the median of `python -c pass` measured in
the same run (the interpreter floor) and their ratio. With `--compare DIR` (a checkout
of another revision, e.g. `git archive REV slarules | tar -x -C DIR`), that tree's
`slarules` runs interleaved with this one, so both see the same machine load.
Run: `python bench/bench_startup_compare.py [N] [--compare DIR]`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TINY = "level a {\n  first_response 1h\n}\ndefault level a\n"


def once(cmd: list[str], tree: str | None = None) -> float:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = tree
    t = time.perf_counter()
    # cwd: not a checkout, or `python -m` would import the `slarules` found there first
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=tempfile.gettempdir())
    return time.perf_counter() - t


def show(label: str, times: list[float], floor: float) -> None:
    m = statistics.median(times)
    print(
        f"{label:28} median {m * 1000:6.1f} ms  (min {min(times) * 1000:.1f}, "
        f"max {max(times) * 1000:.1f}; {m / floor:.1f}x the floor)"
    )


def main() -> None:
    args = sys.argv[1:]
    other = None
    if "--compare" in args:
        i = args.index("--compare")
        other = args[i + 1]
        del args[i : i + 2]
    runs = int(args[0]) if args else 15
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tiny.sla"
        path.write_text(TINY, encoding="utf-8")
        check = [sys.executable, "-m", "slarules", "check", str(path)]
        here = str(Path(__file__).resolve().parents[1])
        for tree in (here, other):  # warm the OS cache (and any parser cache)
            if tree is not None:
                once(check, tree)
        floor, mine, theirs = [], [], []
        for _ in range(runs):
            floor.append(once([sys.executable, "-c", "pass"]))
            mine.append(once(check, here))
            if other is not None:
                theirs.append(once(check, other))
    f = statistics.median(floor)
    print(f"{'python -c pass':28} median {f * 1000:6.1f} ms")
    show("slarules check (tiny)", mine, f)
    if other is not None:
        show(f"  same, from {other}", theirs, f)


if __name__ == "__main__":
    main()
