"""Benchmark: `slarules test` on 5,000 generated fixtures, and the engine time per ticket.

Run: `python bench/bench_engine.py [-n 5000] [--dir DIR]` from the repository root.
Generates a 200-rule ruleset and N random tickets of about 10 events each
(`bench/generate_fixtures.py`; reused when DIR already holds them), then
prints the wall time of `slarules test RULES FIXTURES` in a fresh process
(target: <= 10 s for 5,000 on the 2-core machine) and, in this process, the
per-ticket time of the `measure` call alone (target: well under 1 ms),
next to reading + checking the file and comparing. No asserts: figures only.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_fixtures import generate

from slarules.engine.timers import measure
from slarules.fixtures import compare, find_fixtures, load_fixture
from slarules.rulesets import load_policy

ROOT = Path(__file__).resolve().parents[1]


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def bench(base: Path, n: int) -> None:
    rules, fixtures = base / "rules", base / "fixtures"
    if not fixtures.is_dir() or len(find_fixtures([fixtures])) != n:
        start = time.perf_counter()
        generate(base, n)
        print(f"generated {n} fixtures in {time.perf_counter() - start:.1f} s under {base}")
    cli = [sys.executable, "-m", "slarules", "test", str(rules), str(fixtures)]
    start = time.perf_counter()
    proc = subprocess.run(cli, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr.strip()
    print(
        f"slarules test on {n} fixtures: {wall:.2f} s wall (target <= 10 s), "
        f"exit {proc.returncode}, `{last}`"
    )

    policy = load_policy(rules)
    files = find_fixtures([fixtures])
    loaded, measured, compared = [], [], []
    for f in files:
        t0 = time.perf_counter()
        fx = load_fixture(f, policy)
        t1 = time.perf_counter()
        m = measure(policy, fx.history, fx.now)
        t2 = time.perf_counter()
        compare(fx.expect, m, policy.timezone)
        t3 = time.perf_counter()
        loaded.append(t1 - t0)
        measured.append(t2 - t1)
        compared.append(t3 - t2)
    events = statistics.mean(len(load_fixture(f, policy).history.events) for f in files[:200])
    q = statistics.quantiles(measured, n=100)
    print(
        f"engine `measure` per ticket (200 rules, ~{events:.0f} events): "
        f"mean {_ms(statistics.mean(measured))}, median {_ms(q[49])}, p95 {_ms(q[94])}, "
        f"max {_ms(max(measured))} (target well under 1 ms)"
    )
    print(
        f"per ticket otherwise: read + check the file {_ms(statistics.mean(loaded))}, "
        f"compare {_ms(statistics.mean(compared))}; in-process total "
        f"{sum(loaded) + sum(measured) + sum(compared):.2f} s"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=5000)
    p.add_argument("--dir", type=Path, help="where to generate (default: a temporary directory)")
    a = p.parse_args()
    if a.dir is not None:
        bench(a.dir, a.n)
        return
    with tempfile.TemporaryDirectory(prefix="slarules-bench-") as tmp:
        bench(Path(tmp), a.n)


if __name__ == "__main__":
    main()
