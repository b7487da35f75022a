"""The incremental re-measure after a reload beside the full one (figures, not assertions).

Run from `bench_remeasure.py` (`python bench/bench_remeasure.py --only incremental -n N`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import bench_remeasure as br
from bench_service import T0

from slarules.dsl import build
from slarules.dsl.source import SourceFile
from slarules.engine import intake
from slarules.engine.impact import impact
from slarules.engine.policy import Policy
from slarules.service import TicketService, recording
from slarules.service.remeasure import remeasure_all
from slarules.settings import parse_database_url
from slarules.store import Store, codec

HELPDESK = Path(__file__).resolve().parents[1] / "examples" / "helpdesk"
NOW = T0 + timedelta(days=30)

# (change, file, text, replacement); None: the same files under another version
CHANGES: list[tuple[str, tuple[str, str, str] | None]] = [
    ("same content, new version", None),
    ("a target of urgent (1/3 of the tickets)", ("10-levels.sla", "8h\n  pause", "9h\n  pause")),
    (
        "a target of standard (2/3 of the tickets)",
        ("10-levels.sla", "resolution 40h", "resolution 41h"),
    ),
    (
        "a response target of urgent (next_response: its stopped cycles re-projected)",
        ("10-levels.sla", "next_response 30m", "next_response 45m"),
    ),
    ("one rule's condition", ("20-rules.sla", 'priority >= "critical"', 'priority >= "high"')),
    (
        "a holiday in `business` (standard's and vip's calendar)",
        ("00-setup.sla", "closed 2026-12-31", "closed 2026-03-05\n  closed 2026-12-31"),
    ),
]


def policy_of(base: Policy, change: tuple[str, str, str] | None) -> Policy:
    if change is None:
        return replace(base, version="bench-same")
    files = {p.name: p.read_text() for p in sorted(HELPDESK.glob("*.sla"))}
    name, text, new = change
    assert text in files[name], change
    files[name] = files[name].replace(text, new)
    result = build([SourceFile(n, t.encode()) for n, t in sorted(files.items())])
    assert result.policy is not None, result.diagnostics
    return result.policy


class _Rt:
    """What `bench_remeasure.seed` reads of a runtime."""

    def __init__(self, store: Store, policy: Policy) -> None:
        self.store = store
        self.ruleset = type("Live", (), {"policy": policy})()


def _copy(src: Path | None, dst: Path) -> None:
    """A copy of a closed SQLite database (its WAL too); None: remove `dst`."""
    for tail in ("", "-wal", "-shm"):
        Path(f"{dst}{tail}").unlink(missing_ok=True)
        if src is not None and Path(f"{src}{tail}").exists():
            shutil.copy(f"{src}{tail}", f"{dst}{tail}")


def _open(path: Path) -> tuple[Store, TicketService]:
    store = Store.open(parse_database_url(f"sqlite:///{path}"))
    return store, TicketService(store)


def _timed(path: Path, new: Policy, previous: Policy | None) -> tuple[float, int]:
    """One batched re-measure of every open ticket (what a reload runs): seconds, replays."""
    store, svc = _open(path)
    replays = [0]
    real = recording.full_work

    def counted(policy: Any, h: Any, now: Any) -> Any:
        replays[0] += 1
        return real(policy, h, now)

    recording.full_work = counted  # type: ignore[assignment]
    try:
        ids = svc.open_ids()
        t = time.perf_counter()
        job = remeasure_all(svc.recorder, new, ids, lambda: NOW, workers=0, previous=previous)
        asyncio.run(job)
        return time.perf_counter() - t, replays[0]
    finally:
        recording.full_work = real  # type: ignore[assignment]
        store.close()


def incremental(d: Path, policy: Policy, n: int, runs: int, full_runs: int, only: str = "") -> None:
    base = d / "base.db"
    br.LENGTHS[:] = br.lengths(n)
    br.PAYLOADS[:] = [
        codec.event_payload(intake.event(policy, br.raw_event(k), "e", "x")) for k in range(6)
    ]
    store, svc = _open(base)
    events = br.seed(_Rt(store, policy), n)
    ids = svc.open_ids()
    t = time.perf_counter()
    asyncio.run(remeasure_all(svc.recorder, policy, ids, lambda: NOW, workers=0))
    print(
        f"  seeded {n:,} tickets, {events:,} events; measured once under the live rules "
        f"in {time.perf_counter() - t:.1f} s (the stored state every run starts from)"
    )
    store.close()
    print(f"  load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, change in CHANGES:
        if only not in name:
            continue
        new = policy_of(policy, change)
        what = impact(policy, new)
        full: list[float] = []
        inc: list[float] = []
        replayed = 0
        for i in range(max(runs, full_runs)):
            for times, previous, k in ((full, None, full_runs), (inc, policy, runs)):
                if i >= k:
                    continue
                path = d / "run.db"
                _copy(base, path)
                took, replays = _timed(path, new, previous)
                times.append(took)
                if previous is not None:
                    replayed = replays
                _copy(None, path)
        g = statistics.median(inc)
        said = "nothing" if what.nothing else ", ".join(what.reasons)
        f = statistics.median(full) if full else None
        whole = "not run" if f is None else f"{f:.1f} s (median of {len(full)})"
        ratio = "" if f is None else f": {f / g:.1f}×"
        print(
            f"  {name}: full {whole}, incremental {g:.2f} s (median of {len(inc)}; "
            f"{replayed:,} of {len(ids):,} tickets measured in full, changed: {said}){ratio}"
        )
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
