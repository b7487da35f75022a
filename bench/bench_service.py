"""Service benchmarks (figures, not assertions): `python bench/bench_service.py [--quick]`.

1. Ingest through GraphQL in batches of 100 events: events/s on SQLite (and PostgreSQL
   when one answers on 127.0.0.1:5432, user postgres, database test).
2. `tickets(filter: {state: BREACHED}, first: 50)` over 100,000 stored tickets: ms.
3. `ticket(id)` throughput as a ratio of `{ __typename }` on the same app (the floor).
4. Re-measure of every open ticket after a reload (`bench_remeasure.py`): tickets with
   10–200 events each; serial and in worker processes, reads answering meanwhile.

Ingest goes onto tickets that already hold 10–200 events each (realistic histories).

Uses the real engine and the bundled examples.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from starlette.testclient import TestClient  # noqa: E402

from slarules.app import create_app  # noqa: E402
from slarules.clock import FrozenClock  # noqa: E402
from slarules.runtime import build_ruleset  # noqa: E402
from slarules.settings import DatabaseConfig, Settings, parse_database_url  # noqa: E402
from slarules.store.sql import Sql  # noqa: E402

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
RECORD_EVENTS = "mutation($e: [EventInput!]!) { recordEvents(events: $e) { applied } }"


def engine() -> tuple[str, dict[str, Any]]:
    """The real engine with the bundled rules."""
    live, result = build_ruleset(ROOT / "examples" / "helpdesk", T0)
    if live is None:
        raise SystemExit(f"the bundled rules have errors: {result.diagnostics[0].render()}")
    return "real engine, examples/helpdesk", {"ruleset": live}


@contextmanager
def client(
    db: DatabaseConfig, eng: dict[str, Any], clock: FrozenClock, scheduler: bool = True
) -> Iterator[TestClient]:
    app = create_app(Settings(database=db, scheduler=scheduler), clock, **eng)
    with TestClient(app) as c:
        c.app_state = app.state  # type: ignore[attr-defined]
        yield c


def post(c: TestClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    r = c.post("/graphql", json={"query": query, "variables": variables or {}})
    body = r.json()
    if body.get("errors"):
        raise SystemExit(f"bench query failed: {body['errors'][0]}")
    return body["data"]  # type: ignore[no-any-return]


def fields(i: int) -> dict[str, Any]:
    return {
        "status": "new",
        "source": "email",
        "priority": "high",
        "tags": ["urgent"] if i % 3 == 0 else [],
        "department": f"d{i % 7}",
        "assignee": f"agent{i % 13}",
    }


def bench_ingest(db: DatabaseConfig, eng: dict[str, Any], tickets: int, batches: int) -> float:
    """Batches of 100 events onto tickets that already hold realistic histories: 10 to
    200 events each (log-uniform, as `bench_remeasure.lengths`), so the figure covers
    long conversations, not only fresh tickets."""
    from bench_ingest import raw_event
    from bench_remeasure import lengths

    from slarules.service import RawEvent

    clock = FrozenClock(T0 + timedelta(days=30))
    with client(db, eng, clock) as c:
        rt = c.app_state.runtime  # type: ignore[attr-defined]
        svc, policy = rt.service, rt.ruleset.policy
        sizes = lengths(tickets)
        for i in range(tickets):  # prefill through the service (setup, not measured)
            tid = f"T{i}"
            svc.record_ticket(
                policy, {"id": tid, "created_at": T0, "fields": fields(i)}, clock.now()
            )
            evs = [RawEvent(tid, f"p{k}", raw_event(k)) for k in range(sizes[i])]
            for a in range(0, len(evs), 200):
                svc.record_events(policy, evs[a : a + 200], clock.now(), False)
        nxt = list(sizes)  # each ticket's next event number (its events stay in order)
        elapsed = 0.0
        for b in range(batches):
            events = []
            for k in range(100):
                i = (b * 100 + k) % tickets
                n = nxt[i]
                nxt[i] += 1
                at = (T0 + timedelta(seconds=30 * n)).isoformat()
                ev: dict[str, Any] = {"eventId": f"e{n}", "ticketId": f"T{i}", "at": at}
                if k % 2:
                    ev["message"] = {"by": "AGENT" if k % 4 == 1 else "CUSTOMER"}
                else:
                    ev["status"] = "open" if k % 6 else "pending"
                events.append(ev)
            start = time.perf_counter()
            got = post(c, RECORD_EVENTS, {"e": events})
            elapsed += time.perf_counter() - start
            assert got["recordEvents"]["applied"] == 100
        print(
            f"  ({tickets} tickets of 10–200 events before, median {statistics.median(sizes):.0f};"
            f" up to {max(nxt)} after)"
        )
        return batches * 100 / elapsed


def seed_many(c: TestClient, n: int) -> None:
    """Bulk rows straight through the store's connection (setup speed, not the API)."""
    store = c.app_state.runtime.store  # type: ignore[attr-defined]
    s: Sql = store.sql
    version = c.app_state.runtime.ruleset.policy.version  # type: ignore[attr-defined]
    created = s.t(T0)
    with s.write() as cur:
        trows, crows = [], []
        for i in range(n):
            tid = f"B{i:06}"
            due = T0 + timedelta(minutes=30 + (i % 5000))
            breached = i % 10 == 0
            trows.append(
                (
                    tid,
                    created,
                    "customer",
                    Sql.j(fields(i)),
                    Sql.j(fields(i)),
                    "standard",
                    "default",
                    None,
                    f"d{i % 7}",
                    f"agent{i % 13}",
                    False,
                    version,
                    created,
                    s.t(due),
                    s.t(due),
                )
            )
            crows.append(
                (
                    tid,
                    "resolution",
                    1,
                    "breached" if breached else "active",
                    created,
                    None,
                    s.t(due),
                    s.t(due) if breached else None,
                    None if breached else s.t(due),
                    3600,
                    0,
                    3600,
                    created,
                    version,
                    None if breached else s.t(due),
                    "[]",
                    "[]",
                    "[]",
                    None,  # credited_assignee (and its key): as the store writes an unassigned one
                    None,
                )
            )
        s.executemany(
            cur,
            'INSERT INTO "ticket" ("id", "created_at", "created_by", '
            '"initial_fields", "fields", "level", "decided_by", "requester", '
            '"department_key", "assignee_key", "done", "ruleset_version", "measured_at", '
            '"due_key", "next_at") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
            trows,
        )
        from slarules.store.cycles import CYCLE_INSERT

        s.executemany(cur, CYCLE_INSERT, crows)
    if s.pg:  # fresh statistics, as autovacuum would give a table this size
        with s.write() as cur:
            cur.execute('ANALYZE "ticket"; ANALYZE "cycle"')


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def bench_breached_page(db: DatabaseConfig, eng: dict[str, Any], n: int) -> None:
    clock = FrozenClock(T0 + timedelta(hours=1))  # the ones due in the first 30 min breached too
    # the seeded rows are synthetic: the alert scheduler would re-measure them mid-run
    with client(db, eng, clock, scheduler=False) as c:
        t = time.perf_counter()
        seed_many(c, n)
        print(f"  seeded {n:,} tickets in {time.perf_counter() - t:.1f} s")
        q = (
            "query { tickets(filter: {state: BREACHED}, first: 50) { totalCount "
            "edges { node { id cycles { state dueAt remainingSeconds } } } } }"
        )
        got = post(c, q)["tickets"]
        store = c.app_state.runtime.store  # type: ignore[attr-defined]
        from slarules.store.queries import TicketFilter

        sql_ms = timed(
            lambda: store.queries.tickets(TicketFilter(state="breached"), 50, None, clock.now()), 10
        )
        api_ms = timed(lambda: post(c, q), 10)
        print(
            f"  tickets(BREACHED, first: 50) over {n:,}: {len(got['edges'])} edges of "
            f"{got['totalCount']:,}; GraphQL median {statistics.median(api_ms):.1f} ms, "
            f"of which SQL page+count {statistics.median(sql_ms):.1f} ms"
        )


def bench_ratio(db: DatabaseConfig, eng: dict[str, Any], n: int) -> None:
    """Both queries against one uvicorn server over one keep-alive connection."""
    import http.client
    import json
    import socket
    import threading

    import uvicorn

    clock = FrozenClock(T0 + timedelta(hours=1))
    app = create_app(Settings(database=db), clock, **eng)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    conn = http.client.HTTPConnection("127.0.0.1", port)

    def send(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}})
        conn.request("POST", "/graphql", body, {"Content-Type": "application/json"})
        out: dict[str, Any] = json.loads(conn.getresponse().read())
        if out.get("errors"):
            raise SystemExit(f"bench query failed: {out['errors'][0]}")
        return out

    try:
        send(
            "mutation($t: TicketInput!) { recordTicket(input: $t) { id } }",
            {"t": {"id": "R1", "createdAt": "2026-03-02T12:00:00Z", "fields": fields(0)}},
        )
        typename = "{ __typename }"
        ticket = '{ ticket(id: "R1") { id level { name } cycles { state elapsedSeconds dueAt } } }'
        for q in (typename, ticket):  # warm up
            for _ in range(20):
                send(q)

        def rate(q: str) -> float:
            start = time.perf_counter()
            for _ in range(n):
                send(q)
            return n / (time.perf_counter() - start)

        floor, real = rate(typename), rate(ticket)
        print(
            f"  uvicorn, one connection: {{ __typename }} {floor:,.0f} req/s; "
            f"ticket(id) {real:,.0f} req/s; ratio {real / floor:.2f}"
        )
    finally:
        conn.close()
        server.should_exit = True
        thread.join()


def pg_config() -> DatabaseConfig | None:
    try:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="test", connect_timeout=2)
    except Exception:
        return None
    conn.autocommit = True
    name = f"slarules_bench_{uuid.uuid4().hex[:8]}"
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return DatabaseConfig("postgres", host="127.0.0.1", port=5432, user="postgres", database=name)


def drop_pg(cfg: DatabaseConfig) -> None:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="test")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{cfg.database}" WITH (FORCE)')
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    args = ap.parse_args()
    n_tickets = 10_000 if args.quick else 100_000
    label, eng = engine()
    print(f"slarules service bench ({label})")
    with tempfile.TemporaryDirectory() as d:
        lite = parse_database_url(f"sqlite:///{d}/bench.db")
        rate = bench_ingest(lite, eng, tickets=200, batches=10 if args.quick else 30)
        print(f"  ingest SQLite: {rate:,.0f} events/s (batches of 100 through GraphQL)")
        pg = pg_config()
        if pg is None:
            print("  ingest PostgreSQL: skipped (unreachable on 127.0.0.1:5432)")
        else:
            try:
                rate = bench_ingest(pg, eng, tickets=200, batches=10 if args.quick else 30)
                print(f"  ingest PostgreSQL: {rate:,.0f} events/s")
            finally:
                drop_pg(pg)
        bench_breached_page(parse_database_url(f"sqlite:///{d}/many.db"), eng, n_tickets)
        pg = pg_config()
        if pg is not None:
            try:
                print("  PostgreSQL:")
                bench_breached_page(pg, eng, n_tickets)
            finally:
                drop_pg(pg)
        bench_ratio(parse_database_url(f"sqlite:///{d}/ratio.db"), eng, 300 if args.quick else 1000)
        from bench_remeasure import run as bench_remeasure

        n_open = 2_000 if args.quick else 10_000
        print(f"  re-measure after a reload, {n_open:,} open tickets with events:")
        bench_remeasure(parse_database_url(f"sqlite:///{d}/remeasure.db"), eng, n_open)


if __name__ == "__main__":
    main()
