"""Whole-process start-up of `slarules check` (median of 7 runs), next to `python -c pass`.

Run: .venv/bin/python bench/bench_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_analysis import generated

TINY = 'level a { first_response 1h }\ndefault level a\nrule "x" { when source == "chat" stop }\n'


def median_run(args: list[str], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(args, check=False, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tiny, big = Path(d) / "tiny.sla", Path(d) / "big.sla"
        tiny.write_text(TINY)
        big.write_text(generated(500))
        cli = [sys.executable, "-m", "slarules.cli.__main__"]
        if not Path(__file__).resolve().parents[1].joinpath("slarules/cli/__main__.py").exists():
            cli = [
                sys.executable,
                "-c",
                "import sys; from slarules.cli import main; sys.exit(main())",
            ]
        base = median_run([sys.executable, "-c", "pass"])
        a = median_run([*cli, "check", str(tiny)])
        b = median_run([*cli, "check", str(big)])
        print(f"python -c pass: {base * 1000:.0f} ms")
        print(f"check tiny file: {a * 1000:.0f} ms ({a / base:.1f}x)")
        print(f"check 500 rules: {b * 1000:.0f} ms ({b / base:.1f}x)")


if __name__ == "__main__":
    main()
