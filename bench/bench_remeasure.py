"""Re-measure after a reload (figures, not assertions): `python bench/bench_remeasure.py [-n N]`.

Seeds N open tickets (10,000 by default) with realistic histories, 10 to 200 events
each (log-uniform: most are short, some long), straight through the store, then
re-measures all of them under a new ruleset version: serially (`service.remeasure`
in batches of 200, today's path), and in worker processes (`service.remeasure`'s
parallel driver, what a reload runs) while a client reads `ticket(id)` through a real
server (uvicorn, keep-alive): the read latency meanwhile shows the server answering.
Also run from `bench_service.py`.

Then the incremental re-measure (`service.restamp`, what a reload runs since): from one
stored state (every ticket measured once under the live rules), each kind of change is
re-measured both ways, the full re-measure (forced: no previous policy) and the
incremental one (`remeasure_all(previous=...)`), each run on a fresh copy of that
state; medians of `-r` runs (`--full-runs` for the full path), with the machine's load.
`--only incremental` skips the figures above.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_ingest import raw_event  # noqa: E402
from bench_service import T0, engine, fields  # noqa: E402
from serving import served  # noqa: E402

from slarules.app import create_app  # noqa: E402
from slarules.clock import FrozenClock  # noqa: E402
from slarules.engine import intake  # noqa: E402
from slarules.service.remeasure import remeasure_all, workers_for  # noqa: E402
from slarules.settings import DatabaseConfig, Settings, parse_database_url  # noqa: E402
from slarules.store import codec  # noqa: E402
from slarules.store.rows import EventRow, TicketHead  # noqa: E402

READ = '{ ticket(id: "R00000") { id level { name } cycles { state elapsedSeconds dueAt } } }'


def lengths(n: int, seed: int = 17) -> list[int]:
    rnd = random.Random(seed)
    return [int(10 * 20 ** rnd.random()) for _ in range(n)]  # 10..200, log-uniform


def seed(rt: Any, n: int) -> int:
    """N open tickets with their events, inserted as rows (setup speed, not the API)."""
    policy = rt.ruleset.policy
    repo, store = rt.store.tickets, rt.store
    total = 0
    for a in range(0, n, 500):
        with store.write() as cur:
            events: list[tuple[str, EventRow]] = []
            for i in range(a, min(n, a + 500)):
                tid = f"R{i:05}"
                head = TicketHead(tid, T0, "customer", fields(i), False, None)
                repo.insert_ticket(cur, head, "seed")
                for k in range(LENGTHS[i]):
                    ev = intake.event(policy, raw_event(k), "e", f"e{k}")
                    events.append((tid, EventRow(ev.event_id, ev.at, ev.type, PAYLOADS[k % 6])))
            repo.insert_events(cur, events, T0 + timedelta(days=30))
            total += len(events)
    return total


LENGTHS: list[int] = []
PROCESSES = min(4, os.cpu_count() or 1)  # `-p`: worker processes (0: the thread pool)
PAYLOADS: list[Any] = []


def run(db: DatabaseConfig, eng: dict[str, Any], n: int) -> None:
    LENGTHS[:] = lengths(n)
    clock = FrozenClock(T0 + timedelta(days=30))
    app = create_app(Settings(database=db, scheduler=False), clock, **eng)
    with served(app) as c:
        rt = app.state.runtime
        policy = rt.ruleset.policy
        PAYLOADS[:] = [
            codec.event_payload(intake.event(policy, raw_event(k), "e", "x")) for k in range(6)
        ]
        t = time.perf_counter()
        events = seed(rt, n)
        print(
            f"  seeded {n:,} open tickets, {events:,} events "
            f"(10–200 a ticket, median {statistics.median(LENGTHS):.0f}) "
            f"in {time.perf_counter() - t:.1f} s"
        )
        svc, ids = rt.require_service(), rt.require_service().open_ids()
        v1 = replace(policy, version="bench-v1")
        c0, t = time.process_time(), time.perf_counter()
        for i in range(0, len(ids), 200):
            svc.remeasure(v1, ids[i : i + 200], clock.now())
        serial, serial_cpu = time.perf_counter() - t, time.process_time() - c0
        print(
            f"  serial re-measure (batches of 200, one thread): {serial:.1f} s, "
            f"{serial_cpu:.1f} s CPU, {serial / events * 1e6:.0f} µs per event of history"
        )
        v15 = replace(policy, version="bench-v1.5")
        t = time.perf_counter()
        job0 = remeasure_all(svc.recorder, v15, ids, clock.now, workers=0)
        asyncio.run_coroutine_threadsafe(job0, rt.loop).result()
        threads = time.perf_counter() - t
        print(
            f"  batched re-measure, the default (read / measure / save in the server's "
            f"threads, no worker process): {threads:.1f} s ({serial / threads:.2f}× serial)"
        )
        v2 = replace(policy, version="bench-v2")
        lat: list[float] = []
        stop = threading.Event()

        def reads() -> None:
            while not stop.is_set():
                w = time.perf_counter()
                c.post(READ)
                lat.append(time.perf_counter() - w)
                time.sleep(0.2)  # a probe, not a load: ~5 reads a second

        reader = threading.Thread(target=reads)
        reader.start()
        time.sleep(0.3)
        idle = list(lat)
        lat.clear()
        t = time.perf_counter()
        job = remeasure_all(svc.recorder, v2, ids, clock.now, workers=PROCESSES)
        asyncio.run_coroutine_threadsafe(job, rt.loop).result()
        parallel = time.perf_counter() - t
        stop.set()
        reader.join()
        v3 = replace(policy, version="bench-v3")
        t = time.perf_counter()
        for i in range(0, len(ids), 200):
            svc.remeasure(v3, ids[i : i + 200], clock.now())
        again = time.perf_counter() - t
        print(
            f"  serial re-measure again, last (the logs hold four versions' runs now; a save "
            f"reads only its own version's entries): {again:.1f} s"
        )
        ms = sorted(x * 1000 for x in lat)
        print(
            f"  batched re-measure ({workers_for(len(ids), processes=PROCESSES)} worker processes, "
            f"{os.cpu_count()} cores): {parallel:.1f} s ({serial / parallel:.2f}× serial); "
            f"ticket(id) meanwhile: {len(ms)} reads, p50 {ms[len(ms) // 2]:.0f} ms, "
            f"max {ms[-1]:.0f} ms (idle p50 {statistics.median(idle) * 1000:.0f} ms)"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=10_000)
    ap.add_argument("-p", type=int, default=PROCESSES, help="worker processes (0: none)")
    ap.add_argument("-r", type=int, default=3, help="runs of each incremental re-measure")
    ap.add_argument("--full-runs", type=int, default=3, help="runs of each full re-measure")
    ap.add_argument("--only", choices=["all", "reload", "incremental"], default="all")
    ap.add_argument("-c", default="", help="only the changes whose name contains this")
    a = ap.parse_args()
    globals()["PROCESSES"] = a.p
    _, eng = engine()
    if a.only in ("all", "reload"):
        with tempfile.TemporaryDirectory() as d:
            print("re-measure after a reload (SQLite, real engine, examples/helpdesk)")
            run(parse_database_url(f"sqlite:///{d}/remeasure.db"), eng, a.n)
    if a.only in ("all", "incremental"):
        from bench_restamp import incremental

        with tempfile.TemporaryDirectory() as d:
            print(
                f"incremental re-measure after a reload ({a.n:,} open tickets, SQLite, "
                "examples/helpdesk; full = today's path forced)"
            )
            incremental(Path(d), eng["ruleset"].policy, a.n, a.r, a.full_runs, a.c)


if __name__ == "__main__":
    main()
