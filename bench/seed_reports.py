"""Seed a store with a year of tickets for the report benchmarks (setup speed, not the API).

`python bench/seed_reports.py sqlite:///tmp/year.db [--tickets 100000] [--open 1000]`

A few hundred template tickets get real histories through `TicketService` (the real
engine on examples/helpdesk): messages back and forth, status changes, solved. Their
stored rows (ticket and cycles) are then cloned in bulk, shifted to a random instant of
the year and given a random department, assignee, priority and source: `executemany` on
SQLite, `COPY` on PostgreSQL. The open tickets of the last days are recorded for real,
so the service measures them as it would in production. Clones carry no events (done
tickets are read as stored).
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slarules.engine.policy import Policy, fold  # noqa: E402
from slarules.runtime import build_ruleset  # noqa: E402
from slarules.service import RawEvent, TicketService  # noqa: E402
from slarules.settings import DatabaseConfig, parse_database_url  # noqa: E402
from slarules.store import Store  # noqa: E402
from slarules.store.database import _raw_connect  # noqa: E402

BASE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)  # the templates' creation
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # the benchmarks' `now`: a year later
YEAR = 365 * 86_400
DEPARTMENTS = ["Billing", "billing", "Support", "Sales", "Ops", "Returns", "Légal", "Straße"]
ASSIGNEES = [f"Agent{i}" for i in range(40)] + ["agent1", "AGENT2"]
PRIORITIES = ["low", "medium", "high", "critical"]
SOURCES = ["email", "chat", "phone", "web", "api"]
TIME_COLUMNS = {
    "created_at",
    "measured_at",
    "due_key",
    "next_at",
    "started_at",
    "stopped_at",
    "due_at",
    "breached_at",
    "breach_at",
}
FMT = "%Y-%m-%d %H:%M:%S"


def policy() -> Policy:
    live, result = build_ruleset(ROOT / "examples" / "helpdesk", NOW)
    if live is None:
        raise SystemExit(f"the bundled rules have errors: {result.diagnostics[0].render()}")
    return live.policy


def ticket_fields(rng: random.Random) -> dict[str, Any]:
    return {
        "status": "new",
        "source": rng.choice(SOURCES),
        "priority": rng.choice(PRIORITIES),
        "tags": ["urgent"] if rng.random() < 0.1 else [],
        "department": rng.choice(DEPARTMENTS),
        "assignee": rng.choice(ASSIGNEES),
    }


def history(
    rng: random.Random, tid: str, at: datetime, solve: bool
) -> tuple[dict[str, Any], list[RawEvent]]:
    """A ticket with 6-10 exchanges (customer message, agent reply, answered), maybe solved."""
    raw = {"id": tid, "created_at": at, "created_by": "customer", "fields": ticket_fields(rng)}
    events, n, t = [], 0, at

    def add(payload: dict[str, Any]) -> None:
        nonlocal n
        n += 1
        events.append(RawEvent(tid, f"{tid}-e{n}", {"at": t, **payload}))

    for k in range(rng.randint(6, 10)):
        if k:
            t += timedelta(minutes=rng.randint(5, 3000))
            add({"type": "message", "by": "customer"})
            add({"type": "status", "status": "open"})
        t += timedelta(minutes=rng.randint(1, 900))
        add({"type": "message", "by": "agent"})
        add({"type": "status", "status": "answered"})
    if solve:
        t += timedelta(minutes=rng.randint(1, 600))
        add({"type": "status", "status": "solved"})
    return raw, events


def record(
    service: TicketService, pol: Policy, items: list[tuple[dict[str, Any], list[RawEvent]]]
) -> None:
    for raw, _events in items:
        service.record_ticket(pol, raw, raw["created_at"])
    batch: list[RawEvent] = []
    for _raw, events in items:
        batch.extend(events)
    batch.sort(key=lambda e: e.raw["at"])
    for i in range(0, len(batch), 200):
        part = batch[i : i + 200]
        service.record_events(pol, part, max(NOW, part[-1].raw["at"]))


def _text(v: Any) -> Any:
    return v.strftime(FMT) if isinstance(v, datetime) else v


def read_rows(store: Store, table: str, where: str) -> tuple[list[str], list[list[Any]]]:
    with store.read() as cur:
        cur.execute(f'SELECT * FROM "{table}" WHERE {where}')
        cols = [d[0] for d in cur.description]
        return cols, [[_text(v) for v in r] for r in cur.fetchall()]


def shift(value: Any, seconds: int) -> Any:
    if value is None or value.startswith("9999-"):
        return value
    return (datetime.strptime(value[:19], FMT) + timedelta(seconds=seconds)).strftime(FMT)


def bulk(store: Store, table: str, cols: Sequence[str], rows: list[list[Any]]) -> None:
    if not rows:
        return
    s = store.sql
    if not s.pg:  # a raw connection, no fsync: a benchmark store, rebuilt at will
        import sqlite3

        assert store.config.filename is not None
        conn = sqlite3.connect(store.config.filename, timeout=60)
        conn.execute("PRAGMA synchronous=OFF")
        marks = ",".join("?" * len(cols))
        names = ",".join(f'"{c}"' for c in cols)
        with conn:
            conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        conn.close()
        return
    with store.write() as cur:
        buf = io.StringIO()
        for r in rows:
            buf.write("\t".join(_copy(v) for v in r))
            buf.write("\n")
        buf.seek(0)
        cur.copy_expert(
            f'COPY "{table}" ({",".join(chr(34) + c + chr(34) for c in cols)}) FROM STDIN', buf
        )


def _copy(v: Any) -> str:
    if v is None:
        return r"\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    if not isinstance(v, str):
        import json

        v = json.dumps(v) if isinstance(v, dict | list) else str(v)
    return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def seed(
    config: DatabaseConfig, tickets: int, open_tickets: int, seed_: int = 18
) -> dict[str, Any]:
    rng = random.Random(seed_)
    pol = policy()
    store = Store.open(config)
    service = TicketService(store)
    started = time.perf_counter()
    templates = [history(rng, f"TPL{i:04}", BASE + timedelta(minutes=i), True) for i in range(300)]
    record(service, pol, templates)
    print(f"templates recorded: {time.perf_counter() - started:.1f} s", flush=True)
    tcols, trows = read_rows(store, "ticket", "\"id\" LIKE 'TPL%'")
    ccols, crows = read_rows(store, "cycle", "\"ticket_id\" LIKE 'TPL%'")
    by_ticket: dict[str, list[list[Any]]] = {}
    for r in crows:
        by_ticket.setdefault(r[ccols.index("ticket_id")], []).append(r)
    ccols_out = [c for c in ccols if c != "id"]
    pick = [ccols.index(c) for c in ccols_out]
    ti = {c: i for i, c in enumerate(tcols)}
    n_clones = tickets - open_tickets - len(trows)
    import json

    batch_t: list[list[Any]] = []
    batch_c: list[list[Any]] = []
    n_cycles = len(crows)
    for i in range(n_clones):
        tpl = trows[i % len(trows)]
        tid = f"C{i:07}"
        secs = rng.randrange(0, YEAR - 40 * 86_400)
        row = list(tpl)
        row[ti["id"]] = tid
        for c in TIME_COLUMNS & set(ti):
            row[ti[c]] = shift(row[ti[c]], secs)
        fields = (
            json.loads(row[ti["fields"]])
            if isinstance(row[ti["fields"]], str)
            else dict(row[ti["fields"]])
        )
        f = ticket_fields(rng)
        for k in ("department", "assignee", "priority", "source"):
            fields[k] = f[k]
            if k in ti:
                row[ti[k]] = f[k]
            if f"{k}_key" in ti:
                row[ti[f"{k}_key"]] = fold(f[k])
        row[ti["fields"]] = json.dumps(fields)
        batch_t.append(row)
        for cr in by_ticket.get(tpl[ti["id"]], []):
            out = [cr[j] for j in pick]
            out[ccols_out.index("ticket_id")] = tid
            for c in TIME_COLUMNS & set(ccols_out):
                k = ccols_out.index(c)
                out[k] = shift(out[k], secs)
            batch_c.append(out)
        if len(batch_c) >= 50_000 or i == n_clones - 1:
            bulk(store, "ticket", tcols, batch_t)
            bulk(store, "cycle", ccols_out, batch_c)
            n_cycles += len(batch_c)
            batch_t, batch_c = [], []
    print(f"clones written: {time.perf_counter() - started:.1f} s", flush=True)
    recent = [
        history(rng, f"O{i:05}", NOW - timedelta(days=10) + timedelta(minutes=13 * i), False)
        for i in range(open_tickets)
    ]
    # only the events before NOW: an open ticket in the middle of its exchanges
    recent = [(raw, [e for e in evs if e.raw["at"] <= NOW]) for raw, evs in recent]
    record(service, pol, recent)
    with store.write() as cur:
        cur.execute("ANALYZE")
    counts = store.tickets.counts()
    store.close()
    if config.provider == "postgres":
        # what autovacuum does to a table of a year's writes: the visibility map lets
        # counts and covering reads take index-only scans (a fresh COPY has none)
        conn = _raw_connect(config)
        conn.autocommit = True
        conn.cursor().execute("VACUUM ANALYZE")
        conn.close()
    return {"seconds": round(time.perf_counter() - started, 1), **counts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url", help="sqlite:///path or postgresql://user@host:port/db")
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--open", type=int, default=1000)
    a = ap.parse_args()
    print(seed(parse_database_url(a.url), a.tickets, a.open))


if __name__ == "__main__":
    main()
