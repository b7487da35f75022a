"""The two SQLite plans of a ticket page give the same pages: the ticket conditions'
few matches sorted (read by rowid through their own index), or the sort index walked.
A page of `level: none` once read every ticket through the due index."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slarules.service import TicketFilter, TicketService
from slarules.settings import parse_database_url
from slarules.store import Store
from tests.service.reports_store import Seeded, random_log_filter, seed


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    path: Path = tmp_path_factory.mktemp("plans") / "store.db"
    store = Store.open(parse_database_url(f"sqlite:///{path}"))
    yield seed(TicketService(store), 3, n=60)
    store.close()


def _walk(s: Seeded, f: TicketFilter, first: int) -> list[str]:
    ids, after = [], None
    while True:
        page = s.service.ticket_page(s.policy, f, first, after, s.now, count=False)[0]
        ids.extend(page.ids)
        if not page.has_next:
            return ids
        after = page.cursors[-1]


def _filters() -> list[TicketFilter]:
    rng = random.Random(11)
    out = [
        TicketFilter(level="none"),
        TicketFilter(has_sla=True, priority="high"),
        TicketFilter(department="billing", state="active", metric="resolution"),
    ]
    for _ in range(12):
        lf = random_log_filter(rng)
        out.append(
            TicketFilter(
                level=lf.level,
                department=lf.department,
                assignee=lf.assignee,
                metric=lf.metric,
                state=lf.state,
                priority=lf.priority,
                source=lf.source,
                has_sla=rng.choice([None, True, False]),
                order_by=rng.choice(["due", "created_at", "department", "id"]),
                descending=rng.random() < 0.5,
            )
        )
    return out


@pytest.mark.parametrize("f", _filters(), ids=lambda f: repr(f)[:60])
def test_both_plans_give_the_same_pages(
    seeded: Seeded, f: TicketFilter, monkeypatch: pytest.MonkeyPatch
) -> None:
    sorted_few = _walk(seeded, f, 3)
    assert sorted_few == list(
        seeded.service.ticket_page(seeded.policy, f, 500, None, seeded.now)[0].ids
    )
    monkeypatch.setattr("slarules.store.queries.FEW_TICKETS", -1)  # always walk
    assert _walk(seeded, f, 3) == sorted_few


def test_a_page_of_few_matches_is_read_through_their_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a large store's statistics (half the tickets share a level), SQLite walked the
    due index for `level: none`, reading every ticket; the page reads its matches by rowid."""
    path = tmp_path / "store.db"
    url = parse_database_url(f"sqlite:///{path}")
    store = Store.open(url)
    s = seed(TicketService(store), 3, n=30)
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("ANALYZE")  # creates sqlite_stat1; then the figures of 100,000 tickets
    conn.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'ticket'")
    conn.executemany(
        "INSERT INTO sqlite_stat1 VALUES ('ticket', ?, ?)",
        [
            (None, "100000"),
            ("ix_ticket_level_id", "100000 50000 1"),
            ("ix_ticket_due_key_id", "100000 2 1"),
            ("sqlite_autoindex_ticket_1", "100000 1"),
        ],
    )
    conn.commit()
    conn.close()
    store = Store.open(url)
    plans: list[str] = []
    sql = store.sql
    real = type(sql).execute

    def spy(this: Any, cur: Any, text: str, params: Any = ()) -> Any:
        got = real(this, cur, text, params)
        if text.startswith('SELECT t."id"'):
            explain = cur.connection.execute("EXPLAIN QUERY PLAN " + sql.q(text), tuple(params))
            plans.extend(str(r[-1]) for r in explain.fetchall())
        return got

    monkeypatch.setattr(type(sql), "execute", spy)
    try:
        service = TicketService(store)
        page = service.ticket_page(s.policy, TicketFilter(level="none"), 50, None, s.now)[0]
    finally:
        store.close()
    assert page.ids
    assert plans and not any("ix_ticket_due_key_id" in p or p == "SCAN t" for p in plans), plans


@pytest.mark.parametrize(
    "f",
    [TicketFilter(department="billing"), TicketFilter(has_sla=True, priority="high")],
    ids=["department", "has_sla and priority"],
)
def test_a_page_of_many_matches_walks_the_due_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, f: TicketFilter
) -> None:
    """Without statistics of the filter's index (migration 0008 made new ones), SQLite
    sorted every match of `department` (20 ms at 100,000 tickets); many matches walk the
    due index, the ticket conditions kept from the index choice."""
    store = Store.open(parse_database_url(f"sqlite:///{tmp_path / 'store.db'}"))
    s = seed(TicketService(store), 3, n=30)
    monkeypatch.setattr("slarules.store.queries.FEW_TICKETS", -1)  # many
    plans: list[str] = []
    sql = store.sql
    real = type(sql).execute

    def spy(this: Any, cur: Any, text: str, params: Any = ()) -> Any:
        got = real(this, cur, text, params)
        if text.startswith('SELECT t."id"') and text.endswith("LIMIT ?"):
            explain = cur.connection.execute("EXPLAIN QUERY PLAN " + sql.q(text), tuple(params))
            plans.extend(str(r[-1]) for r in explain.fetchall())
        return got

    monkeypatch.setattr(type(sql), "execute", spy)
    try:
        TicketService(store).ticket_page(s.policy, f, 50, None, s.now, count=False)
    finally:
        store.close()
    assert plans and all("ix_ticket_due_key_id" in p for p in plans), plans
    assert not any("TEMP B-TREE" in p for p in plans), plans


def test_a_page_of_a_metric_in_an_open_state_reads_the_open_cycles_index_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`metric: RESOLUTION, state: ACTIVE`: the probe counts the active cycles on the state
    index alone (no cycle row: the metric is not asked when the state bounds the count),
    and the page's tickets come from the open cycles' index, which carries the metric."""
    store = Store.open(parse_database_url(f"sqlite:///{tmp_path / 'store.db'}"))
    s = seed(TicketService(store), 3, n=30)
    plans: list[tuple[str, list[str]]] = []
    sql = store.sql
    real = type(sql).execute

    def spy(this: Any, cur: Any, text: str, params: Any = ()) -> Any:
        got = real(this, cur, text, params)
        if 'FROM "cycle" c WHERE' in text and text.startswith("SELECT"):
            explain = cur.connection.execute("EXPLAIN QUERY PLAN " + sql.q(text), tuple(params))
            plans.append((text, [str(r[-1]) for r in explain.fetchall()]))
        return got

    monkeypatch.setattr(type(sql), "execute", spy)
    try:
        f = TicketFilter(metric="resolution", state="active")
        page = TicketService(store).ticket_page(s.policy, f, 50, None, s.now, count=False)[0]
    finally:
        store.close()
    assert page.ids
    probe, listed = plans[0], plans[-1]
    assert "COUNT(*)" in probe[0] and '"metric"' not in probe[0], probe
    assert any("COVERING INDEX ix_cycle_state_breach" in p for p in probe[1]), probe
    assert any("COVERING INDEX ix_cycle_state_breach" in p for p in listed[1]), listed
