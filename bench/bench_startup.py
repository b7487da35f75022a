"""Whole-process start-up of `slarules check`, next to `python -c pass` (issue 14).

Runs, in fresh processes and interleaved (so all see the same machine load):
`python -c pass` (the interpreter floor), `slarules check` of a tiny file and of
500 generated rules. Prints for each the median wall time of N runs (default 9)
and the median CPU time (user + system of the child, less sensitive to other
load on a shared machine), and the ratio to the floor. With `--compare DIR` (a
checkout of another revision: `git archive REV slarules | tar -x -C DIR`), that
tree's `slarules` runs interleaved too. Find where the time goes with
`python -X importtime -m slarules check FILE`.
Targets: tiny file < 150 ms, 500 rules < 0.5 s (whole process).
Run: `python bench/bench_startup.py [N] [--compare DIR]`.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_analysis import generated

TINY = 'level a { first_response 1h }\ndefault level a\nrule "x" { when source == "chat" stop }\n'
HERE = str(Path(__file__).resolve().parents[1])


def once(cmd: list[str], tree: str | None, pycache: str) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `cmd` (with `tree` first on PYTHONPATH).

    Byte-code is cached (in `pycache`, not in the trees) even when the caller's
    environment sets PYTHONDONTWRITEBYTECODE: an installed `slarules` has its
    .pyc files, and compiling every module from source on each run would
    measure the compiler, not the start-up."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = pycache
    if tree is not None:
        env["PYTHONPATH"] = tree
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    # cwd: not a checkout, or `python -m` would import the `slarules` found there first
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=pycache)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    args = sys.argv[1:]
    other = None
    if "--compare" in args:
        i = args.index("--compare")
        other = str(Path(args[i + 1]).resolve())
        del args[i : i + 2]
    runs = int(args[0]) if args else 9
    trees = [("this tree", HERE)] + ([(other, other)] if other else [])
    with tempfile.TemporaryDirectory() as d:
        tiny, big = Path(d) / "tiny.sla", Path(d) / "big.sla"
        tiny.write_text(TINY)
        big.write_text(generated(500))
        check = [sys.executable, "-m", "slarules", "check"]
        jobs = [("python -c pass", [sys.executable, "-c", "pass"], None)]
        for label, tree in trees:
            jobs.append((f"check tiny file ({label})", [*check, str(tiny)], tree))
            jobs.append((f"check 500 rules ({label})", [*check, str(big)], tree))
        pycache = str(Path(d) / "pycache")
        Path(pycache).mkdir()
        for _label, cmd, tree in jobs:  # warm the OS cache and the .pyc files
            once(cmd, tree, pycache)
        times: dict[str, list[tuple[float, float]]] = {label: [] for label, _c, _t in jobs}
        for _ in range(runs):
            for label, cmd, tree in jobs:
                times[label].append(once(cmd, tree, pycache))
    floor_wall = statistics.median(w for w, _c in times["python -c pass"])
    floor_cpu = statistics.median(c for _w, c in times["python -c pass"])
    print(f"median of {runs} runs: wall ms (x floor), cpu ms (x floor)")
    for label, ts in times.items():
        wall = statistics.median(w for w, _c in ts)
        cpu = statistics.median(c for _w, c in ts)
        print(
            f"{label:52} {wall * 1000:7.0f} ({wall / floor_wall:4.1f}x)"
            f" {cpu * 1000:7.0f} ({cpu / floor_cpu:4.1f}x)"
        )


if __name__ == "__main__":
    main()
