"""Impact preview benchmark (figures, not assertions): `python bench/bench_preview.py [--quick]`.

10,000 stored tickets with ~15 events each (SQLite: the events written directly, then
every ticket measured and saved by the service's own write path under the bundled
examples' ruleset, as a live store holds them), previewed under that ruleset and a
changed copy (`slarules diff --db`'s path, `previewRules`'): wall seconds (median of
3 runs) with the old side read from the store (the tickets are stored under it) and
with both sides measured (an old ruleset the tickets are not stored under), the floor
measured in the same process (reading every history without measuring), the ratios,
and peak memory of the measuring process and of its workers (bounded: batches of 500,
at most 2 per worker in flight). The figures come from a fresh process (`--measure`),
so the seeding's memory is not counted (it runs in a process of its own, `--seed`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slarules.dsl import build  # noqa: E402
from slarules.dsl.source import SourceFile  # noqa: E402
from slarules.rulesets import read_sources  # noqa: E402
from slarules.service import TicketService  # noqa: E402
from slarules.service.preview import preview_store  # noqa: E402
from slarules.settings import parse_database_url  # noqa: E402
from slarules.store import Store  # noqa: E402
from slarules.store.histories import Histories  # noqa: E402

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=3)  # after every event: the service measured them all
SINCE = T0 - timedelta(days=30)
EXAMPLES = ROOT / "examples" / "helpdesk"


def policies() -> tuple[object, object]:
    sources = read_sources(EXAMPLES)
    old = build(sources).policy
    changed = [
        SourceFile(s.name, s.data.replace(b"8h", b"4h").replace(b"1h", b"45m")) for s in sources
    ]
    new = build(changed).policy
    assert old is not None and new is not None
    return old, new


def _t(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def seed(path: Path, n: int) -> None:
    """The events as rows, then every ticket measured and saved as the service saves it."""
    write_rows(path, n)
    old, _ = policies()
    store = Store.open(parse_database_url(f"sqlite:///{path}"))
    svc = TicketService(store)
    ids = [f"T{i:06}" for i in range(n)]
    for k in range(0, n, 500):
        with store.write() as cur:  # the service's re-measure: full replay, rows, checkpoints
            heads = store.tickets.heads(cur, ids[k : k + 500], lock=True)
            svc.recorder.remeasure_in(cur, old, heads, NOW)
    store.close()


def write_rows(path: Path, n: int) -> None:
    Store.open(parse_database_url(f"sqlite:///{path}")).close()
    rnd = random.Random(7)
    conn = sqlite3.connect(path)
    tickets, events = [], []
    groups, prios = ["VIP", "standard", "partner"], ["low", "normal", "high", "urgent"]
    for i in range(n):
        created = T0 - timedelta(days=rnd.randint(0, 25), minutes=rnd.randint(0, 1440))
        fields = {
            "priority": rnd.choice(prios),
            "customer_group": rnd.choice(groups),
            "source": rnd.choice(["email", "chat", "phone"]),
            "tags": rnd.sample(["billing", "bug", "urgent", "refund"], 2),
            "requester": f"user{i % 997}@example.com",
        }
        f = json.dumps(fields)
        done = rnd.random() < 0.8
        tickets.append((f"T{i:06}", _t(created), "customer", f, f, done, "bench", _t(created)))
        at = created
        for k in range(15):
            at += timedelta(minutes=rnd.randint(5, 240))
            if k == 14 and done:
                payload, kind = {"status": "solved"}, "status"
            elif k % 3 == 2:
                payload, kind = {"status": rnd.choice(["open", "pending", "open"])}, "status"
            elif k % 5 == 4:
                payload, kind = {"set": {"priority": rnd.choice(prios)}, "unset": []}, "update"
            else:
                by = "agent" if k % 2 else "customer"
                payload = {"by": by, "public": True, "text": "hello", "channel": None}
                kind = "message"
            events.append((f"T{i:06}", f"e{k}", _t(at), kind, json.dumps(payload), _t(at)))
    conn.executemany(
        'INSERT INTO "ticket" ("id","created_at","created_by","initial_fields","fields","done",'
        '"ruleset_version","measured_at","due_key") VALUES (?,?,?,?,?,?,?,?,?)',
        [(*t, "9999-12-31 00:00:00") for t in tickets],
    )
    conn.executemany(
        'INSERT INTO "event" ("ticket_id","event_id","at","type","payload","recorded_at") '
        "VALUES (?,?,?,?,?,?)",
        events,
    )
    conn.commit()
    conn.close()


def read_floor(config: object, since: datetime) -> float:
    t = time.perf_counter()
    with Histories(config) as h:  # type: ignore[arg-type]
        for ids in h.pages_since(since, 500):
            h.tickets(ids)
    return time.perf_counter() - t


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the workers)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def measure(path: Path, runs: int) -> None:
    """The figures, in this (fresh) process: one JSON line."""
    old, new = policies()
    config = parse_database_url(f"sqlite:///{path}")
    floor = statistics.median(read_floor(config, SINCE) for _ in range(runs))
    out: dict[str, object] = {"floor": floor}
    unstored = replace(old, version="not-stored")  # type: ignore[type-var]
    for name, first in (("stored", old), ("measured", unstored)):
        times, cpus, report = [], [], None
        for _ in range(runs):
            t, c = time.perf_counter(), _cpu()
            report = preview_store(config, first, new, SINCE, NOW)  # type: ignore[arg-type]
            times.append(time.perf_counter() - t)
            cpus.append(_cpu() - c)
        assert report is not None
        d = report.as_dict()
        out[name] = {
            "wall": statistics.median(times),
            "cpu": statistics.median(cpus),
            "tickets": d["tickets"],
            "changed": d["changed"],
            "unmeasurable": len(d["unmeasurable"]),
            "report": {k: v for k, v in d.items() if k not in ("old_version",)},
        }
    out["rss_self"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["rss_workers"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(out, default=str))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="2,000 tickets, one run")
    ap.add_argument("-n", type=int, default=10_000)
    ap.add_argument("--measure", metavar="DB", help=argparse.SUPPRESS)
    ap.add_argument("--seed", metavar="DB", help=argparse.SUPPRESS)
    ap.add_argument("--runs", type=int, default=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        measure(Path(args.measure), args.runs)
        return
    if args.seed:
        seed(Path(args.seed), args.n)
        return
    n = 2000 if args.quick else args.n
    runs = 1 if args.quick else 3
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores: wall times share them)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        t = time.perf_counter()  # seeding in its own process too: this one stays small
        subprocess.run([sys.executable, __file__, "--seed", str(path), "-n", str(n)], check=True)
        print(
            f"seeded {n} tickets × 15 events, measured and saved, in {time.perf_counter() - t:.1f}s"
        )
        cmd = [sys.executable, __file__, "--measure", str(path), "--runs", str(runs)]
        got = json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)
    floor = got["floor"]
    print(f"floor (read every history, no measuring): {floor:.2f}s median of {runs}")
    for name, what in (
        ("stored", "old side read from the store (tickets stored under it)"),
        ("measured", "both sides measured (old ruleset not the stored one)"),
    ):
        r = got[name]
        print(
            f"preview, {what}: {r['wall']:.2f}s median of {runs} "
            f"({r['tickets'] / r['wall']:,.0f} tickets/s; {r['wall'] / floor:.1f}× the floor); "
            f"{r['tickets']} tickets, {r['changed']} changed, {r['unmeasurable']} unmeasurable"
        )
        print(
            f"  CPU {r['cpu']:.2f}s (this process and its workers; median of {runs}): "
            f"{r['cpu'] / 2:.2f}s on 2 idle cores"
        )
    same = got["stored"]["report"] == {**got["measured"]["report"]}
    print(f"the two reports are {'identical' if same else 'DIFFERENT'}")
    print(
        f"peak RSS: measuring process {got['rss_self']:.0f} MiB, "
        f"largest worker {got['rss_workers']:.0f} MiB"
    )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    wall = got["stored"]["wall"]
    print(f"target: under 10 s for 10,000 tickets on 2 cores -> {'ok' if wall < 10 else 'SLOW'}")


if __name__ == "__main__":
    main()
