"""Benchmark: compiled rule conditions against hand-written Python doing the same work.

Run: `python bench/bench_conditions.py` from the repository root. Prints, in one
process: the time per evaluation of representative compiled conditions next
to a hand-written lambda (same case folding and unset handling, same input)
and their ratio; the time per ticket of 200 ordered rules where only the last
matches; and the time to check (parse + check + compile) a 500-rule ruleset.
Targets (issue 2): median ratio <= 1.2, worst <= 1.5 (regex excepted);
200 rules < 35 µs per ticket; 500-rule check < 1 s. No asserts: figures only.
"""

from __future__ import annotations

import statistics
import sys
import time
import timeit
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import re2

from slarules.dsl import build_source

HEADER = """
schema {
  priorities low < normal < high < urgent
  field renewal: date
  field tier: text
}
"""

T = {
    "customer_group": "VIP",
    "source": "Chat",
    "tags": ("billing", "Urgent", "eu"),
    "priority": "High",
    "department": "Sales",
    "tier": "gold",
    "subject": "Invoice 2026-03 is wrong, please fix",
    "renewal": date(2026, 2, 20),
    "created_at": datetime(2026, 3, 2, 10, tzinfo=UTC),
}

_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
_SOURCES = frozenset({"email", "chat", "phone"})
_ANY = frozenset({"urgent", "vip"})
_RX = re2.compile(r"invoice \d{4}-\d{2}")
_LIMIT = date(2026, 3, 1)


def _text(f: Any, name: str) -> str | None:
    v = f.get(name)
    return v.casefold() if type(v) is str and v else None


# (name, condition source, hand-written equivalent)
CASES: list[tuple[str, str, Callable[[Any], bool]]] = [
    (
        "equality",
        'customer_group == "vip"',
        lambda f: (v := f.get("customer_group")).__class__ is str and v.casefold() == "vip",
    ),
    (
        "in list",
        'source in ["email", "chat", "phone"]',
        lambda f: (v := f.get("source")).__class__ is str and v.casefold() in _SOURCES,
    ),
    (
        "tag membership",
        'tags contains "urgent"',
        lambda f: (
            (v := f.get("tags")).__class__ in (tuple, list)
            and "urgent" in {x.casefold() for x in v if x.__class__ is str}
        ),
    ),
    (
        "tags contains any",
        'tags contains any ["urgent", "vip"]',
        lambda f: (
            (v := f.get("tags")).__class__ in (tuple, list)
            and not _ANY.isdisjoint({x.casefold() for x in v if x.__class__ is str})
        ),
    ),
    (
        "4-clause and/or/not",
        'customer_group == "vip" and (priority >= "high" or department == "support") '
        'and not tier == "bronze"',
        lambda f: (
            _text(f, "customer_group") == "vip"
            and (
                ((p := f.get("priority")).__class__ is str and _RANK.get(p.casefold(), -1) >= 2)
                or _text(f, "department") == "support"
            )
            and _text(f, "tier") != "bronze"
        ),
    ),
    (
        "priority order",
        'priority >= "high"',
        lambda f: (
            (p := f.get("priority")).__class__ is str
            and (r := _RANK.get(p.casefold())) is not None
            and r >= 2
        ),
    ),
    (
        "date comparison",
        "renewal < 2026-03-01",
        lambda f: (d := f.get("renewal")).__class__ is date and d < _LIMIT,
    ),
    (
        "regex (RE2)",
        r"subject matches /invoice \d{4}-\d{2}/i",
        lambda f: (
            (s := f.get("subject")).__class__ is str
            and s != ""
            and _RX.search(s.casefold()) is not None
        ),
    ),
]


def per_call(fn: Callable[[Any], Any], arg: Any) -> float:
    """Best-of-7 seconds per call."""
    timer = timeit.Timer(lambda: fn(arg))
    n, _ = timer.autorange()
    return min(timer.repeat(repeat=7, number=n)) / n


def bench_conditions() -> None:
    pauses = "\n".join(f"  pause when {src}" for _n, src, _f in CASES)
    result = build_source(HEADER + f"level b {{\n{pauses}\n}}\ndefault level b\n")
    assert result.policy is not None, [d.render() for d in result.errors]
    compiled = [p.holds for p in result.policy.levels["b"].pauses]
    print(f"{'condition':<22} {'compiled':>10} {'lambda':>10} {'ratio':>7}")
    ratios: list[float] = []
    for (name, _src, hand), fn in zip(CASES, compiled, strict=True):
        assert fn(T) == hand(T), name
        a, b = per_call(fn, T), per_call(hand, T)
        ratio = a / b
        if not name.startswith("regex"):
            ratios.append(ratio)
        print(f"{name:<22} {a * 1e9:>8.0f}ns {b * 1e9:>8.0f}ns {ratio:>7.2f}")
    print(
        f"median ratio {statistics.median(ratios):.2f} (target <= 1.2), "
        f"worst {max(ratios):.2f} (target <= 1.5), regex excepted"
    )


def many_rules(n: int) -> str:
    lines = [HEADER, "level hit { }", "level miss { }", "default level miss"]
    for i in range(n - 1):
        cond = [
            f'tier == "t{i}"',
            f'customer_group in ["g{i}", "h{i}"]',
            f'tags contains "x{i}"',
            f'priority >= "urgent" and department == "d{i}"',
        ][i % 4]
        lines.append(f'rule "r{i}" {{ when {cond} set level miss stop }}')
    lines.append(f'rule "r{n - 1}" {{ when tier == "gold" and priority >= "high" set level hit }}')
    return "\n".join(lines) + "\n"


def bench_rules() -> None:
    result = build_source(many_rules(200))
    assert result.policy is not None
    decide = result.policy.decide
    assert decide(T).level == "hit" and decide(T).decided_by == "r199"
    t = per_call(decide, T)
    print(f"200 ordered rules, only the last matches: {t * 1e6:.1f} µs per ticket (target < 35)")


def bench_check() -> None:
    text = many_rules(500)
    build_source(text)  # warm: parser built, imports done
    start = time.perf_counter()
    result = build_source(text)
    elapsed = time.perf_counter() - start
    assert result.policy is not None
    print(f"check + compile of a 500-rule ruleset: {elapsed * 1000:.0f} ms (target < 1000)")


if __name__ == "__main__":
    bench_conditions()
    bench_rules()
    bench_check()
