"""`check --analyze` speed: the bundled example and 500 generated rules, against the targets.

Run: .venv/bin/python bench/bench_analysis.py [--before REV] [--runs N]

Prints, per ruleset, the median wall time and the median CPU time of the
process (the machine's two cores are shared, so wall time is noisy; CPU
time is the steadier figure), split into build (parse + check + compile)
and analysis, next to a floor measured in the same process. The targets
(issue 14) are on the wall time of build + analysis: the example under
0.2 s, 500 generated rules under 2 s. `--before REV` measures the same
rulesets with the code of git revision REV (exported to a temporary
directory, run in a subprocess) and prints before and after side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from functools import partial
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"example": 0.2, "generated-500": 2.0}  # seconds, wall, build + analysis


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


MIXED_HEAD = """timezone "America/Sao_Paulo"
schema {
  priorities low < medium < high < critical
  sources email, chat, phone, web
  field contract_tier: text
  field seats: number
  field max_seats: number
  field renewal_date: date
  field beta: bool
}
calendar business {
  timezone "America/Sao_Paulo"
  hours mon-fri 09:00-12:00, 13:00-18:00
}
level a { first_response 1h  pause when status == "on hold" }
level b { first_response by priority { critical 1h, high 4h } first_response by source { chat 2m } }
level c { first_response by contract_tier { gold 1h } }
"""


def mixed(n: int, seed: int = 1) -> str:
    """Rules over every kind of leaf: numbers, dates, hours and weekdays, free text, calendars,
    field-to-field comparisons, nested and/or/not (the witness search's hard cases)."""
    rnd = random.Random(seed)
    c = rnd.choice
    leaves: list[Callable[[], str]] = [
        lambda: f'source == "{c(["email", "chat", "phone", "web"])}"',
        lambda: (
            f'priority {c([">=", "<", "==", "!="])} "{c(["low", "medium", "high", "critical"])}"'
        ),
        lambda: f"seats {c(['>', '<', '==', '>='])} {rnd.randrange(0, 50, 5)}",
        lambda: f"renewal_date {c(['>', '<'])} 2026-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}",
        lambda: c(["beta", "not beta", "beta is set"]),
        lambda: f'contract_tier {c(["==", "!="])} "{c(["gold", "silver", "bronze"])}"',
        lambda: f'contract_tier starts with "{c(["go", "si"])}"',
        lambda: f"subject matches /{c(['down', 'outage|broken', '^re:'])}/",
        lambda: f'created_at.weekday in ["{c(["sat", "sun", "mon"])}"]',
        lambda: f"created_at.hour {c(['<', '>='])} {rnd.randint(6, 20)}",
        lambda: "seats > max_seats",
        lambda: "created_at during business",
        lambda: f'tags contains any ["t{rnd.randrange(5)}", "t{rnd.randrange(5)}"]',
        lambda: "tags is set",
    ]
    out = [MIXED_HEAD, c(["default level a", ""])]
    for i in range(n):
        parts = [c(leaves)() for _ in range(rnd.randint(1, 3))]
        cond = parts[0]
        for p in parts[1:]:
            join = c(["and", "or"])
            cond = f"({cond} {join} {p})" if rnd.random() < 0.8 else f"({cond} and not ({p}))"
        level = c(["a", "b", "c", None])
        stop = rnd.random() < 0.3 or level is None
        body = [f"when {cond}"] + ([f"set level {level}"] if level else []) + (["stop"] * stop)
        out.append(f'rule "r{i}" {{ {" ".join(body)} }}')
    return "\n".join(out)


def median(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and median CPU seconds of `runs` calls."""
    wall, cpu = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(wall), statistics.median(cpu)


def measure(runs: int) -> dict[str, Any]:
    """Every figure, for whatever `slarules` this process imports."""
    from slarules.dsl import SourceFile, analyze, build_model
    from slarules.dsl.analysis import analyze as run_analysis
    from slarules.rulesets import read_sources

    cases: dict[str, list[SourceFile]] = {
        "example": list(read_sources(ROOT / "examples" / "helpdesk")),
        "generated-500": [SourceFile("generated.sla", generated(500).encode())],
        "mixed-500": [SourceFile("mixed.sla", mixed(500).encode())],
    }
    out: dict[str, Any] = {"floor": median(lambda: sum(range(100_000)), 7)[0]}
    for name, sources in cases.items():
        n = runs if name == "example" else max(3, runs // 2)
        result, model = build_model(sources)
        assert result.policy is not None and model is not None, name
        policy = result.policy
        findings = len(analyze(sources)[1])
        out[name] = {
            "total": median(partial(analyze, sources), n),
            "build": median(partial(build_model, sources), n),
            "analysis": median(partial(run_analysis, model, policy), n),
            "findings": findings,
        }
    return out


def _before(rev: str, runs: int) -> dict[str, Any]:
    """`measure` with the package of git revision `rev`, in a subprocess."""
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "slarules"], check=True, capture_output=True
    ).stdout
    with tempfile.TemporaryDirectory() as d:
        with tarfile.open(fileobj=BytesIO(data)) as tar:
            tar.extractall(d, filter="data")
        env = {**os.environ, "PYTHONPATH": d}
        args = [sys.executable, __file__, "--json", "--runs", str(runs)]
        got = subprocess.run(args, check=True, capture_output=True, text=True, env=env)
    return dict(json.loads(got.stdout))


def _ms(s: float) -> str:
    return f"{s * 1000:7.0f} ms" if s >= 0.1 else f"{s * 1000:7.1f} ms"


def report(now: dict[str, Any], before: dict[str, Any] | None, rev: str | None) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    cores = os.cpu_count() or 1
    print(
        f"floor (sum of 100k ints): {now['floor'] * 1000:.1f} ms; load {load:.1f} on {cores} cores"
    )
    for name in ("example", "generated-500", "mixed-500"):
        fig = now[name]
        print(f"\n{name} ({fig['findings']} findings), median wall / CPU:")
        for part in ("total", "build", "analysis"):
            wall, cpu = fig[part]
            line = f"  {part:9} now    {_ms(wall)} / {_ms(cpu)}  ({wall / now['floor']:.0f}x floor)"
            if before is not None:
                bw, bc = before[name][part]
                line += f"   before ({rev}) {_ms(bw)} / {_ms(bc)}  ({bc / cpu:.1f}x CPU)"
            print(line)
        target = TARGETS.get(name)
        if target is not None:
            wall, cpu = fig["total"]
            verdict = "met" if wall < target else "NOT met"
            print(
                f"  target: build + analysis under {target:g} s wall: {verdict}"
                f" (CPU {'under' if cpu < target else 'OVER'} it: {cpu:.2f} s;"
                f" wall exceeds CPU when the {cores} cores are shared, load {load:.1f})"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", metavar="REV", help="also measure git revision REV")
    ap.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.json:
        print(json.dumps(measure(args.runs)))
        return
    before = _before(args.before, args.runs) if args.before else None
    report(measure(args.runs), before, args.before)


if __name__ == "__main__":
    main()
