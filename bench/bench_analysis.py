"""`check --analyze` speed: the bundled example and 500 generated rules (median of 5 runs).

Run: .venv/bin/python bench/bench_analysis.py
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

from slarules.dsl import analyze, analyze_source
from slarules.rulesets import read_sources

ROOT = Path(__file__).resolve().parents[1]


def generated(n: int, seed: int = 7) -> str:
    rnd = random.Random(seed)
    out = [
        "schema {\n  priorities low < normal < high < urgent\n  sources email, chat, phone, web\n}",
        "level a { first_response 1h }\nlevel b { first_response by priority { urgent 1h } }",
        "default level a",
    ]
    leaves = [
        lambda: f'source == "{rnd.choice(["email", "chat", "phone", "web"])}"',
        lambda: f'priority >= "{rnd.choice(["normal", "high", "urgent"])}"',
        lambda: f'department == "d{rnd.randrange(40)}"',
        lambda: f'customer_group in ["g{rnd.randrange(20)}", "g{rnd.randrange(20)}"]',
        lambda: f'tags contains "t{rnd.randrange(30)}"',
        lambda: f'subject contains "w{rnd.randrange(10)}"',
    ]
    for i in range(n):
        cond = " and ".join(rnd.choice(leaves)() for _ in range(rnd.randint(1, 2)))
        stop = " stop" if rnd.random() < 0.3 else ""
        out.append(f'rule "r{i}" {{ when {cond} set level {rnd.choice("ab")}{stop} }}')
    return "\n".join(out)


def median(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    example = read_sources(ROOT / "examples" / "helpdesk")
    text = generated(500)
    floor = median(lambda: sum(range(100_000)))
    a = median(lambda: analyze(example))
    b = median(lambda: analyze_source(text), runs=3)
    print(f"floor (sum of 100k ints): {floor * 1000:.1f} ms")
    print(f"example ruleset, build + analyze: {a * 1000:.1f} ms  ({a / floor:.0f}x floor)")
    print(f"500 generated rules, build + analyze: {b * 1000:.0f} ms  ({b / floor:.0f}x floor)")


if __name__ == "__main__":
    main()
