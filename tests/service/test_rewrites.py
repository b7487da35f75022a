"""Saving writes only the columns that changed (store/rewrites.py): a single event neither
deletes and inserts the ticket's cycle rows nor sets its ticket row's unchanged indexed
columns, and the rows it leaves are those a from-scratch write leaves."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slarules.service import RawEvent, TicketService
from slarules.service.recording import full_work, history_of
from slarules.settings import DatabaseConfig
from slarules.store import Store
from slarules.store.rewrites import rewrite, same
from tests.service.rules import T0
from tests.service.test_checkpoints import KINDS, NOW, POLICY, raw_event, rows

_ids = itertools.count()


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TicketService]:
    cfg = DatabaseConfig("sqlite", filename=str(tmp_path_factory.mktemp("rw") / "db.sqlite"))
    s = Store.open(cfg)
    yield TicketService(s)
    s.close()


@pytest.fixture
def statements(svc: TicketService, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL texts the store sends from here on."""
    sent: list[str] = []
    sql = svc.store.sql
    execute, executemany = sql.execute, sql.executemany

    def spy(cur: Any, text: str, params: Any = ()) -> Any:
        sent.append(text)
        return execute(cur, text, params)

    def spy_many(cur: Any, text: str, params: Any) -> None:
        if params:
            sent.append(text)
        executemany(cur, text, params)

    monkeypatch.setattr(sql, "execute", spy)
    monkeypatch.setattr(sql, "executemany", spy_many)
    return sent


def _ticket(svc: TicketService) -> str:
    tid = f"T{next(_ids)}"
    svc.record_ticket(POLICY, {"id": tid, "created_at": T0, "fields": {"status": "new"}}, NOW)
    return tid


def test_an_event_sets_only_the_changed_columns(svc: TicketService, statements: list[str]) -> None:
    tid = _ticket(svc)
    svc.record_events(POLICY, [RawEvent(tid, "e1", raw_event(5, "customer"))], NOW)
    statements.clear()
    svc.record_events(POLICY, [RawEvent(tid, "e2", raw_event(9, "agent"))], NOW)
    writes = [t for t in statements if t.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert not any('DELETE FROM "cycle"' in t for t in writes), writes
    ticket_updates = [t for t in writes if t.startswith('UPDATE "ticket"')]
    assert ticket_updates, writes
    for t in ticket_updates:  # (`fields` changes: the example rules keep `updated_at` there)
        for column in ("level", "department_key", "assignee_key", "requester", "done"):
            assert f'"{column}" = ?' not in t, t


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from([0, 5, 40, 300, -20]), st.sampled_from(KINDS)), max_size=10),
    st.lists(st.integers(1, 3), max_size=4),
)
def test_rows_rewritten_in_place_are_those_written_from_scratch(
    svc: TicketService, steps: list[tuple[int, str]], batches: list[int]
) -> None:
    tid = _ticket(svc)
    minute, events = 0, []
    for i, (dm, kind) in enumerate(steps):
        minute = max(0, minute + dm)
        events.append(RawEvent(tid, f"e{i}", raw_event(minute, kind)))
    sizes, i = itertools.cycle(batches or [1]), 0
    while i < len(events):
        n = next(sizes)
        svc.record_events(POLICY, events[i : i + n], NOW)
        i += n
    _whole(svc, tid)  # a whole measurement rewritten over the stored rows
    in_place = rows(svc, tid)
    _whole(svc, tid, scratch=True)
    assert rows(svc, tid) == in_place


def _whole(svc: TicketService, tid: str, scratch: bool = False) -> None:
    """Save the ticket measured from its events (done or not); `scratch`: its cycle rows
    deleted first, so every one is inserted."""
    repo, sql = svc.store.tickets, svc.store.sql
    with svc.store.write() as cur:
        if scratch:
            sql.execute(cur, 'DELETE FROM "cycle" WHERE "ticket_id" = ?', (tid,))
        head = repo.heads(cur, [tid], lock=True)[tid]
        w = full_work(POLICY, history_of(head, repo.events(cur, [tid])[tid]), NOW)
        svc.recorder._persist(cur, POLICY, [w], {tid: head.measured_at}, NOW)


class _Sql:
    """The two calls `rewrite` makes, on a bare sqlite3 connection."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def marks(self, n: int) -> str:
        return ",".join("?" * n)

    def executemany(self, cur: Any, text: str, rows: Any) -> None:
        cur.executemany(text, rows)


def test_rewrite_updates_inserts_and_prunes() -> None:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute('CREATE TABLE "t" ("k" TEXT, "n" INTEGER, "a" TEXT, "b" JSON)')
    conn.executemany(
        'INSERT INTO "t" VALUES (?,?,?,?)',
        [("x", 1, "a1", "[1]"), ("x", 2, "a2", "[2]"), ("x", 3, "a3", "[3]")],
    )
    cols = ("k", "n", "a", "b")
    stored = {r[:2]: r for r in conn.execute('SELECT * FROM "t"').fetchall()}
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    new = [("x", 1, "a1", "[1]"), ("x", 2, "A2", "[2]"), ("x", 4, "a4", "[4]")]
    rewrite(_Sql(conn), conn.cursor(), "t", cols, (0, 1), stored, new, prune=stored)
    conn.set_trace_callback(None)
    assert sorted(conn.execute('SELECT * FROM "t"').fetchall()) == sorted(new)
    updates = [s for s in seen if s.startswith("UPDATE")]  # (the trace binds the values)
    assert updates == ['UPDATE "t" SET "a" = \'A2\' WHERE "k" = \'x\' AND "n" = 2'], seen


@pytest.mark.parametrize(
    ("stored", "new", "equal"),
    [
        (1, True, True),  # a BOOLEAN column reads back 1 for True
        (0, False, True),
        ("2026-03-02 09:00:00", "2026-03-02 09:00:00", True),
        ({"a": [1, 2]}, '{"a":[1,2]}', True),  # PostgreSQL reads JSON back as values
        ({"a": 1}, '{"a":2}', False),
        ("1", 1, False),
        (None, "x", False),
        (float("nan"), float("nan"), False),  # written again: harmless
    ],
)
def test_same(stored: Any, new: Any, equal: bool) -> None:
    assert same(stored, new) is equal
