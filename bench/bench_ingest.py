"""Ingest cost curve (figures, not assertions): `python bench/bench_ingest.py [--quick] [--pg]`.

CPU per event and events/s through GraphQL `recordEvents` when tickets already hold
5, 15, 50, 200 and 1,000 events, batched (100 events a call) and single (one a call),
on SQLite (and PostgreSQL with --pg when it answers on 127.0.0.1:5432). Medians of
several rounds; the floors are measured in the same run: a bare insert loop of the
same event rows with the same driver, and a bare strawberry round trip
(`{ __typename }`) through the same app.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_service import RECORD_EVENTS, T0, client, engine, fields, post  # noqa: E402

from slarules.clock import FrozenClock  # noqa: E402
from slarules.service import RawEvent  # noqa: E402
from slarules.settings import DatabaseConfig, parse_database_url  # noqa: E402
from slarules.store.sql import Sql  # noqa: E402

KINDS = ("customer", "agent", "customer", "agent", "open", "pending")


def gql_event(tid: str, n: int, k: int) -> dict[str, Any]:
    at = (T0 + timedelta(seconds=30 * k)).isoformat()
    kind = KINDS[k % len(KINDS)]
    base = {"eventId": f"e{k}", "ticketId": tid, "at": at}
    if kind in ("customer", "agent"):
        return {**base, "message": {"by": kind.upper()}}
    return {**base, "status": kind}


def raw_event(k: int) -> dict[str, Any]:
    at = T0 + timedelta(seconds=30 * k)
    kind = KINDS[k % len(KINDS)]
    if kind in ("customer", "agent"):
        return {"at": at, "type": "message", "by": kind}
    return {"at": at, "type": "status", "status": kind}


def prefill(c: Any, tickets: int, length: int) -> None:
    rt = c.app_state.runtime
    svc, policy = rt.service, rt.ruleset.policy
    now = T0 + timedelta(days=30)
    for i in range(tickets):
        tid = f"T{i}"
        raw = {"id": tid, "created_at": T0, "fields": fields(i)}
        svc.record_ticket(policy, raw, now)
        for a in range(0, length, 200):
            evs = [RawEvent(tid, f"e{k}", raw_event(k)) for k in range(a, min(length, a + 200))]
            svc.record_events(policy, evs, now)


def curve_point(
    db: DatabaseConfig, eng: dict[str, Any], length: int, tickets: int, rounds: int
) -> tuple[float, float, float, float, float]:
    """(batched µs CPU/event, batched events/s, single µs CPU/event, single calls/s,
    floor: µs of a `{ __typename }` round trip)."""
    clock = FrozenClock(T0 + timedelta(days=30))
    with client(db, eng, clock, scheduler=False) as c:
        prefill(c, tickets, length)
        k = length
        b_cpu, b_rate, s_cpu, s_rate, floor = [], [], [], [], []
        for _ in range(rounds):
            events = []
            for j in range(100):  # one call: 100 events spread over the tickets
                events.append(gql_event(f"T{j % tickets}", 0, k + j // tickets))
            k += 100 // tickets + 1
            c0, w0 = time.process_time(), time.perf_counter()
            assert post(c, RECORD_EVENTS, {"e": events})["recordEvents"]["applied"] == 100
            c1, w1 = time.process_time(), time.perf_counter()
            b_cpu.append((c1 - c0) / 100 * 1e6)
            b_rate.append(100 / (w1 - w0))
            c0, w0 = time.process_time(), time.perf_counter()
            for j in range(20):  # single-event calls
                post(c, RECORD_EVENTS, {"e": [gql_event(f"T{j % tickets}", 0, k)]})
                if j % tickets == tickets - 1:
                    k += 1
            k += 1
            c1, w1 = time.process_time(), time.perf_counter()
            s_cpu.append((c1 - c0) / 20 * 1e6)
            s_rate.append(20 / (w1 - w0))
            w0 = time.perf_counter()
            for _ in range(20):
                post(c, "{ __typename }")
            floor.append((time.perf_counter() - w0) / 20 * 1e6)
        med = statistics.median
        return med(b_cpu), med(b_rate), med(s_cpu), med(s_rate), med(floor)


def insert_floor(db: DatabaseConfig, eng: dict[str, Any]) -> float:
    """µs per row of a bare executemany of 100 event rows with the store's driver."""
    clock = FrozenClock(T0 + timedelta(days=30))
    with client(db, eng, clock, scheduler=False) as c:
        prefill(c, 1, 0)
        s: Sql = c.app_state.runtime.store.sql
        out = []
        for r in range(7):
            rows = [
                ("T0", f"f{r}-{i}", s.t(T0), "message", Sql.j({"by": "agent"}), s.t(T0))
                for i in range(100)
            ]
            w0 = time.perf_counter()
            with s.write() as cur:
                s.executemany(
                    cur,
                    'INSERT INTO "event" ("ticket_id", "event_id", "at", "type", "payload", '
                    '"recorded_at") VALUES (?,?,?,?,?,?)',
                    rows,
                )
            out.append((time.perf_counter() - w0) / 100 * 1e6)
        return statistics.median(out)


def pg_config() -> DatabaseConfig | None:
    try:
        import psycopg2

        name = "bench_" + uuid.uuid4().hex[:8]
        admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="test")
        admin.autocommit = True
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        return parse_database_url(f"postgresql://postgres@127.0.0.1:5432/{name}")
    except Exception:
        return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("--lengths", default="5,15,50,200,1000")
    a = ap.parse_args()
    lengths = [int(x) for x in a.lengths.split(",")]
    rounds = 3 if a.quick else 7
    tickets = 10 if a.quick else 25
    _, eng = engine()
    dbs = []
    tmp = tempfile.mkdtemp()
    dbs.append(("sqlite", lambda n: parse_database_url(f"sqlite:///{tmp}/b{n}.db")))
    if a.pg:
        dbs.append(("postgres", lambda n: pg_config()))
    for name, make in dbs:
        floor_row = insert_floor(make("floor"), eng)
        print(f"\n{name}: floor insert {floor_row:.0f} µs/row (bare executemany, same driver)")
        print(
            f"{'events/ticket':>13} {'batch µs CPU/ev':>16} {'batch ev/s':>11} "
            f"{'single µs CPU':>14} {'single calls/s':>15} {'× floor rt':>10}"
        )
        base = None
        for n in lengths:
            db = make(n)
            if db is None:
                print("  (no database)")
                break
            bc, br, sc, sr, fl = curve_point(db, eng, n, tickets, rounds)
            base = base or bc
            print(
                f"{n:>13} {bc:>16.0f} {br:>11.0f} {sc:>14.0f} {sr:>15.0f} "
                f"{1e6 / sr / fl:>10.1f}   curve {bc / base:.2f}× of 5"
            )


if __name__ == "__main__":
    main()
