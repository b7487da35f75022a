"""`slarules load` benchmark (figures, not assertions): `python bench/bench_load.py [--quick]`.

Writes a JSON Lines export of 10,000 tickets with 10 events each (100,000
events; `--quick`: 1,000 tickets), loads it with `load --db` into a fresh
SQLite database (and PostgreSQL when one answers on 127.0.0.1:5432) through
the in-process app, and prints the wall time, events/s, and the ratio to the
floor: reading and parsing the same file without sending anything (the
median of 3 reads, in this process). Then loads it again (everything is
there already: the idempotent re-run).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slarules.clock import FrozenClock  # noqa: E402
from slarules.loading.inprocess import database_sink  # noqa: E402
from slarules.loading.loader import Loader, Summary  # noqa: E402
from slarules.loading.sources import read_items  # noqa: E402
from slarules.settings import DatabaseConfig, Settings, parse_database_url  # noqa: E402

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
EVENTS_PER_TICKET = 10


def write_export(path: Path, tickets: int) -> int:
    rnd = random.Random(13)
    events = 0
    with path.open("w", encoding="utf-8") as f:
        for i in range(tickets):
            created = T0 + timedelta(minutes=7 * i)
            tid = f"B-{i}"
            fields = {
                "status": "new",
                "source": rnd.choice(["email", "chat", "phone"]),
                "priority": rnd.choice(["low", "medium", "high", "critical"]),
                "department": rnd.choice(["support", "billing"]),
            }
            if rnd.random() < 0.1:
                fields["tags"] = ["urgent"]
            ticket = {"id": tid, "createdAt": created.isoformat(), "fields": fields}
            f.write(json.dumps(ticket) + "\n")
            at = created
            for n in range(EVENTS_PER_TICKET):
                at += timedelta(minutes=rnd.randint(5, 240))
                e: dict[str, object] = {
                    "eventId": f"{n + 1}",
                    "ticketId": tid,
                    "at": at.isoformat(),
                }
                if n == EVENTS_PER_TICKET - 1:
                    e["status"] = "solved"
                elif n % 4 == 3:
                    e["status"] = rnd.choice(["open", "pending", "open"])
                else:
                    by = "AGENT" if n % 2 == 0 else "CUSTOMER"
                    e["message"] = {"by": by, "text": f"message {n} on {tid}"}
                f.write(json.dumps(e) + "\n")
                events += 1
    return events


def floor(path: Path) -> float:
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        for _item in read_items(path):
            pass
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def load(path: Path, database: DatabaseConfig, now: datetime) -> Summary:
    settings = replace(Settings(), database=database)
    sink = database_sink(settings, FrozenClock(now))
    try:
        return Loader(sink).run(read_items(path))
    finally:
        sink.close()


def pg_database() -> DatabaseConfig | None:
    try:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="test", connect_timeout=3)
    except Exception:
        return None
    name = f"slarules_bench_{uuid.uuid4().hex[:10]}"
    conn.autocommit = True
    conn.cursor().execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return parse_database_url(f"postgresql://postgres@127.0.0.1:5432/{name}")


def drop_pg(db: DatabaseConfig) -> None:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="test")
    conn.autocommit = True
    conn.cursor().execute(f'DROP DATABASE IF EXISTS "{db.database}" WITH (FORCE)')
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="1,000 tickets (10,000 events)")
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    tickets = 1_000 if args.quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.jsonl"
        events = write_export(path, tickets)
        now = T0 + timedelta(minutes=7 * tickets + 60 * 24 * 30)
        base = floor(path)
        print(f"export: {tickets:,} tickets, {events:,} events; parse floor {base:.2f}s")
        targets: list[tuple[str, DatabaseConfig]] = [
            ("sqlite", parse_database_url(f"sqlite:///{Path(tmp) / 'bench.db'}"))
        ]
        pg = None if args.no_postgres else pg_database()
        if pg is not None:
            targets.append(("postgres", pg))
        try:
            for name, db in targets:
                for run in ("first load", "re-run"):
                    s = load(path, db, now)
                    rate = events / s.seconds
                    print(
                        f"{name:8} {run:10}: {s.seconds:6.1f}s wall, {rate:8,.0f} events/s, "
                        f"{s.seconds / base:5.0f}x the parse floor; {s.render()}"
                    )
        finally:
            if pg is not None:
                drop_pg(pg)


if __name__ == "__main__":
    main()
