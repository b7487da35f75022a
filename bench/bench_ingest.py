"""Ingest cost curve (figures, not assertions): `python bench/bench_ingest.py [--quick] [--pg]`.

CPU per event and events/s through GraphQL `recordEvents` when tickets already hold
5, 15, 50, 200 and 1,000 events, batched (100 events a call) and single (one a call),
on SQLite (and PostgreSQL with --pg when it answers on 127.0.0.1:5432). Medians of
several rounds, through a real server (uvicorn on loopback, one keep-alive
connection; the client runs in the same process, so CPU figures include it). The
floors are measured in the same run: a bare insert loop of the same event rows with
the same driver (`× insert`), a bare strawberry mutation returning a constant served
the same way (`× bare rt`), and our own `{ __typename }`. `4 clients/s`: single-event
calls posted by four concurrent clients from another process (as a help desk's webhook
senders are), beside the bare mutation posted the same way (`× bare`): the server's
throughput without its clients' CPU in its process. `read ms`: one `ticket(id)` of an
open ticket holding that many events.
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

from bench_service import RECORD_EVENTS, T0, client, drop_pg, engine, fields  # noqa: E402
from serving import BARE_MUTATION, STACK, bare_app, fire, served  # noqa: E402

from slarules.app import create_app  # noqa: E402
from slarules.clock import FrozenClock  # noqa: E402
from slarules.service import RawEvent  # noqa: E402
from slarules.settings import DatabaseConfig, Settings, parse_database_url  # noqa: E402
from slarules.store.sql import Sql  # noqa: E402

SINGLES = 20
CLIENTS = 4  # concurrent single-event clients in another process
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


def prefill(rt: Any, tickets: int, length: int) -> None:
    svc, policy = rt.service, rt.ruleset.policy
    now = T0 + timedelta(days=30)
    for i in range(tickets):
        tid = f"T{i}"
        raw = {"id": tid, "created_at": T0, "fields": fields(i)}
        svc.record_ticket(policy, raw, now)
        for a in range(0, length, 200):
            evs = [RawEvent(tid, f"e{k}", raw_event(k)) for k in range(a, min(length, a + 200))]
            svc.record_events(policy, evs, now)


READ = (
    "query($id: ID!) { ticket(id: $id) { id fields level { name } cycles { metric index state "
    "dueAt elapsedSeconds remainingSeconds timeline { kind at } } "
    "events { eventId at type } evaluations { at levelAfter } } }"
)


def curve_point(
    db: DatabaseConfig, eng: dict[str, Any], length: int, tickets: int, rounds: int
) -> dict[str, float]:
    """Medians through a real server (uvicorn, one keep-alive connection): batched µs CPU
    per event and events/s, single-event calls (µs CPU, calls/s), our `{ __typename }`
    round trip (µs), and reading one open ticket of `length` events (ms)."""
    clock = FrozenClock(T0 + timedelta(days=30))
    app = create_app(Settings(database=db, scheduler=False), clock, **eng)
    with served(app) as c:
        prefill(app.state.runtime, tickets, length)
        k = length
        b_cpu, b_rate, s_cpu, s_rate, floor, read, many = [], [], [], [], [], [], []
        for r in range(rounds + 1):  # the first round warms up
            events = []
            for j in range(100):  # one call: 100 events spread over the tickets
                events.append(gql_event(f"T{j % tickets}", 0, k + j // tickets))
            k += 100 // tickets + 1
            c0, w0 = time.process_time(), time.perf_counter()
            assert c.post(RECORD_EVENTS, {"e": events})["recordEvents"]["applied"] == 100
            c1, w1 = time.process_time(), time.perf_counter()
            b_cpu.append((c1 - c0) / 100 * 1e6)
            b_rate.append(100 / (w1 - w0))
            c0, w0 = time.process_time(), time.perf_counter()
            for j in range(SINGLES):  # single-event calls
                c.post(RECORD_EVENTS, {"e": [gql_event(f"T{j % tickets}", 0, k)]})
                if j % tickets == tickets - 1:
                    k += 1
            k += 1
            c1, w1 = time.process_time(), time.perf_counter()
            s_cpu.append((c1 - c0) / SINGLES * 1e6)
            s_rate.append(SINGLES / (w1 - w0))
            bodies: list[list[dict[str, Any]]] = [[] for _ in range(CLIENTS)]
            for j in range(5 * SINGLES):  # each client owns its tickets: in order per ticket
                t = j % tickets
                e = gql_event(f"T{t}", 0, k + j // tickets)
                bodies[t % CLIENTS].append({"query": RECORD_EVENTS, "variables": {"e": [e]}})
            k += 5 * SINGLES // tickets + 1
            many.append(fire(c.port, bodies))
            w0 = time.perf_counter()
            for _ in range(SINGLES):
                c.post("{ __typename }")
            floor.append((time.perf_counter() - w0) / SINGLES * 1e6)
            w0 = time.perf_counter()
            for _ in range(5):
                c.post(READ, {"id": "T0"})
            read.append((time.perf_counter() - w0) / 5 * 1e3)
            if r == 0:
                for got in (b_cpu, b_rate, s_cpu, s_rate, floor, read, many):
                    got.clear()
    med = statistics.median
    return {
        "b_cpu": med(b_cpu),
        "b_rate": med(b_rate),
        "s_cpu": med(s_cpu),
        "s_rate": med(s_rate),
        "floor": med(floor),
        "read": med(read),
        "many": med(many),
    }


def bare_floor(n: int = 200) -> tuple[float, float]:
    """µs of a bare strawberry mutation round trip returning a constant, served the same
    way; and its calls/s with `CLIENTS` concurrent clients in another process."""
    with served(bare_app()) as c:
        for _ in range(20):
            c.post(BARE_MUTATION, {"e": ["x"]})
        out, many = [], []
        body = {"query": BARE_MUTATION, "variables": {"e": ["x"]}}
        for _ in range(5):
            w0 = time.perf_counter()
            for _ in range(n // 5):
                c.post(BARE_MUTATION, {"e": ["x"]})
            out.append((time.perf_counter() - w0) / (n // 5) * 1e6)
            many.append(fire(c.port, [[body] * (n // CLIENTS) for _ in range(CLIENTS)]))
        return statistics.median(out), statistics.median(many)


def insert_floor(db: DatabaseConfig, eng: dict[str, Any]) -> float:
    """µs per row of a bare executemany of 100 event rows with the store's driver."""
    clock = FrozenClock(T0 + timedelta(days=30))
    with client(db, eng, clock, scheduler=False) as c:
        prefill(c.app_state.runtime, 1, 0)
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
    ap.add_argument(
        "--h11", action="store_true", help="serve with h11 and asyncio (not httptools, uvloop)"
    )
    a = ap.parse_args()
    if a.h11:
        STACK.update(http="h11", loop="asyncio")
    lengths = [int(x) for x in a.lengths.split(",")]
    rounds = 3 if a.quick else 5
    tickets = 10 if a.quick else 25
    _, eng = engine()
    tmp = tempfile.mkdtemp()
    dbs: list[tuple[str, Any]] = [
        ("sqlite", lambda n: parse_database_url(f"sqlite:///{tmp}/b{n}.db"))
    ]
    if a.pg:
        dbs.append(("postgres", lambda n: pg_config()))
    bare, bare_many = bare_floor()
    print(
        f"uvicorn http={STACK['http']} loop={STACK['loop']}; "
        f"bare strawberry mutation round trip (uvicorn, keep-alive): {bare:.0f} µs "
        f"= {1e6 / bare:.0f} calls/s; {bare_many:.0f} calls/s from {CLIENTS} concurrent "
        f"clients in another process; {tickets} tickets, batches of 100 events, "
        f"{SINGLES} single calls a round (client in the server's process), "
        f"{5 * SINGLES} from {CLIENTS} concurrent clients in another process "
        f"(`{CLIENTS} clients/s`), medians of {rounds} rounds"
    )
    header = (
        f"{'db':<8} {'ev/ticket':>9} {'batch µs CPU/ev':>15} {'batch ev/s':>10} "
        f"{'× insert':>8} {'single calls/s':>14} {'single µs CPU':>13} {'× bare rt':>9} "
        f"{f'{CLIENTS} clients/s':>11} {'× bare':>6} "
        f"{'{__typename} µs':>15} {'read ms':>7}  curve"
    )
    lines = []
    for name, make in dbs:
        fdb = make("floor")
        if fdb is None:
            lines.append(f"{name:<8} (no database)")
            continue
        floor_row = insert_floor(fdb, eng)
        _drop(fdb)
        print(f"{name}: floor insert {floor_row:.0f} µs/row (bare executemany, same driver)")
        base = None
        for n in lengths:
            db = make(n)
            try:
                p = curve_point(db, eng, n, tickets, rounds)
            finally:
                _drop(db)
            base = base or p["b_cpu"]
            lines.append(
                f"{name:<8} {n:>9} {p['b_cpu']:>15.0f} {p['b_rate']:>10.0f} "
                f"{1e6 / p['b_rate'] / floor_row:>8.1f} {p['s_rate']:>14.0f} "
                f"{p['s_cpu']:>13.0f} {1e6 / p['s_rate'] / bare:>9.1f} "
                f"{p['many']:>11.0f} {bare_many / p['many']:>6.1f} {p['floor']:>15.0f} "
                f"{p['read']:>7.1f}  {p['b_cpu'] / base:.2f}× of {lengths[0]}"
            )
            print(lines[-1], flush=True)
    print("\n" + header)
    print("\n".join(lines))


def _drop(db: DatabaseConfig) -> None:
    if db.provider == "postgres":
        drop_pg(db)


if __name__ == "__main__":
    main()
