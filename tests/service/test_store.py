"""The service over the store (SQLite and PostgreSQL), no HTTP: scheduler seams, re-measure,
concurrency, the outbox, the schema."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from slarules.service import RawEvent, TicketFilter, TicketService
from slarules.settings import DatabaseConfig
from slarules.store import Store
from slarules.store.database import migrate, migrations
from tests.service.rules import T0, make_policy

POLICY = make_policy()


@pytest.fixture
def store(database: DatabaseConfig) -> Iterator[TicketService]:
    s = Store.open(database)
    yield TicketService(s)
    s.close()


def _ticket(svc: TicketService, tid: str, **fields: object) -> None:
    raw = {"id": tid, "created_at": T0, "fields": {"status": "new", **fields}}
    svc.record_ticket(POLICY, raw, T0)


def _status(eid: str, tid: str, at: object, status: str) -> RawEvent:
    return RawEvent(tid, eid, {"at": at, "type": "status", "status": status})


def test_scheduler_seams_use_the_stored_instants(store: TicketService) -> None:
    assert store.next_wakeup() is None
    _ticket(store, "U", tags=["urgent"])  # warn 12:30, due 13:00
    _ticket(store, "S")  # warn 16:00, due 20:00
    assert store.next_wakeup() == T0 + timedelta(minutes=30)
    # a future event (within the allowed clock skew) is a wake-up too: the state changes then
    store.record_events(POLICY, [_status("e", "S", T0 + timedelta(minutes=4), "solved")], T0)
    assert store.next_wakeup() == T0 + timedelta(minutes=4)


def test_remeasure_rewrites_open_tickets_only(store: TicketService) -> None:
    _ticket(store, "U", tags=["urgent"])
    _ticket(store, "D")
    store.record_events(POLICY, [_status("e", "D", T0, "solved")], T0)
    later = T0 + timedelta(hours=2)
    assert store.remeasure(make_policy("v2"), ["U", "D", "missing"], later) == 1
    views = store.views(make_policy("v2"), ["U", "D"], later)
    assert views["U"].ruleset_version == "v2" and views["U"].cycles[0].state == "breached"
    assert views["D"].ruleset_version == "rulesv1"
    # after the re-measure at `later`, the stored state is breached (no scan of the engine)
    page = store.store.queries.tickets(TicketFilter(state="breached"), 10, None, later)
    assert page.ids == ("U",)


def test_concurrent_batches_apply_each_event_once(store: TicketService) -> None:
    _ticket(store, "T")
    events = [_status(f"e{i}", "T", T0 + timedelta(minutes=i), "open") for i in range(20)]
    results = []

    def send(batch: list[RawEvent]) -> None:
        results.append(store.record_events(POLICY, batch, T0 + timedelta(hours=1)))

    threads = [threading.Thread(target=send, args=(events[i::2] + events,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    assert sum(r.applied for r in results) == 20
    assert store.store.tickets.counts()["event"] == 20
    view = store.views(POLICY, ["T"], T0 + timedelta(hours=1))["T"]
    assert [e.event_id for e in view.events] == [f"e{i}" for i in range(20)]
    assert len(view.evaluations) == 21  # creation + every event, from all batches


def test_sqlite_migrations_apply_once(tmp_path: object) -> None:
    from pathlib import Path

    cfg = DatabaseConfig("sqlite", filename=str(Path(str(tmp_path)) / "m.db"))
    every = [v for v, _, _ in migrations("sqlite")]
    assert every == [1, 2, 3, 4, 5, 6, 7, 8, 9]  # 0003 checkpoints, 0004 reports, 0005 credit,
    # 0006 alerts, 0007 evaluation copies, 0008 ticket filter indexes with the id, 0009 the
    # running cycles by start (SQLite)
    assert migrate(cfg) == every
    assert migrate(cfg) == []
    assert Store.open(cfg).ping()


def test_outbox_raises_once_claims_with_a_lease_and_retries(store: TicketService) -> None:
    """The outbox on both databases: raise at the threshold, claim, lease, retry, deliver."""
    outbox = store.store.alerts
    outbox.webhook = True
    _ticket(store, "U", tags=["urgent"])  # warn at 12:30, due 13:00
    assert outbox.list() == [] and store.remeasure_due(POLICY, T0, 10) == 0
    at = T0 + timedelta(minutes=30)
    assert store.remeasure_due(POLICY, at, 10) == 1
    assert store.remeasure_due(POLICY, at, 10) == 0  # next_at moved on
    (row,) = outbox.list()
    assert (row["kind"], row["percent"], row["status"], row["due_at"]) == (
        "warning",
        50.0,
        "pending",
        at,
    )
    (claimed,) = outbox.claim("me", at, lease=30)
    assert claimed.id == row["id"] and claimed.attempts == 1
    assert outbox.claim("other", at + timedelta(seconds=29), lease=30) == []  # leased
    (again,) = outbox.claim("other", at + timedelta(seconds=30), lease=30)  # lease ran out
    assert again.id == row["id"] and again.attempts == 2
    outbox.retry([(row["id"], at + timedelta(minutes=1))])
    assert outbox.next_attempt() == at + timedelta(minutes=1)
    assert outbox.claim("me", at + timedelta(seconds=59), lease=30) == []
    (third,) = outbox.claim("me", at + timedelta(minutes=1), lease=30)
    outbox.delivered([third.id], at + timedelta(minutes=1))
    assert outbox.list()[0]["status"] == "delivered" and outbox.next_attempt() is None
    # re-measuring again never raises it a second time
    store.remeasure(POLICY, ["U"], at + timedelta(minutes=5))
    assert [a["status"] for a in outbox.list()] == ["delivered"]


def test_concurrent_claimers_get_disjoint_alerts(store: TicketService) -> None:
    outbox = store.store.alerts
    outbox.webhook = True
    for i in range(20):
        _ticket(store, f"U{i:02}", tags=["urgent"])
    at = T0 + timedelta(minutes=30)
    assert store.remeasure_due(POLICY, at, 100) == 20
    got: list[list[str]] = [[], [], [], []]

    def claim(k: int) -> None:
        while batch := outbox.claim(f"w{k}", at, lease=60, limit=3):
            got[k].extend(a.id for a in batch)

    threads = [threading.Thread(target=claim, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for g in got for i in g]
    assert len(ids) == 20 and len(set(ids)) == 20


def test_an_alert_too_big_for_notify_is_raised_and_others_too(store: TicketService) -> None:
    """PostgreSQL NOTIFY payloads stop at 8,000 bytes: the notification carries the id."""
    store.store.alerts.webhook = True
    _ticket(store, "BIG", tags=["urgent"], assignee="x" * 9000)
    _ticket(store, "SMALL", tags=["urgent"])
    at = T0 + timedelta(minutes=30)
    assert store.remeasure_due(POLICY, at, 10) == 2
    rows = store.store.alerts.list()
    assert sorted(r["ticket_id"] for r in rows) == ["BIG", "SMALL"]
    payloads = store.store.alerts.payloads([r["id"] for r in rows])
    from slarules.alerts import codec

    big = next(codec.decode(p) for p in payloads.values() if "BIG" in p)
    assert big.assignee == "x" * 9000 and big.kind == "warning"


def test_the_alert_codec_round_trips() -> None:
    from slarules.alerts import codec
    from slarules.engine.alerts import Alert

    a = Alert(
        "a1",
        "breach",
        "T",
        "resolution",
        2,
        T0,
        T0 + timedelta(hours=1),
        "urgent",
        before_seconds=None,
        assignee="ana",
        ruleset_version="v",
    )
    assert codec.decode(codec.encode(a)) == a
    assert codec.decode(codec.to_json(a)) == a


def test_migration_5_credits_old_cycles_to_the_tickets_assignee(tmp_path: object) -> None:
    """Cycle rows written before v5 take the ticket's stored assignee (no replay in SQL)."""
    import sqlite3
    from pathlib import Path

    from slarules.store.database import _statements

    db = Path(str(tmp_path)) / "old.db"
    con = sqlite3.connect(db)
    for v, _, script in migrations("sqlite"):
        if v < 5:
            for stmt in _statements(script):
                con.execute(stmt)
    con.execute(
        'INSERT INTO "ticket" ("id", "created_at", "created_by", "initial_fields", "fields", '
        '"done", "ruleset_version", "measured_at", "due_key", "assignee", "assignee_key") '
        "VALUES ('T', '2026-03-02 12:00:00', 'customer', '{}', '{}', 0, 'v', "
        "'2026-03-02 12:00:00', '9999-12-31 00:00:00', 'Ana', 'ana')"
    )
    con.execute(
        'INSERT INTO "cycle" ("ticket_id", "metric", "idx", "state", "started_at", "target", '
        '"elapsed", "remaining", "measured_at", "ruleset_version", "warnings", "timeline", '
        "\"thresholds\") VALUES ('T', 'resolution', 1, 'met', '2026-03-02 12:00:00', 60, 1, "
        "59, '2026-03-02 12:00:00', 'v', '[]', '[]', '[]')"
    )
    for stmt in _statements(next(s for v, _, s in migrations("sqlite") if v == 5)):
        con.execute(stmt)
    got = con.execute('SELECT "credited_assignee", "credited_assignee_key" FROM "cycle"').fetchall()
    con.close()
    assert got == [("Ana", "ana")]
